package io.ei4j.node;

import static io.ei4j.node.NodeTesting.expect;
import static io.ei4j.node.NodeTesting.tagged;
import static io.ei4j.term.Terms.atom;
import static io.ei4j.term.Terms.integer;
import static io.ei4j.term.Terms.tuple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.ei4j.term.ErlRef;
import io.ei4j.testkit.ErlangPeer;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Two ei4j nodes over real TCP and the system EPMD: simultaneous connects settle on one
 * connection, and links, monitors and gen_server calls work between Java processes on
 * different nodes as between Erlang ones.
 */
// Timing-sensitive: runs in core's "alone" execution, with no other test JVM beside it.
@Tag("alone")
class JavaNodesTest {
  private static final String COOKIE = "java_nodes_cookie";

  @Test
  void simultaneousConnectsSettleOnOneConnection() throws Exception {
    ErlangPeer.ensureEpmd();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (Node a = NodeTesting.startNode(COOKIE); Node b = NodeTesting.startNode(COOKIE)) {
      AtomicInteger upsA = new AtomicInteger();
      AtomicInteger upsB = new AtomicInteger();
      a.addNodeListener(new NodeListener() {
        @Override
        public void nodeUp(String n) {
          upsA.incrementAndGet();
        }
      });
      b.addNodeListener(new NodeListener() {
        @Override
        public void nodeUp(String n) {
          upsB.incrementAndGet();
        }
      });
      Mailbox boxA = a.createMailbox();
      Mailbox boxB = b.createMailbox();
      int rounds = 15;
      for (int round = 0; round < rounds; round++) {
        CyclicBarrier go = new CyclicBarrier(2);
        int r = round;
        Future<?> fa = pool.submit(() -> {
          go.await();
          boxA.send(boxB.pid(), tuple(atom("from_a"), integer(r)));
          return null;
        });
        Future<?> fb = pool.submit(() -> {
          go.await();
          boxB.send(boxA.pid(), tuple(atom("from_b"), integer(r)));
          return null;
        });
        fa.get(15, TimeUnit.SECONDS);
        fb.get(15, TimeUnit.SECONDS);
        assertEquals(tuple(atom("from_b"), integer(r)), expect(boxA, m -> true, 5_000, "message from b, round " + r));
        assertEquals(tuple(atom("from_a"), integer(r)), expect(boxB, m -> true, 5_000, "message from a, round " + r));
        // The accepting side installs its connection right after the handshake, possibly
        // after the first messages went through: wait for it.
        int expectedUps = r + 1;
        await(() -> a.connectedNodes().equals(Set.of(b.nodeName())) && b.connectedNodes().equals(Set.of(a.nodeName()))
            && upsA.get() >= expectedUps && upsB.get() >= expectedUps, "round " + r + ": one connection each way");
        assertEquals(expectedUps, upsA.get(), "round " + r + ": a second connection came up on a");
        assertEquals(expectedUps, upsB.get(), "round " + r + ": a second connection came up on b");
        a.disconnect(b.nodeName());
        await(() -> a.connectedNodes().isEmpty() && b.connectedNodes().isEmpty(), "round " + r + ": still connected");
      }
      // One connection per round on each side: never a second one that replaced the first.
      assertEquals(rounds, upsA.get());
      assertEquals(rounds, upsB.get());
    } finally {
      pool.shutdownNow();
    }
  }

  private static void await(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what);
      }
      Thread.sleep(2);
    }
  }

  @Test
  void linksMonitorsAndCallsBetweenJavaNodes() throws Exception {
    ErlangPeer.ensureEpmd();
    try (Node a = NodeTesting.startNode(COOKIE); Node b = NodeTesting.startNode(COOKIE)) {
      Mailbox client = a.createMailbox();
      client.trapExits(true);
      Mailbox server = b.createMailbox("jserver");
      client.link(server.pid());
      ErlRef byName = client.monitor("jserver", b.nodeName());
      Thread t = new Thread(() -> {
        try {
          GenServer.Call call = GenServer.Call.of(server.receive(5_000)).orElseThrow();
          call.reply(server, tuple(atom("echo"), call.request()));
          server.receive(5_000);
        } catch (ExitException e) {
          // killed by the client below
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      });
      t.start();
      assertEquals(tuple(atom("echo"), atom("ping")), GenServer.call(client, "jserver", b.nodeName(), atom("ping"), 5_000));
      client.exit(server.pid(), atom("stop_now"));
      assertEquals(tuple(atom("EXIT"), server.pid(), atom("stop_now")), expect(client, m -> tagged(m, "EXIT"), 5_000, "EXIT"));
      assertEquals(tuple(atom("DOWN"), byName, atom("process"), tuple(atom("jserver"), atom(b.nodeName())), atom("stop_now")),
          expect(client, m -> tagged(m, "DOWN"), 5_000, "DOWN"));
      t.join(5_000);
      assertFalse(t.isAlive());
      CallException noproc = assertThrows(CallException.class, () -> GenServer.call(client, "jserver", b.nodeName(), atom("ping"), 5_000));
      assertEquals(atom("noproc"), noproc.reason());
    }
  }
}
