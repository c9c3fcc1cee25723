package io.ei4j.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.ei4j.connect.EiMessage;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.Terms;
import org.junit.jupiter.api.Test;

/** The trace's lines: operation names, control tuples rebuilt from decoded messages, Erlang syntax. */
class TraceTest {
  private static final ErlAtom A = ErlAtom.of("a@localhost");
  private static final ErlPid FROM = ErlPid.of(A, 1, 0, 7);
  private static final ErlPid TO = ErlPid.of(ErlAtom.of("b@localhost"), 2, 0, 8);

  @Test
  void receivedMessagesAreShownAsTheirControlTupleAndPayload() {
    String from = Terms.print(FROM);
    String to = Terms.print(TO);
    assertEquals("SEND {2,'',"  + to + "} {hello,<<\"x\">>}",
        Trace.message(new EiMessage.Send(null, TO, ErlTuple.of(ErlAtom.of("hello"), ErlBinary.of(new byte[] {'x'})))));
    assertEquals("SEND_SENDER {22," + from + "," + to + "} ok", Trace.message(new EiMessage.Send(FROM, TO, ErlAtom.of("ok"))));
    assertEquals("REG_SEND {6," + from + ",'',relay} [1,2]",
        Trace.message(new EiMessage.RegSend(FROM, ErlAtom.of("relay"), Terms.list(1, 2))));
    assertEquals("LINK {1," + from + "," + to + "}", Trace.message(new EiMessage.Link(FROM, TO)));
    assertEquals("UNLINK_ID {35,9," + from + "," + to + "}", Trace.message(new EiMessage.Unlink(FROM, TO, 9)));
    assertEquals("EXIT2 {8," + from + "," + to + ",kill}", Trace.message(new EiMessage.Exit2(FROM, TO, ErlAtom.of("kill"))));
    ErlRef ref = ErlRef.of(A, 7, 1, 2, 3);
    assertEquals("MONITOR_P {19," + from + ",net_kernel," + Terms.print(ref) + "}",
        Trace.message(new EiMessage.Monitor(FROM, ErlAtom.of("net_kernel"), ref)));
    assertEquals("SPAWN_REPLY {31," + Terms.print(ref) + "," + to + ",0,system_limit}",
        Trace.message(new EiMessage.Other(ErlTuple.of(ErlInteger.of(31), ref, TO, ErlInteger.of(0), ErlAtom.of("system_limit")), null)));
  }

  @Test
  void operationNames() {
    assertEquals("PAYLOAD_EXIT", Trace.opName(ErlTuple.of(ErlInteger.of(24))));
    assertEquals("ALIAS_SEND", Trace.opName(ErlTuple.of(ErlInteger.of(33))));
    assertEquals("OP_99", Trace.opName(ErlTuple.of(ErlInteger.of(99))));
    assertEquals("UNKNOWN", Trace.opName(ErlTuple.of(ErlAtom.of("x"))));
    assertEquals("UNKNOWN", Trace.opName(ErlTuple.of()));
  }

  @Test
  void offByDefault() {
    // core's tests run slf4j-simple at its default level (info): the trace is off.
    assertFalse(Trace.on());
  }
}
