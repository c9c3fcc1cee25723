package io.ei4j.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ei4j.api.ErrnoException;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiConnectionHandler;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Load with nothing lost. Every message carries {@code {seq, Sender, N}}; each receiver
 * (the Java side here, an Erlang sink process there) checks that every sender's numbers
 * arrive as 1, 2, 3, ...: nothing lost, duplicated or reordered. Heap use is sampled
 * throughout. {@code -Dei4j.load.messages=N} sets the count each way (default 1,000,000; the
 * build passes 250,000, and 1,000,000 with {@code -Pthorough}).
 */
@Timeout(300)
class LoadTest {
  private static final String COOKIE = "load-cookie";
  private static final ErlAtom SEQ = ErlAtom.of("seq");
  private static final ErlAtom SINK_REPORT = ErlAtom.of("sink_report");
  private static final int MESSAGES = Integer.getInteger("ei4j.load.messages", 1_000_000);

  /** Samples the used heap every 20 ms; {@link #peakMiB()} is the highest seen. */
  private static final class HeapSampler implements AutoCloseable {
    private final MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
    private final AtomicLong peak = new AtomicLong();
    private final Thread t;
    private volatile boolean stop;

    HeapSampler() {
      t = new Thread(() -> {
        while (!stop) {
          peak.accumulateAndGet(mem.getHeapMemoryUsage().getUsed(), Math::max);
          try {
            Thread.sleep(20);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "heap-sampler");
      t.setDaemon(true);
      t.start();
    }

    long peakMiB() {
      return peak.get() >> 20;
    }

    @Override
    public void close() {
      stop = true;
    }
  }

  /**
   * Erlang processes flood the Java connection while Java threads flood the Erlang sink;
   * returns a summary line.
   */
  private static String exchange(int erlProcs, int javaThreads, int each) throws Exception {
    int perErl = each / erlProcs;
    int perJava = each / javaThreads;
    long total = (long) perErl * erlProcs;
    long totalBack = (long) perJava * javaThreads;
    System.gc();
    long baseMiB = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20;
    try (EiNode java = ErlangRel.javaNode(COOKIE, 60_000); ErlangPeer erl = ErlangRel.start(COOKIE);
        HeapSampler heap = new HeapSampler()) {
      EiConnection c = java.connect(erl.nodeName(), 10_000);
      long start = System.nanoTime();
      c.regSend(c.self(), "ctl", ErlTuple.of(ErlAtom.of("flood"), c.self(), ErlInteger.of(erlProcs), ErlInteger.of(perErl)));
      ExecutorService senders = Executors.newFixedThreadPool(javaThreads);
      List<Future<?>> sent = new ArrayList<>();
      for (int t = 0; t < javaThreads; t++) {
        ErlInteger id = ErlInteger.of(1_000 + t);
        sent.add(senders.submit(() -> {
          for (int i = 1; i <= perJava; i++) {
            c.regSend(c.self(), "sink", ErlTuple.of(SEQ, id, ErlInteger.of(i)));
          }
          return null;
        }));
      }
      Map<ErlTerm, Long> next = new HashMap<>();
      long received = 0;
      long bad = 0;
      ErlTuple report = null;
      boolean asked = false;
      while (received < total || report == null) {
        if (!asked && sent.stream().allMatch(Future::isDone)) {
          for (Future<?> f : sent) {
            f.get();
          }
          c.regSend(c.self(), "sink", ErlTuple.of(ErlAtom.of("expect"), ErlInteger.of(totalBack), c.self()));
          asked = true;
        }
        EiMessage m;
        try {
          m = c.receive(asked ? 30_000 : 50);
        } catch (ErrnoException timeout) {
          if (asked) {
            fail("stalled: " + received + " of " + total + " received, sink report " + report);
          }
          continue;
        }
        ErlTuple t = (ErlTuple) ((EiMessage.Send) m).message();
        if (SEQ.equals(t.get(0))) {
          long n = ((ErlInteger) t.get(2)).longValue();
          long want = next.getOrDefault(t.get(1), 1L);
          if (n != want) {
            bad++;
          }
          next.put(t.get(1), n + 1);
          received++;
        } else if (SINK_REPORT.equals(t.get(0))) {
          report = t;
        } else {
          fail("unexpected message " + t);
        }
      }
      long ms = (System.nanoTime() - start) / 1_000_000;
      senders.shutdown();
      assertEquals(0, bad, "messages from Erlang lost, duplicated or reordered");
      assertEquals(erlProcs, next.size(), "senders heard from");
      assertEquals(total, received);
      assertEquals(totalBack, ((ErlInteger) report.get(1)).longValue(), "messages the Erlang sink received");
      assertEquals(0, ((ErlInteger) report.get(2)).longValue(), "messages to Erlang lost, duplicated or reordered");
      assertEquals(javaThreads, ((ErlInteger) report.get(3)).longValue(), "Java senders the sink heard from");
      return String.format("%,d erl->java from %d processes and %,d java->erl from %d threads in %d ms (%,d msg/s both ways), heap %d MiB before, peak %d MiB",
          total, erlProcs, totalBack, javaThreads, ms, (total + totalBack) * 1000 / Math.max(1, ms), baseMiB, heap.peakMiB());
    }
  }

  @Test
  void aMillionMessagesEachWayNoneLostDuplicatedOrReordered() throws Exception {
    String line = exchange(1, 1, MESSAGES);
    System.out.println("load: " + line);
  }

  @Test
  void sixtyFourErlangProcessesFloodJavaWhileJavaFloodsBack() throws Exception {
    String line = exchange(64, 4, 64 * 4_000);
    System.out.println("load: " + line);
  }

  /**
   * 200 ei4j clients hold connections to one ei4j node at once and each exchange 50
   * messages with it (echoed from the reader threads through a connection handler).
   */
  @Test
  void twoHundredConcurrentConnectionsToOneNode() throws Exception {
    int clients = 200;
    int each = 50;
    EiConnectionHandler echo = (conn, m) -> {
      if (m instanceof EiMessage.RegSend r) {
        conn.send(conn.self(), r.from(), r.message(), 5_000);
      }
    };
    int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
    System.gc();
    long heapBefore = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20;
    List<EiNode> nodes = new ArrayList<>();
    try (EiNode server = EiNode.builder(ErlangPeer.uniqueName("hub") + "@localhost").cookie(COOKIE)
            .transport(TcpTransport.create()).connectionHandler(echo).build();
        EiListener l = server.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
        HeapSampler heap = new HeapSampler()) {
      InetSocketAddress a = (InetSocketAddress) l.address();
      ExecutorService acceptors = Executors.newFixedThreadPool(4);
      List<Future<EiConnection>> served = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        served.add(acceptors.submit(() -> l.accept(20_000)));
      }
      ExecutorService work = Executors.newFixedThreadPool(16);
      List<Future<EiConnection>> conns = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        EiNode n = EiNode.builder(ErlangPeer.uniqueName("client" + i) + "@localhost").cookie(COOKIE)
            .transport(TcpTransport.create()).build();
        nodes.add(n);
        conns.add(work.submit(() -> n.connect(a, 20_000)));
      }
      List<EiConnection> open = new ArrayList<>();
      for (Future<EiConnection> f : conns) {
        open.add(f.get(60, TimeUnit.SECONDS));
      }
      for (Future<EiConnection> f : served) {
        assertTrue(f.get(60, TimeUnit.SECONDS).isOpen());
      }
      int threadsHeld = ManagementFactory.getThreadMXBean().getThreadCount();
      String serverReader = "ei4j-reader-" + server.nodeName() + "-";
      long serverThreads = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(serverReader)).count();
      long start = System.nanoTime();
      List<Future<?>> exchanges = new ArrayList<>();
      for (EiConnection c : open) {
        exchanges.add(work.submit(() -> {
          for (int i = 1; i <= each; i++) {
            ErlTuple msg = ErlTuple.of(SEQ, ErlInteger.of(i));
            c.regSend(c.self(), "echo", msg);
            EiMessage m = c.receive(20_000);
            assertEquals(msg, ((EiMessage.Send) m).message());
          }
          return null;
        }));
      }
      for (Future<?> f : exchanges) {
        f.get(120, TimeUnit.SECONDS);
      }
      long ms = (System.nanoTime() - start) / 1_000_000;
      for (EiConnection c : open) {
        assertTrue(c.isOpen(), "a connection went down under load: " + c);
      }
      System.out.printf("load: %d concurrent connections, %,d round trips in %d ms; the serving node has %d reader threads; JVM threads %d before, %d while held"
          + " (a reader per connection end and a ticker per client node, all in this JVM); heap %d MiB before, peak %d MiB%n",
          clients, clients * each, ms, serverThreads, threadsBefore, threadsHeld, heapBefore, heap.peakMiB());
      assertEquals(clients, serverThreads, "the serving node's threads: one reader per connection");
      assertTrue(threadsHeld - threadsBefore <= 3 * clients + 64, "threads grew by " + (threadsHeld - threadsBefore));
      work.shutdown();
      acceptors.shutdown();
    } finally {
      for (EiNode n : nodes) {
        n.close();
      }
    }
  }
}
