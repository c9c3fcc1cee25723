package io.ei4j.node;

import static io.ei4j.node.NodeTesting.rpc;
import static io.ei4j.term.Terms.atom;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ei4j.epmd.EpmdClient;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fail-stop against real Erlang nodes (issue 18): a real Error on a thread the library owns
 * (a StackOverflowError in a registered function or a node listener, an OutOfMemoryError
 * from a flood into a small heap) closes the whole node in the defined way: the Erlang
 * side gets {@code nodedown} at once, EPMD no longer lists the node, the node reports why.
 * No test hook in production code: the Errors are real.
 */
class FailStopInteropTest {
  private static final String COOKIE = "fail_stop_cookie";
  private static Path ebin;

  @BeforeAll
  static void compile() throws IOException {
    ebin = NodeTesting.compileModules();
    ErlangPeer.compileResource(FailStopInteropTest.class, "ei4j_failstop_peer.erl", ebin);
  }

  private static int recurse(int n) {
    return recurse(n + 1) + 1;
  }

  private static String alive(String nodeName) {
    return nodeName.substring(0, nodeName.indexOf('@'));
  }

  /** Waits until EPMD no longer lists {@code alive}; fails the test after 5 s. */
  private static void awaitUnpublished(String alive) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (EpmdClient.local().portPlease(alive).isPresent()) {
      if (System.nanoTime() > end) {
        fail(alive + " is still registered in EPMD");
      }
      Thread.sleep(50);
    }
  }

  private static void watch(Mailbox ctl, ErlangPeer erl, String javaNode) throws Exception {
    assertEquals(atom("true"), rpc(ctl, erl.nodeName(), "ei4j_failstop_peer", "watch_node", atom(javaNode)));
  }

  @Test
  void aStackOverflowInARegisteredFunctionFailsTheNodeAndErlangSeesNodedown() throws Exception {
    try (ErlangPeer erl = NodeTesting.startPeer(ebin, COOKIE); Node node = NodeTesting.startNode(COOKIE)) {
      List<Throwable> told = new CopyOnWriteArrayList<>();
      node.addNodeListener(new NodeListener() {
        @Override
        public void nodeFailed(Throwable cause) {
          told.add(cause);
        }
      });
      node.registerFunction("java_fs", "deep", 0, (self, args) -> ErlInteger.of(recurse(0)));
      node.registerFunction("java_fs", "bad", 0, (self, args) -> {
        throw new IllegalStateException("an ordinary bug");
      });
      Mailbox ctl = node.createMailbox();
      assertTrue(EpmdClient.local().portPlease(alive(node.nodeName())).isPresent());
      watch(ctl, erl, node.nodeName());

      // A RuntimeException keeps today's semantics: an erpc error for the caller, the node lives.
      rpc(ctl, erl.nodeName(), "ei4j_failstop_peer", "erpc_async", atom(node.nodeName()), atom("java_fs"), atom("bad"));
      erl.awaitLine("^erpc result .*java_exception.*IllegalStateException", Duration.ofSeconds(10));
      assertFalse(node.isClosed());

      long start = System.nanoTime();
      rpc(ctl, erl.nodeName(), "ei4j_failstop_peer", "erpc_async", atom(node.nodeName()), atom("java_fs"), atom("deep"));
      erl.awaitLine("^nodedown " + Pattern.quote(node.nodeName()) + "$", Duration.ofSeconds(10));
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      erl.awaitLine("^erpc result .*noconnection", Duration.ofSeconds(10));
      assertTrue(node.isClosed());
      assertTrue(node.failure().orElseThrow() instanceof StackOverflowError, node.failure().toString());
      // The listeners are told after the node is marked failed: wait for it, a while at most.
      long toldBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (told.isEmpty() && System.nanoTime() < toldBy) {
        Thread.sleep(10);
      }
      assertEquals(List.of(node.failure().get()), told);
      assertTrue(node.eiNode().isClosed());
      assertTrue(node.eiNode().failure().isPresent());
      awaitUnpublished(alive(node.nodeName()));
      assertTrue(millis < 5_000, "nodedown took " + millis + " ms");
    }
  }

  @Test
  void aStackOverflowInANodeListenerOnTheSignalThreadFailsTheNode() throws Exception {
    try (ErlangPeer erl = NodeTesting.startPeer(ebin, COOKIE); Node node = NodeTesting.startNode(COOKIE)) {
      Node other = NodeTesting.startNode(COOKIE);
      try {
        BlockingQueue<Throwable> told = new LinkedBlockingQueue<>();
        node.addNodeListener(new NodeListener() {
          @Override
          public void nodeDown(String peer, String reason) {
            if (peer.equals(other.nodeName())) {
              recurse(0); // runs on ei4j-signals, a library thread
            }
          }

          @Override
          public void nodeFailed(Throwable cause) {
            told.add(cause);
          }
        });
        Mailbox ctl = node.createMailbox();
        watch(ctl, erl, node.nodeName());
        Mailbox box = other.createMailbox();
        box.send(ctl.pid(), atom("hello"));
        assertEquals(atom("hello"), ctl.receive(5_000));
        other.close(); // node's connection to it goes down: nodeDown runs and overflows
        Throwable cause = told.poll(10, TimeUnit.SECONDS);
        assertTrue(cause instanceof StackOverflowError, String.valueOf(cause));
        erl.awaitLine("^nodedown " + Pattern.quote(node.nodeName()) + "$", Duration.ofSeconds(5));
        assertTrue(node.isClosed());
        awaitUnpublished(alive(node.nodeName()));
      } finally {
        other.close();
      }
    }
  }

  @Test
  void anOutOfMemoryErrorFromAFloodIntoASmallHeapFailsTheNodeAndErlangSeesNodedown() throws Exception {
    String childName = ErlangPeer.uniqueName("javaoom") + "@" + ErlangPeer.shortHostName();
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb = new ProcessBuilder(java.toString(), "-Xmx48m", "-cp", System.getProperty("java.class.path"),
        FailStopFloodChild.class.getName(), childName, COOKIE);
    pb.redirectErrorStream(true);
    Process child = pb.start();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    List<String> all = new CopyOnWriteArrayList<>();
    Thread pump = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l; (l = r.readLine()) != null; ) {
          System.out.println("[child] " + (l.length() > 300 ? l.substring(0, 300) + "..." : l));
          lines.add(l);
          all.add(l);
        }
      } catch (IOException e) {
        // the child is gone
      }
    }, "child-output");
    pump.setDaemon(true);
    pump.start();
    try (ErlangPeer erl = NodeTesting.startPeer(ebin, COOKIE); Node node = NodeTesting.startNode(COOKIE)) {
      awaitLine(lines, "ready ", 30);
      Mailbox ctl = node.createMailbox();
      watch(ctl, erl, childName);
      assertEquals(atom("ok"), rpc(ctl, erl.nodeName(), "ei4j_failstop_peer", "flood",
          ErlTuple.of(ErlAtom.of("sink"), atom(childName)), ErlInteger.of(256 * 1024)));
      String failed = awaitLine(lines, "failed ", 120);
      long failedAt = System.nanoTime();
      assertTrue(failed.contains("OutOfMemoryError") && failed.contains("closed=true"), failed);
      erl.awaitLine("^nodedown " + Pattern.quote(childName) + "$", Duration.ofSeconds(5));
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - failedAt);
      assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child did not exit");
      assertEquals(3, child.exitValue());
      awaitUnpublished(alive(childName));
      pump.join(10_000); // every line the child wrote before it exited
      assertTrue(all.stream().anyMatch(l -> l.contains("ERROR") && l.contains("fail-stop")), "no ERROR line");
      System.out.println("nodedown seen " + millis + " ms after the child reported its failure");
    } finally {
      child.destroyForcibly();
    }
  }

  private static String awaitLine(BlockingQueue<String> lines, String prefix, int seconds) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < end) {
      String l = lines.poll(100, TimeUnit.MILLISECONDS);
      if (l != null && l.startsWith(prefix)) {
        return l;
      }
    }
    fail("no line starting with '" + prefix + "' within " + seconds + " s");
    return null;
  }
}
