package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The traffic trace of an {@link EiNode}'s connections (issue 20: the samples, which use
 * {@code EiNode}, traced nothing), as a user turns it on: a separate JVM started with
 * {@code -Dorg.slf4j.simpleLogger.log.io.ei4j.trace=trace} sends, receives and calls
 * {@code rpc} against a real Erlang node; its output must hold one line per message in each
 * direction, and never the cookie. The same program without the property writes no trace.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ConnectionTraceTest {
  private static final String COOKIE = "ei4j_trace_cookie_secret";
  private static final String MODULE = """
      -module(ei4j_trace_echo).
      -export([start/0]).
      start() -> register(echo, spawn(fun loop/0)), io:format("ready~n").
      loop() -> receive {echo, From, X} -> From ! X, loop() end.
      """;

  /** The traced program: one send, its echo, one rpc. Args: peer node name, own node name. */
  public static final class Client {
    public static void main(String[] args) throws Exception {
      try (EiNode node = EiNode.builder(args[1]).cookie(COOKIE).transport(TcpTransport.create()).build();
           EiConnection c = node.connect(args[0], 10_000)) {
        ErlPid me = c.self();
        c.regSend(me, "echo", ErlTuple.of(ErlAtom.of("echo"), me, ErlAtom.of("hello")));
        EiMessage.Send echoed = (EiMessage.Send) c.receive(10_000);
        ErlTerm peer = c.rpc("erlang", "node", ErlList.NIL, 10_000);
        System.out.println("client done " + ErlAtom.of("hello").equals(echoed.message()) + " "
            + ErlAtom.of(args[0]).equals(peer));
      }
    }
  }

  @Test
  void eiNodeConnectionsTraceEveryMessageOnceInEachDirectionAndNeverTheCookie(@TempDir Path dir) throws Exception {
    Path ebin = ErlangPeer.compile(dir, "ei4j_trace_echo", MODULE);
    try (ErlangPeer peer = ErlangPeer.builder().sname(ErlangPeer.uniqueName("trace")).cookie(COOKIE)
        .codePath(ebin).eval("ei4j_trace_echo:start()").readyLine("^ready").start()) {
      String self = ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName();
      List<String> out = runClient(peer.nodeName(), self, true);
      assertTrue(out.stream().anyMatch(l -> l.startsWith("client done true true")), String.join("\n", out));
      List<String> trace = out.stream().filter(l -> l.contains("io.ei4j.trace")).toList();
      String all = String.join("\n", trace);
      String outPrefix = self + " -> TcpTransport " + peer.nodeName() + " ";
      String inPrefix = self + " <- TcpTransport " + peer.nodeName() + " ";
      assertEquals(1, count(trace, outPrefix + "REG_SEND {6,", ",'',echo} {echo,"), all);
      // OTP 25 sends SEND_SENDER to a node that advertises it, as ei4j does.
      assertEquals(1, count(trace, inPrefix + "SEND_SENDER {22,", "} hello"), all);
      assertEquals(1, count(trace, outPrefix + "REG_SEND {6,", ",'',rex} {"), all);
      assertEquals(1, count(trace, inPrefix + "SEND_SENDER {22,", "} {rex," + peer.nodeName()), all);
      assertEquals(4, trace.size(), "one line per message and nothing else (ticks are not traced):\n" + all);
      assertFalse(String.join("\n", out).contains(COOKIE), "the cookie never appears");

      List<String> quiet = runClient(peer.nodeName(), ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName(), false);
      assertTrue(quiet.stream().anyMatch(l -> l.startsWith("client done true true")), String.join("\n", quiet));
      assertTrue(quiet.stream().noneMatch(l -> l.contains("io.ei4j.trace")), "off by default: " + quiet);
    }
  }

  private static long count(List<String> lines, String containsFirst, String thenContains) {
    return lines.stream().filter(l -> {
      int at = l.indexOf(containsFirst);
      return at >= 0 && l.indexOf(thenContains, at + containsFirst.length()) >= 0;
    }).count();
  }

  /** Runs {@link Client} in a JVM of its own, with the test classpath, and returns its output. */
  private static List<String> runClient(String peer, String self, boolean trace) throws IOException, InterruptedException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
        "-Dorg.slf4j.simpleLogger.logFile=System.out"));
    if (trace) {
      cmd.add("-Dorg.slf4j.simpleLogger.log.io.ei4j.trace=trace");
    }
    cmd.addAll(List.of(Client.class.getName(), peer, self));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), text);
    return text.lines().toList();
  }
}
