package io.ei4j.internal.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.ei4j.connect.EiMessage;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTuple;
import org.junit.jupiter.api.Test;

/** The op table's names and the typed views of the operations that arrive as {@link EiMessage.Other}. */
class ControlMessagesTest {
  private static final ErlAtom A = ErlAtom.of("a@localhost");
  private static final ErlPid FROM = ErlPid.of(A, 1, 0, 7);
  private static final ErlRef REF = ErlRef.of(A, 7, 1, 2, 3);

  private static EiMessage.Other other(ErlTuple control, io.ei4j.term.ErlTerm payload) {
    return assertInstanceOf(EiMessage.Other.class, ControlMessages.decode(control, payload));
  }

  @Test
  void everyNumberedOperationHasItsProtocolName() {
    assertEquals("NODE_LINK", ControlMessages.opName(ControlMessages.NODE_LINK));
    assertEquals("SPAWN_REPLY_TT", ControlMessages.opName(32));
    assertEquals("UNLINK_ID_ACK", ControlMessages.opName(36));
    assertEquals("OP_9", ControlMessages.opName(9));
    assertEquals("OP_-1", ControlMessages.opName(-1));
    for (int op : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
        31, 32, 33, 34, 35, 36}) {
      assertEquals(false, ControlMessages.opName(op).startsWith("OP_"), "op " + op);
    }
  }

  @Test
  void aliasSend() {
    ErlTuple c = ErlTuple.of(ErlInteger.of(ControlMessages.ALIAS_SEND), FROM, REF);
    ControlMessages.AliasSend a = ControlMessages.AliasSend.of(other(c, ErlAtom.of("hi")));
    assertEquals(new ControlMessages.AliasSend(FROM, REF, ErlAtom.of("hi")), a);
    assertNull(ControlMessages.AliasSend.of(other(c, null)), "no payload");
    assertNull(ControlMessages.AliasSend.of(other(ErlTuple.of(ErlInteger.of(33), FROM, FROM), ErlAtom.of("hi"))));
  }

  @Test
  void spawnRequestAndItsReply() {
    ErlTuple mfa = ErlTuple.of(ErlAtom.of("erpc"), ErlAtom.of("execute_call"), ErlInteger.of(4));
    ErlList opts = ErlList.of(ErlAtom.of("monitor"));
    ErlList args = ErlList.of(ErlAtom.of("x"));
    ErlTuple c = ErlTuple.of(ErlInteger.of(ControlMessages.SPAWN_REQUEST), REF, FROM, FROM, mfa, opts);
    ControlMessages.SpawnRequest r = ControlMessages.SpawnRequest.of(other(c, args));
    assertEquals(new ControlMessages.SpawnRequest(REF, FROM, FROM, ErlAtom.of("erpc"), ErlAtom.of("execute_call"), opts, args), r);
    ErlTuple tt = ErlTuple.of(ErlInteger.of(ControlMessages.SPAWN_REQUEST_TT), REF, FROM, FROM, mfa, opts, ErlAtom.of("token"));
    assertEquals(r, ControlMessages.SpawnRequest.of(other(tt, args)));
    assertNull(ControlMessages.SpawnRequest.of(other(c, ErlAtom.of("not_a_list"))));

    ErlTuple reply = ControlMessages.spawnReply(REF, FROM, ControlMessages.SPAWN_REPLY_MONITORED, ErlAtom.of("system_limit"));
    assertEquals(ErlTuple.of(ErlInteger.of(31), REF, FROM, ErlInteger.of(2), ErlAtom.of("system_limit")), reply);
    assertEquals(new ControlMessages.SpawnReply(REF, FROM, 2, ErlAtom.of("system_limit")),
        ControlMessages.SpawnReply.of(other(reply, null)));
  }
}
