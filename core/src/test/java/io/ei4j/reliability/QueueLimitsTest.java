package io.ei4j.reliability;

import static io.ei4j.reliability.Conditions.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.ErrnoException;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.node.Mailbox;
import io.ei4j.node.Node;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Queue limits against a real {@code erl} that floods: a full {@link Mailbox} or
 * {@link EiConnection} queue drops the newest messages and counts them, keeps the oldest in
 * order, and disturbs nothing else (the connection, other mailboxes, rpc, monitors).
 */
@Timeout(90)
class QueueLimitsTest {
  private static final String COOKIE = "queues" + Long.toHexString(new SecureRandom().nextLong());
  private static final ErlAtom SEQ = ErlAtom.of("seq");

  private static ErlTuple flood(ErlTerm to, int count) {
    return ErlTuple.of(ErlAtom.of("flood"), to, ErlInteger.of(1), ErlInteger.of(count));
  }

  @Test
  void aFullMailboxDropsTheNewestAndDisturbsNothingElse() throws Exception {
    int limit = 100;
    int sent = 1_000;
    ErlangPeer erl = ErlangRel.start(COOKIE);
    try (Node node = Node.builder(ErlangPeer.uniqueName("queues") + "@" + ErlangPeer.shortHostName()).cookie(COOKIE)
        .transport(TcpTransport.create()).maxQueueLength(limit).build()) {
      Mailbox box = node.createMailbox();
      Mailbox other = node.createMailbox();
      assertEquals(limit, box.maxQueueLength());
      ErlRef mon = box.monitor("sink", erl.nodeName());
      box.send("ctl", erl.nodeName(), flood(box.pid(), sent));
      await(() -> box.droppedMessages() == sent - limit, 20_000, (sent - limit) + " dropped, got " + box.droppedMessages());
      assertEquals(limit, box.queued());

      // The same connection still carries everything else, to another mailbox.
      other.send("rex", erl.nodeName(), ErlTuple.of(other.pid(),
          ErlTuple.of(ErlAtom.of("call"), ErlAtom.of("erlang"), ErlAtom.of("node"), ErlList.NIL, ErlAtom.of("user"))));
      ErlTerm reply = other.receive(10_000);
      assertEquals(ErlTuple.of(ErlAtom.of("rex"), ErlAtom.of(erl.nodeName())), reply);

      // A monitor's 'DOWN' is never dropped, even into a full queue.
      erl.close();
      ErlTerm down = box.receive(m -> m instanceof ErlTuple t && t.arity() == 5 && ErlAtom.of("DOWN").equals(t.get(0)), 15_000);
      assertNotNull(down, "no 'DOWN' in a full mailbox");
      assertEquals(mon, ((ErlTuple) down).get(1));
      assertEquals(ErlAtom.of("noconnection"), ((ErlTuple) down).get(4));

      // What was kept is the oldest, in order.
      for (int i = 1; i <= limit; i++) {
        assertEquals(ErlTuple.of(SEQ, ErlInteger.of(1), ErlInteger.of(i)), box.receive(0));
      }
      assertNull(box.receive(0));
      assertEquals(sent - limit, box.droppedMessages());
      System.out.printf("queue limits: mailbox limit %d, %d sent by erl, %d kept, %d dropped%n", limit, sent, limit, box.droppedMessages());

      // The limit applies to local sends too, and per mailbox.
      box.maxQueueLength(1);
      other.send(box.pid(), ErlAtom.of("first"));
      other.send(box.pid(), ErlAtom.of("second"));
      assertEquals(sent - limit + 1, box.droppedMessages());
      assertEquals(ErlAtom.of("first"), box.receive(0));
      assertEquals(0, other.droppedMessages());
      assertThrows(IllegalArgumentException.class, () -> box.maxQueueLength(0));
    } finally {
      erl.close();
    }
  }

  @Test
  void aFullConnectionQueueDropsTheNewestAndKeepsTheConnection() throws Exception {
    int limit = 10;
    int sent = 50;
    try (ErlangPeer erl = ErlangRel.start(COOKIE);
        EiNode node = EiNode.builder(ErlangPeer.uniqueName("inbox") + "@" + ErlangPeer.shortHostName()).cookie(COOKIE)
            .transport(TcpTransport.create()).maxQueueLength(limit).build();
        EiConnection c = node.connect(erl.nodeName(), 10_000)) {
      c.regSend(c.self(), "ctl", flood(c.self(), sent));
      await(() -> c.droppedMessages() == sent - limit, 20_000, (sent - limit) + " dropped, got " + c.droppedMessages());
      for (int i = 1; i <= limit; i++) {
        EiMessage.Send m = (EiMessage.Send) c.receive(1_000);
        assertEquals(ErlTuple.of(SEQ, ErlInteger.of(1), ErlInteger.of(i)), m.message());
      }
      assertThrows(ErrnoException.class, () -> c.receive(100));
      // rpc replies do not go through the queue, and the connection is up.
      assertEquals(ErlAtom.of(erl.nodeName()), c.rpc("erlang", "node", ErlList.NIL, 10_000));
      assertTrue(c.isOpen());
    }
    assertThrows(IllegalArgumentException.class, () -> EiNode.builder("a@b").maxQueueLength(0));
  }
}
