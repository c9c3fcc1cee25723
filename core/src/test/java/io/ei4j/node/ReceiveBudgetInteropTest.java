package io.ei4j.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ei4j.connect.BudgetPolicy;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.testkit.Thorough;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The receive budget (issue 18, "bounded memory by design"; issue 19, message size) against
 * real Erlang nodes: a {@link Node} whose mailbox never receives, flooded by Erlang, in a
 * JVM with a 256 MiB heap, and the {@code DISCONNECT} and {@code DROP} policies.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ReceiveBudgetInteropTest {
  private static final String COOKIE = "ei4j_budget_cookie";
  /** Ticks of 4 s on both sides: a pause taken for silence, or ticks that stop, would show within seconds. */
  private static final int TICK_SECONDS = 4;
  /** How long the flood lasts: 10 s (two and a half tick times paused) by default, 20 s in the thorough profile. */
  private static final int FLOOD_SECONDS = Thorough.pick(10, 20);

  /**
   * The flooding Erlang side. {@code start(J, Secs, Big)}: sends {@code {I, <<1 KiB>>}} to
   * {@code slow} on {@code J} for {@code Secs} seconds, then {@code Big} messages
   * {@code {I, <<60 MiB>>}}, then {@code done}; prints {@code sent N} (messages with a
   * number) and {@code nodedown} should the connection drop. {@code one(J, Size)} sends
   * {@code {1, <<Size bytes>>}} and nothing after it; {@code burst(J, Count, Size)} sends
   * {@code Count} such messages, then {@code done}.
   */
  private static final String FLOOD = """
      -module(ei4j_budget_flood).
      -export([start/3, one/2, burst/3]).
      watch() ->
          Parent = self(),
          spawn(fun() ->
              net_kernel:monitor_nodes(true, [{node_type, all}]), % the Java node is hidden
              Parent ! watching,
              receive {nodedown, N, _} -> io:format("nodedown ~p~n", [N]) end
          end),
          receive watching -> ok end.
      start(J, Secs, Big) ->
          watch(),
          pong = net_adm:ping(J),
          io:format("connected~n"),
          Small = binary:copy(<<"x">>, 1024),
          End = erlang:monotonic_time(millisecond) + Secs * 1000,
          N = loop(J, Small, End, 1),
          Large = binary:copy(<<"y">>, 60 bsl 20),
          Last = lists:foldl(fun(I, _) -> {slow, J} ! {I, Large}, I end, N - 1, lists:seq(N, N + Big - 1)),
          {slow, J} ! done,
          io:format("sent ~p~n", [Last]).
      loop(J, Bin, End, I) ->
          case erlang:monotonic_time(millisecond) < End of
              true -> {slow, J} ! {I, Bin}, loop(J, Bin, End, I + 1);
              false -> I
          end.
      one(J, Size) ->
          watch(),
          pong = net_adm:ping(J),
          {slow, J} ! {1, binary:copy(<<"z">>, Size)},
          io:format("one sent~n").
      burst(J, Count, Size) ->
          watch(),
          pong = net_adm:ping(J),
          Bin = binary:copy(<<"z">>, Size),
          [{slow, J} ! {I, Bin} || I <- lists:seq(1, Count)],
          {slow, J} ! done,
          io:format("burst sent ~p~n", [Count]).
      """;

  /**
   * The node under test, in a JVM of its own: mailbox {@code slow} never receives until
   * {@code drain} arrives on standard input, mailbox {@code fast} echoes {@code {From, X}}.
   * Args: node name.
   */
  public static final class SlowNode {
    public static void main(String[] args) throws Exception {
      try (Node node = Node.builder(args[0]).cookie(COOKIE).transport(TcpTransport.create()).listen(new InetSocketAddress(0))
          .tickTimeMillis(TICK_SECONDS * 1000L).build()) {
        Mailbox slow = node.createMailbox("slow");
        Mailbox fast = node.createMailbox("fast");
        Thread echo = new Thread(() -> {
          try {
            while (true) {
              ErlTerm t = fast.receive();
              if (t instanceof ErlTuple tt && tt.arity() == 2 && tt.get(0) instanceof ErlPid from) {
                fast.send(from, tt.get(1));
              }
            }
          } catch (Exception e) {
            // the node closes
          }
        }, "echo");
        echo.setDaemon(true);
        echo.start();
        System.out.println("ready budget " + node.receiveBudgetBytes());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
          if (line.equals("stats")) {
            System.out.println("used " + node.receiveBudgetUsedBytes() + " of " + node.receiveBudgetBytes()
                + " heap " + (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()));
          } else if (line.equals("drain")) {
            long expect = 1;
            long big = 0;
            boolean inOrder = true;
            while (true) {
              ErlTerm t = slow.receive(60_000);
              if (t == null || t.equals(ErlAtom.of("done"))) {
                System.out.println("drained " + (expect - 1) + " inorder " + inOrder + " big " + big + " end "
                    + (t == null ? "timeout" : "done") + " used " + node.receiveBudgetUsedBytes());
                break;
              }
              ErlTuple tt = (ErlTuple) t;
              long i = ((ErlInteger) tt.get(0)).longValue();
              inOrder &= i == expect;
              expect = i + 1;
              if (((ErlBinary) tt.get(1)).size() > (1 << 20)) {
                big++;
              }
            }
            System.out.flush();
          } else if (line.equals("quit")) {
            return;
          }
        }
      } catch (OutOfMemoryError e) {
        System.out.println("OutOfMemoryError " + e.getMessage());
        System.exit(3);
      }
    }
  }

  @Test
  void aFloodOfANeverReceivingMailboxPausesItsConnectionWithoutOutOfMemoryAndLosesNothing(@TempDir Path dir) throws Exception {
    Path ebin = ErlangPeer.compile(dir, "ei4j_budget_flood", FLOOD);
    ErlangPeer.ensureEpmd();
    String javaName = ErlangPeer.uniqueName("budget") + "@" + ErlangPeer.shortHostName();
    String java = ProcessHandle.current().info().command().orElse("java");
    Process child = new ProcessBuilder(java, "-Xmx256m", "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"),
        "-Dorg.slf4j.simpleLogger.logFile=System.out", SlowNode.class.getName(), javaName).redirectErrorStream(true).start();
    List<String> out = Collections.synchronizedList(new ArrayList<>());
    Thread pump = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l; (l = r.readLine()) != null; ) {
          out.add(l);
        }
      } catch (Exception e) {
        // the child ended
      }
    });
    pump.setDaemon(true);
    pump.start();
    OutputStream stdin = child.getOutputStream();
    try {
      awaitLine(out, "^ready budget", 30);
      try (ErlangPeer flood = ErlangPeer.builder().sname(ErlangPeer.uniqueName("flood")).cookie(COOKIE).codePath(ebin)
          .args("-kernel", "net_ticktime", Integer.toString(TICK_SECONDS))
          .eval("ei4j_budget_flood:start('" + javaName + "', " + FLOOD_SECONDS + ", 3)").start()) {
        flood.awaitLine("^connected", Duration.ofSeconds(20));
        long floodEnds = System.nanoTime() + TimeUnit.SECONDS.toNanos(FLOOD_SECONDS);
        Thread.sleep(4_000); // the 64 MiB budget is full within a second: the flooding connection is paused
        command(stdin, "stats");
        String stats = awaitLine(out, "^used ", 10);
        long used = Long.parseLong(stats.split(" ")[1]);
        long budget = Long.parseLong(stats.split(" ")[3]);
        assertTrue(used > budget / 2 && used <= budget + (1 << 20), "the budget holds the flood: " + stats);

        // Meanwhile a fresh peer gets pong and is served by another mailbox.
        try (ErlangPeer fresh = ErlangPeer.builder().sname(ErlangPeer.uniqueName("fresh")).cookie(COOKIE)
            .args("-kernel", "net_ticktime", Integer.toString(TICK_SECONDS))
            .eval("P = net_adm:ping('" + javaName + "'), io:format(\"ping ~p~n\", [P]), {fast, '" + javaName + "'} ! {self(), hello},"
                + " receive hello -> io:format(\"echo ok~n\") after 10000 -> io:format(\"echo timeout~n\") end").start()) {
          // Generous: this erl boots while the machine is loaded. A ping held up by the pause
          // would wait for the drain, which comes after this, so any bound catches it.
          fresh.awaitLine("^ping pong", Duration.ofSeconds(45));
          fresh.awaitLine("^echo ok", Duration.ofSeconds(15));
        }
        // Past the end of the flooding, several tick times paused.
        Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(floodEnds - System.nanoTime())) + 2_000);
        assertFalse(flood.output().stream().anyMatch(l -> l.startsWith("nodedown")), "the flooding node kept its connection: " + flood.output() + "\nnode: " + out);

        command(stdin, "drain");
        Matcher sent = flood.awaitMatch("^sent (\\d+)", Duration.ofSeconds(120));
        String drained = awaitLine(out, "^drained ", 120);
        assertEquals("drained " + sent.group(1) + " inorder true big 3 end done", drained.substring(0, drained.indexOf(" used")),
            "every message arrived, in order: " + drained + "\nflood: " + flood.output() + "\nnode: " + out);
        command(stdin, "stats");
        awaitLine(out, "^used .* heap", 10);
        assertFalse(flood.output().stream().anyMatch(l -> l.startsWith("nodedown")), "no nodedown: " + flood.output() + "\nnode: " + out);
        System.out.println("flood: " + flood.output() + "\nnode: " + out);
        command(stdin, "quit");
      }
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));
      assertEquals(0, child.exitValue(), String.join("\n", out));
      assertTrue(out.stream().noneMatch(l -> l.contains("OutOfMemoryError")), String.join("\n", out));
    } finally {
      child.destroyForcibly();
    }
  }

  @Test
  void disconnectClosesTheFloodingConnectionWithAWarn(@TempDir Path dir) throws Exception {
    Path ebin = ErlangPeer.compile(dir, "ei4j_budget_flood", FLOOD);
    String javaName = ErlangPeer.uniqueName("budget") + "@" + ErlangPeer.shortHostName();
    try (Node node = Node.builder(javaName).cookie(COOKIE).transport(TcpTransport.create()).listen(new InetSocketAddress(0))
        .receiveBudgetBytes(1 << 20).budgetPolicy(BudgetPolicy.DISCONNECT).build()) {
      node.createMailbox("slow");
      try (ErlangPeer flood = ErlangPeer.builder().sname(ErlangPeer.uniqueName("flood")).cookie(COOKIE).codePath(ebin)
          .eval("ei4j_budget_flood:start('" + javaName + "', 5, 0)").start()) {
        // Erlang reconnects at its next send and is disconnected again; the first drop is enough.
        flood.awaitLine("^nodedown", Duration.ofSeconds(20));
        // Reconnections each get a connection's reserve, from one allowance of an eighth of the budget.
        Thread.sleep(3_000);
        assertTrue(node.receiveBudgetUsedBytes() <= (1 << 20) + (1 << 17), "used " + node.receiveBudgetUsedBytes());
      }
    }
  }

  @Test
  void dropThrowsAwayWhatDoesNotFitCountsItAndKeepsTheConnection(@TempDir Path dir) throws Exception {
    dropTest(dir, 5_000, 1024); // 5 MiB in 1 KiB messages: most do not fit in 1 MiB
  }

  @Test
  void dropThrowsAwayFragmentedMessagesWhole(@TempDir Path dir) throws Exception {
    dropTest(dir, 40, 200 << 10); // Erlang sends each in 64 KiB fragments
  }

  private void dropTest(Path dir, int count, int size) throws Exception {
    Path ebin = ErlangPeer.compile(dir, "ei4j_budget_flood", FLOOD);
    String javaName = ErlangPeer.uniqueName("budget") + "@" + ErlangPeer.shortHostName();
    try (Node node = Node.builder(javaName).cookie(COOKIE).transport(TcpTransport.create()).listen(new InetSocketAddress(0))
        .receiveBudgetBytes(1 << 20).budgetPolicy(BudgetPolicy.DROP).build()) {
      Mailbox slow = node.createMailbox("slow");
      try (ErlangPeer flood = ErlangPeer.builder().sname(ErlangPeer.uniqueName("flood")).cookie(COOKIE).codePath(ebin)
          .args("-kernel", "net_ticktime", Integer.toString(TICK_SECONDS))
          .eval("ei4j_budget_flood:burst('" + javaName + "', " + count + ", " + size + ")").start()) {
        flood.awaitLine("^burst sent", Duration.ofSeconds(30));
        waitUntil(() -> node.budgetDroppedMessages() + slow.queued() >= count + 1, 20_000);
        long dropped = node.budgetDroppedMessages();
        int queued = slow.queued();
        assertTrue(dropped > 0 && queued > 0, "dropped " + dropped + ", queued " + queued);
        long last = 0;
        int tuples = 0;
        int done = 0;
        for (ErlTerm t; (t = slow.receive(1_000)) != null; ) {
          if (t instanceof ErlTuple tt) {
            long n = ((ErlInteger) tt.get(0)).longValue();
            assertTrue(n > last, "in order: " + n + " after " + last);
            assertEquals(size, ((ErlBinary) tt.get(1)).size(), "whole");
            last = n;
            tuples++;
          } else {
            done++;
          }
        }
        assertEquals(count + 1, tuples + done + node.budgetDroppedMessages(), "every message either received or counted as dropped");
        waitUntil(() -> node.receiveBudgetUsedBytes() == 0, 5_000, () -> "used " + node.receiveBudgetUsedBytes());
        assertEquals(1, node.connectedNodes().size(), "connected: " + node.connectedNodes());
        assertFalse(flood.output().stream().anyMatch(l -> l.startsWith("nodedown")), "no nodedown: " + flood.output());
      }
    }
  }

  @Test
  void aFrameLargerThanTheWholeBudgetIsRefused(@TempDir Path dir) throws Exception {
    Path ebin = ErlangPeer.compile(dir, "ei4j_budget_flood", FLOOD);
    String javaName = ErlangPeer.uniqueName("budget") + "@" + ErlangPeer.shortHostName();
    try (Node node = Node.builder(javaName).cookie(COOKIE).transport(TcpTransport.create()).listen(new InetSocketAddress(0))
        .receiveBudgetBytes(1 << 20).build()) {
      Mailbox slow = node.createMailbox("slow");
      // One message and nothing after it: a message sent after it would bring Erlang back
      // (auto-connect) whenever the connection went down before that send, under load say,
      // and would hold its charge in `slow`, which never receives.
      try (ErlangPeer flood = ErlangPeer.builder().sname(ErlangPeer.uniqueName("flood")).cookie(COOKIE).codePath(ebin)
          .eval("ei4j_budget_flood:one('" + javaName + "', " + (2 << 20) + ")").start()) {
        flood.awaitLine("^nodedown", Duration.ofSeconds(20));
        waitUntil(() -> node.receiveBudgetUsedBytes() == 0, 5_000,
            () -> "used " + node.receiveBudgetUsedBytes() + ", queued in slow " + slow.queued() + ", connected " + node.connectedNodes());
        assertEquals(0, slow.queued(), "the refused message never arrives");
      }
    }
  }

  @Test
  void aReceiverReadingThePausedConnectionHonoursItsTimeoutAndLosesNothing(@TempDir Path dir) throws Exception {
    Path ebin = ErlangPeer.compile(dir, "ei4j_budget_flood", FLOOD);
    String javaName = ErlangPeer.uniqueName("budget") + "@" + ErlangPeer.shortHostName();
    try (Node node = Node.builder(javaName).cookie(COOKIE).transport(TcpTransport.create()).listen(new InetSocketAddress(0))
        .tickTimeMillis(TICK_SECONDS * 1000L).receiveBudgetBytes(1 << 20).build()) {
      Mailbox slow = node.createMailbox("slow");
      Mailbox other = node.createMailbox("other");
      try (ErlangPeer flood = ErlangPeer.builder().sname(ErlangPeer.uniqueName("flood")).cookie(COOKIE).codePath(ebin)
          .args("-kernel", "net_ticktime", Integer.toString(TICK_SECONDS))
          .eval("ei4j_budget_flood:burst('" + javaName + "', 3000, 1024), {other, '" + javaName + "'} ! {first, self()},"
              + " {other, '" + javaName + "'} ! behind, io:format(\"all sent~n\")").start()) {
        // The first message for `other` comes before the flood fills the budget? No: after it,
        // so `other` only sees it once `slow` drains. Its receiver reads the connection itself
        // (it got nothing yet, so it parks or waits); either way its timeout holds.
        waitUntil(() -> node.receiveBudgetUsedBytes() > (1 << 19), 20_000);
        long start = System.nanoTime();
        assertEquals(null, other.receive(1_500), "head-of-line: `other`'s message waits behind the flood");
        long took = (System.nanoTime() - start) / 1_000_000;
        assertTrue(took >= 1_400 && took < 5_000, "the receive timed out on time: " + took + " ms");
        Thread.sleep(2 * TICK_SECONDS * 1000L); // paused for two tick times
        assertEquals(1, node.connectedNodes().size(), "still connected");
        int n = 0;
        for (ErlTerm t; (t = slow.receive(5_000)) != null && !t.equals(ErlAtom.of("done")); ) {
          n++;
          assertEquals(n, ((ErlInteger) ((ErlTuple) t).get(0)).longValue(), "in order");
        }
        assertEquals(3000, n);
        ErlTerm first = other.receive(10_000);
        assertTrue(first instanceof ErlTuple t && t.get(0).equals(ErlAtom.of("first")), "got " + first);
        assertEquals(ErlAtom.of("behind"), other.receive(10_000));
        flood.awaitLine("^all sent", Duration.ofSeconds(10));
      }
    }
  }

  private static final String PUMP = """
      -module(ei4j_budget_pump).
      -export([start/0]).
      start() ->
          register(pump, spawn(fun() -> receive {go, To, Count} ->
              Bin = binary:copy(<<"p">>, 1024),
              [To ! {I, Bin} || I <- lists:seq(1, Count)],
              To ! done
          end end)),
          io:format("ready~n").
      """;

  @Test
  void anEiConnectionsQueuePausesItsReaderAtTheBudgetAndLosesNothing(@TempDir Path dir) throws Exception {
    Path ebin = ErlangPeer.compile(dir, "ei4j_budget_pump", PUMP);
    try (ErlangPeer erl = ErlangPeer.builder().sname(ErlangPeer.uniqueName("pump")).cookie(COOKIE).codePath(ebin)
        .args("-kernel", "net_ticktime", Integer.toString(TICK_SECONDS)).eval("ei4j_budget_pump:start()").readyLine("^ready").start();
         io.ei4j.connect.EiNode node = io.ei4j.connect.EiNode.builder(ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName())
             .cookie(COOKIE).transport(TcpTransport.create()).tickTimeMillis(TICK_SECONDS * 1000L).receiveBudgetBytes(1 << 20).build();
         io.ei4j.connect.EiConnection c = node.connect(erl.nodeName(), 10_000)) {
      int count = 20_000; // 20 MiB against a 1 MiB budget
      c.regSend(c.self(), "pump", ErlTuple.of(ErlAtom.of("go"), c.self(), ErlInteger.of(count)));
      Thread.sleep(3 * TICK_SECONDS * 1000L); // paused for three tick times: ticks must keep it up
      long used = node.receiveBudgetUsedBytes();
      assertTrue(used > (1 << 19) && used <= (1 << 20) + (64 << 10), "the queue holds at most the budget: " + used);
      assertTrue(c.isOpen(), "still connected");
      for (int i = 1; i <= count; i++) {
        io.ei4j.connect.EiMessage m = c.receive(10_000);
        ErlTuple t = (ErlTuple) ((io.ei4j.connect.EiMessage.Send) m).message();
        assertEquals(i, ((ErlInteger) t.get(0)).longValue(), "in order, nothing lost");
      }
      assertEquals(ErlAtom.of("done"), ((io.ei4j.connect.EiMessage.Send) c.receive(10_000)).message());
      assertEquals(0, node.receiveBudgetUsedBytes(), "everything received gives its charge back");
    }
  }

  private interface Check {
    boolean ok() throws Exception;
  }

  private static void waitUntil(Check c, long millis) throws Exception {
    waitUntil(c, millis, () -> "");
  }

  private static void waitUntil(Check c, long millis, Supplier<String> state) throws Exception {
    long end = System.nanoTime() + millis * 1_000_000L;
    while (!c.ok()) {
      if (System.nanoTime() >= end) {
        fail("condition not met within " + millis + " ms " + state.get());
      }
      Thread.sleep(20);
    }
  }

  private static void command(OutputStream stdin, String line) throws Exception {
    stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    stdin.flush();
  }

  private static String awaitLine(List<String> out, String regex, int seconds) throws InterruptedException {
    java.util.regex.Pattern p = java.util.regex.Pattern.compile(regex);
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    int seen = 0;
    while (System.nanoTime() < end) {
      synchronized (out) {
        for (int i = seen; i < out.size(); i++) {
          if (p.matcher(out.get(i)).find()) {
            return out.get(i);
          }
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no line matching " + regex + " within " + seconds + " s:\n" + String.join("\n", out));
  }
}
