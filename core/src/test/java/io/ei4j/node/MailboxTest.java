package io.ei4j.node;

import static io.ei4j.term.Terms.atom;
import static io.ei4j.term.Terms.integer;
import static io.ei4j.term.Terms.tuple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.transport.tcp.TcpTransport;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Process semantics between mailboxes of one node (no connection involved). */
class MailboxTest {
  private Node node;

  @BeforeEach
  void start() throws Exception {
    node = Node.builder(io.ei4j.testkit.ErlangPeer.uniqueName("mailbox") + "@localhost").cookie("c").transport(TcpTransport.create()).creation(7).build();
  }

  @AfterEach
  void stop() {
    node.close();
  }

  @Test
  void receiveTimesOutWithNullAndZeroOnlyLooks() throws Exception {
    Mailbox a = node.createMailbox();
    long t0 = System.nanoTime();
    assertNull(a.receive(100));
    assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(90));
    assertNull(a.receive(0));
    a.send(a.pid(), atom("x"));
    assertEquals(atom("x"), a.receive(0));
  }

  /**
   * Senders on several threads, two receivers at once (one selective): nothing lost, nothing
   * twice, every sender's messages in the order it sent them.
   */
  @Test
  void concurrentSendersAndReceiversLoseNothingAndKeepEachSendersOrder() throws Exception {
    int senders = 4;
    int perSender = 20_000;
    Mailbox box = node.createMailbox();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int s = 0; s < senders; s++) {
      int sender = s;
      Thread t = new Thread(() -> {
        try {
          go.await();
          for (int i = 0; i < perSender; i++) {
            box.send(box.pid(), tuple(integer(sender), integer(i)));
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, "sender-" + s);
      t.start();
      threads.add(t);
    }
    // Receiver 1 takes only sender 0's messages; receiver 2 takes whatever comes.
    List<ErlTerm> first = Collections.synchronizedList(new ArrayList<>());
    List<ErlTerm> second = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger total = new AtomicInteger();
    int all = senders * perSender;
    Thread r1 = receiver(box, m -> ((ErlTuple) m).get(0).equals(integer(0)), first, total, all);
    Thread r2 = receiver(box, m -> true, second, total, all);
    go.countDown();
    for (Thread t : threads) {
      t.join(30_000);
    }
    r1.join(30_000);
    r2.join(30_000);
    assertFalse(r1.isAlive() || r2.isAlive(), "receivers still waiting; received " + total.get() + " of " + all);
    assertEquals(all, first.size() + second.size());
    for (ErlTerm m : first) {
      assertEquals(integer(0), ((ErlTuple) m).get(0), "the selective receiver took only what it matched");
    }
    for (List<ErlTerm> got : List.of(first, second)) {
      long[] last = new long[senders];
      Arrays.fill(last, -1);
      for (ErlTerm m : got) {
        ErlTuple t = (ErlTuple) m;
        int sender = (int) ((ErlInteger) t.get(0)).longValue();
        long seq = ((ErlInteger) t.get(1)).longValue();
        assertTrue(seq > last[sender], "sender " + sender + ": " + seq + " after " + last[sender]);
        last[sender] = seq;
      }
    }
    assertEquals(0, box.queued());
  }

  /** A receiver thread that stops once {@code total} reaches {@code all} (polling, so it ends). */
  private static Thread receiver(Mailbox box, Predicate<ErlTerm> match, List<ErlTerm> into, AtomicInteger total, int all) {
    Thread t = new Thread(() -> {
      try {
        while (total.get() < all) {
          ErlTerm m = box.receive(match, 20);
          if (m != null) {
            into.add(m);
            total.incrementAndGet();
          }
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, "receiver");
    t.start();
    return t;
  }

  /**
   * Two mailboxes bounce a message 50,000 times, each receiver waiting without a timeout: a
   * message that does not wake its parked receiver hangs the exchange (and the race between
   * a sender and a receiver about to park is run 100,000 times).
   */
  @Test
  void aReceiverWaitingWithoutATimeoutIsWokenByEveryMessage() throws Exception {
    int rounds = 50_000;
    Mailbox a = node.createMailbox();
    Mailbox b = node.createMailbox();
    CompletableFuture<Integer> echo = CompletableFuture.supplyAsync(() -> {
      try {
        for (int i = 0; i < rounds; i++) {
          b.send(a.pid(), b.receive());
        }
        return rounds;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    CompletableFuture<Integer> ping = CompletableFuture.supplyAsync(() -> {
      try {
        for (int i = 0; i < rounds; i++) {
          a.send(b.pid(), integer(i));
          if (!integer(i).equals(a.receive())) {
            throw new IllegalStateException("round " + i);
          }
        }
        return rounds;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertEquals(rounds, ping.get(60, TimeUnit.SECONDS));
    assertEquals(rounds, echo.get(5, TimeUnit.SECONDS));
  }

  /** With several senders racing for the last places, the queue holds exactly its limit. */
  @Test
  void theQueueLimitIsExactWithConcurrentSenders() throws Exception {
    int limit = 1_000;
    Mailbox box = node.createMailbox().maxQueueLength(limit);
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int s = 0; s < 4; s++) {
      Thread t = new Thread(() -> {
        try {
          go.await();
          for (int i = 0; i < 2_000; i++) {
            box.send(box.pid(), integer(i));
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      t.start();
      threads.add(t);
    }
    go.countDown();
    for (Thread t : threads) {
      t.join(30_000);
    }
    assertEquals(limit, box.queued());
    assertEquals(8_000 - limit, box.droppedMessages());
    for (int i = 0; i < limit; i++) {
      assertNotNull(box.receive(0));
    }
    assertNull(box.receive(0));
    box.send(box.pid(), atom("room again"));
    assertEquals(atom("room again"), box.receive(0));
  }

  /** A receiver parked for ever is woken by a kill, and a receiver that comes later sees the exit at once. */
  @Test
  void aKillWakesAParkedReceiver() throws Exception {
    Mailbox box = node.createMailbox();
    Mailbox killer = node.createMailbox();
    CompletableFuture<Throwable> got = CompletableFuture.supplyAsync(() -> {
      try {
        box.receive();
        return null;
      } catch (Exception e) {
        return e;
      }
    });
    Thread.sleep(50);
    assertFalse(got.isDone());
    killer.exit(box.pid(), atom("kill"));
    assertInstanceOf(ExitException.class, got.get(5, TimeUnit.SECONDS));
    assertThrows(ExitException.class, () -> box.receive(0));
  }

  @Test
  void selectiveReceiveWaitsForAMatchAndKeepsTheRestInOrder() throws Exception {
    Mailbox a = node.createMailbox();
    Mailbox b = node.createMailbox();
    CompletableFuture<ErlTerm> got = CompletableFuture.supplyAsync(() -> {
      try {
        return a.receive(m -> m.equals(atom("wanted")), 5_000);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    for (int i = 0; i < 5; i++) {
      b.send(a.pid(), integer(i));
    }
    Thread.sleep(50);
    assertFalse(got.isDone());
    b.send(a.pid(), atom("wanted"));
    assertEquals(atom("wanted"), got.get(5, TimeUnit.SECONDS));
    for (int i = 0; i < 5; i++) {
      assertEquals(integer(i), a.receive(0));
    }
  }

  @Test
  void namesAreUniqueAndFreedOnClose() {
    Mailbox a = node.createMailbox("svc");
    assertSame(a, node.whereis("svc"));
    assertThrows(IllegalStateException.class, () -> node.createMailbox("svc"));
    a.close();
    assertNull(node.whereis("svc"));
    Mailbox b = node.createMailbox("svc");
    assertEquals("svc", b.name());
  }

  @Test
  void exitSignalsFollowErlangRules() throws Exception {
    Mailbox trapper = node.createMailbox();
    trapper.trapExits(true);
    Mailbox plain = node.createMailbox();
    Mailbox killer = node.createMailbox();

    killer.exit(trapper.pid(), atom("normal"));
    assertEquals(tuple(atom("EXIT"), killer.pid(), atom("normal")), trapper.receive(1_000));
    killer.exit(trapper.pid(), atom("shutdown"));
    assertEquals(tuple(atom("EXIT"), killer.pid(), atom("shutdown")), trapper.receive(1_000));
    killer.exit(plain.pid(), atom("normal"));
    assertFalse(plain.isClosed(), "normal is ignored without trap_exit");

    trapper.link(plain.pid());
    killer.exit(plain.pid(), atom("kill"));
    assertEquals(atom("killed"), assertThrows(ExitException.class, () -> plain.receive(0)).reason());
    assertEquals(tuple(atom("EXIT"), plain.pid(), atom("killed")), trapper.receive(1_000), "linked processes see killed");

    killer.exit(trapper.pid(), atom("kill"));
    assertEquals(atom("killed"), assertThrows(ExitException.class, () -> trapper.receive(0)).reason(), "kill is untrappable");
    assertThrows(IllegalStateException.class, () -> trapper.link(killer.pid()));
  }

  @Test
  void monitorsAndDemonitorFlush() throws Exception {
    Mailbox watcher = node.createMailbox();
    Mailbox target = node.createMailbox("target");
    ErlRef byPid = watcher.monitor(target.pid());
    ErlRef byName = watcher.monitor("target", node.nodeName());
    ErlRef dropped = watcher.monitor(target.pid());
    watcher.demonitor(dropped);
    target.close(atom("done"));
    ErlTerm first = watcher.receive(1_000);
    ErlTerm second = watcher.receive(1_000);
    assertTrue(first.equals(tuple(atom("DOWN"), byPid, atom("process"), target.pid(), atom("done")))
        || second.equals(tuple(atom("DOWN"), byPid, atom("process"), target.pid(), atom("done"))), first + " / " + second);
    ErlTerm named = tuple(atom("DOWN"), byName, atom("process"), tuple(atom("target"), atom(node.nodeName())), atom("done"));
    assertTrue(first.equals(named) || second.equals(named), first + " / " + second);
    assertNull(watcher.receive(50), "no DOWN for a removed monitor");

    Mailbox t2 = node.createMailbox();
    ErlRef r = watcher.monitor(t2.pid());
    t2.close();
    watcher.demonitorFlush(r);
    assertNull(watcher.receive(50), "flush removed the queued DOWN");
  }

  @Test
  void aliasesDeliverUntilDeactivated() throws Exception {
    Mailbox a = node.createMailbox();
    Mailbox b = node.createMailbox();
    ErlRef alias = a.createAlias();
    b.sendAlias(alias, atom("one"));
    assertEquals(atom("one"), a.receive(1_000));
    assertTrue(a.deactivateAlias(alias));
    assertFalse(a.deactivateAlias(alias));
    b.sendAlias(alias, atom("two"));
    assertNull(a.receive(50));
  }

  @Test
  void closingTheNodeEndsBlockedReceivers() throws Exception {
    Mailbox a = node.createMailbox();
    CompletableFuture<Throwable> failure = CompletableFuture.supplyAsync(() -> {
      try {
        a.receive();
        return null;
      } catch (Exception e) {
        return e;
      }
    });
    Thread.sleep(50);
    node.close();
    Throwable t = failure.get(5, TimeUnit.SECONDS);
    assertTrue(t instanceof ExitException, String.valueOf(t));
    assertEquals(atom("noconnection"), ((ExitException) t).reason());
    assertThrows(IllegalStateException.class, node::createMailbox);
  }
}
