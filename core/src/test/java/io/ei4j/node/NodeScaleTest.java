package io.ei4j.node;

import static io.ei4j.node.NodeTesting.expect;
import static io.ei4j.node.NodeTesting.rpc;
import static io.ei4j.node.NodeTesting.tagged;
import static io.ei4j.term.Terms.atom;
import static io.ei4j.term.Terms.integer;
import static io.ei4j.term.Terms.tuple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** 1,000 Java mailboxes exchanging messages with 1,000 Erlang processes at once. */
class NodeScaleTest {
  private static final String COOKIE = "node_scale_cookie";
  private static final int N = 1_000;
  private static final int THREADS = 8;

  @Test
  void thousandMailboxesTalkToThousandErlangProcesses() throws Exception {
    try (ErlangPeer erl = NodeTesting.startPeer(NodeTesting.compileModules(), COOKIE); Node node = NodeTesting.startNode(COOKIE)) {
      List<Mailbox> boxes = new ArrayList<>();
      List<ErlTerm> pids = new ArrayList<>();
      for (int i = 0; i < N; i++) {
        Mailbox b = node.createMailbox();
        boxes.add(b);
        pids.add(b.pid());
      }
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      try {
        List<Future<Integer>> served = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          int first = t;
          served.add(pool.submit(() -> {
            int count = 0;
            for (int i = first; i < N; i += THREADS) {
              Mailbox b = boxes.get(i);
              ErlTuple m = (ErlTuple) b.receive(30_000);
              assertNotNull(m, "mailbox " + i + " got nothing");
              assertEquals(integer(i + 1), m.get(1));
              b.send((ErlPid) m.get(0), tuple(atom("pong"), m.get(1)));
              count++;
            }
            return count;
          }));
        }
        Mailbox ctl = node.createMailbox();
        long start = System.nanoTime();
        assertEquals(atom("ok"), rpc(ctl, erl.nodeName(), "ei4j_node_peer", "swarm", ErlList.of(pids), ctl.pid(), integer(30_000)));
        assertEquals(tuple(atom("swarm_done"), integer(N)), expect(ctl, m -> tagged(m, "swarm_done"), 30_000, "swarm_done"));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        int total = 0;
        for (Future<Integer> f : served) {
          total += f.get(30, TimeUnit.SECONDS);
        }
        assertEquals(N, total);
        System.err.println("NodeScaleTest: " + N + " round trips between " + N + " Java mailboxes and " + N + " Erlang processes in " + millis + " ms");
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
