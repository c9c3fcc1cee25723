package io.ei4j.samples;

import static io.ei4j.samples.ErlangSide.ask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.epmd.EpmdClient;
import io.ei4j.testkit.ErlangPeer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every command of the samples jar as a child process, over TCP, against real
 * {@code erl -sname} nodes and the machine's real {@code epmd} ({@code --epmd external}).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TcpSamplesIT {
  private static final String COOKIE = "samples_tcp_cookie";
  private static final Duration EXIT = Duration.ofSeconds(30);

  @BeforeAll
  static void epmd() {
    ErlangPeer.ensureEpmd();
  }

  @Test
  void cnodeServerAnswersFooAndBarFromTwoErlangNodesAtOnceAndUnpublishesOnSigterm() throws Exception {
    String alive = ErlangPeer.uniqueName("c1");
    try (SampleProcess server = SampleProcess.start("cnode-server", "--name", alive, "--cookie", COOKIE,
        "--epmd", "external")) {
      String node = server.awaitReady();
      // A bare --name takes the host part as erl -sname does: -sname nodes reach it by name.
      try (ErlangPeer a = ErlangSide.peer(ErlangPeer.uniqueName("ea"), COOKIE).start();
          ErlangPeer b = ErlangSide.peer(ErlangPeer.uniqueName("eb"), COOKIE).start()) {
        assertEquals(alive + "@" + a.host(), node);
        assertEquals("reply {cnode,4}", ask(a, "call " + node + " cnode foo 3", "^reply .*"));
        assertEquals("reply {cnode,42}", ask(b, "call " + node + " cnode bar 21", "^reply .*"));
        // Both connections stay open and are served independently.
        assertEquals("reply {cnode,-9}", ask(a, "call " + node + " cnode foo -10", "^reply .*"));
        assertEquals("reply {cnode,36893488147419103230}",
            ask(b, "call " + node + " cnode bar 18446744073709551615", "^reply .*"));
        assertTrue(ask(a, "hidden", "^hidden .*").contains(node));
        assertTrue(ask(b, "hidden", "^hidden .*").contains(node));
        // The same functions through rex: erl_call -a (ei_rpc), answered {rex, Result}.
        String erlCall = ErlangPeer.libDir("erl_interface").resolve("bin").resolve("erl_call").toString();
        assertEquals("4", ErlangPeer.run(List.of(erlCall, "-sname", alive, "-c", COOKIE, "-a", "cnode foo [3]")).strip());
        assertEquals("10", ErlangPeer.run(List.of(erlCall, "-sname", alive, "-c", COOKIE, "-a", "cnode bar [5]")).strip());
        assertTrue(ErlangPeer.run(List.of(erlCall, "-sname", alive, "-c", COOKIE, "-a", "cnode baz [5]")).contains("undef"));
        // rpc:call and erpc:call (spawn requests for erpc:execute_call/4) and rpc:block_call (rex)
        assertEquals("result 4", ask(a, "eval rpc:call('" + node + "', cnode, foo, [3])", "^result .*"));
        assertEquals("result 4", ask(b, "eval erpc:call('" + node + "', cnode, foo, [3])", "^result .*"));
        assertEquals("result 10", ask(a, "eval erpc:call('" + node + "', cnode, bar, [5], 5000)", "^result .*"));
        assertEquals("result 4", ask(a, "eval rpc:block_call('" + node + "', cnode, foo, [3])", "^result .*"));
        assertEquals("result {badrpc,{'EXIT',{undef,[{cnode,baz,[1],[]}]}}}",
            ask(a, "eval rpc:call('" + node + "', cnode, baz, [1])", "^result .*"));

        // Anything else is logged and ignored, and the server keeps serving.
        ask(a, "raw " + node + " cnode {unexpected, 1}", "^sent$");
        server.awaitErr("ignored from " + a.nodeName() + ".*unexpected", Duration.ofSeconds(10));
        ask(a, "raw " + node + " cnode {call, not_a_pid, {foo, 1}}", "^sent$");
        server.awaitErr("ignored from " + a.nodeName() + ".*not_a_pid", Duration.ofSeconds(10));
        ask(a, "raw " + node + " elsewhere {foo, 1}", "^sent$");
        server.awaitErr("ignored from " + a.nodeName() + ".*toName=elsewhere", Duration.ofSeconds(10));
        assertEquals("reply {cnode,2}", ask(a, "call " + node + " cnode foo 1", "^reply .*"));
      }
      EpmdClient epmd = EpmdClient.local();
      assertTrue(epmd.portPlease(alive).isPresent(), "not published: " + epmd.names());
      server.terminate();
      server.awaitExit(EXIT);
      server.awaitErr("stopped", Duration.ofSeconds(1));
      // epmd drops the name when it reads the registration socket's close, which may be
      // after the process is gone: wait for it as other EPMD tests do.
      long unpublishedBy = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (epmd.portPlease(alive).isPresent()) {
        assertTrue(System.nanoTime() < unpublishedBy, "still published 5 s after SIGTERM");
        Thread.sleep(10);
      }
    }
  }

  @Test
  void echoServerEchoesAnyTerm() throws Exception {
    try (SampleProcess server = SampleProcess.start("echo-server", "--name", ErlangPeer.uniqueName("echo"),
        "--cookie", COOKIE, "--epmd", "external");
        ErlangPeer erl = ErlangSide.peer(ErlangPeer.uniqueName("ee"), COOKIE).start()) {
      String node = server.awaitReady();
      for (String term : List.of("hello", "{1, [2, 3.5, \"str\"], <<1,2,255>>, #{a => [b]}}",
          "-123456789012345678901234567890", "<<1:3>>", "[a | b]")) {
        String line = ask(erl, "echo " + node + " " + term, "^echo .*");
        assertTrue(line.startsWith("echo true "), line);
      }
      String line = ask(erl, "echoself " + node, "^echo .*");
      assertTrue(line.startsWith("echo true {echo,{<"), line);
    }
  }

  @Test
  void rpcPrintsTheResultOrTheBadrpcReason() throws Exception {
    try (ErlangPeer erl = ErlangSide.peer(ErlangPeer.uniqueName("er"), COOKIE).start()) {
      SampleProcess ok = SampleProcess.run("rpc", "--peer", erl.alive(), "--cookie", COOKIE,
          "lists", "reverse", "[[1,2,3]]");
      assertEquals(0, ok.exitValue(), ok.errText());
      assertEquals(List.of("[3,2,1]"), ok.out());

      SampleProcess tuple = SampleProcess.run("rpc", "--peer", erl.nodeName(), "--cookie", COOKIE,
          "erlang", "list_to_tuple", "[[a, \"b\", <<\"c\">>, 1.5]]");
      assertEquals(0, tuple.exitValue(), tuple.errText());
      assertEquals(List.of("{a,[98],<<\"c\">>,1.5}"), tuple.out());

      SampleProcess bad = SampleProcess.run("rpc", "--peer", erl.alive(), "--cookie", COOKIE,
          "no_such_module", "f", "[1]");
      assertEquals(1, bad.exitValue());
      assertEquals(List.of(), bad.out());
      assertTrue(bad.errText().contains("badrpc {'EXIT',{undef,"), bad.errText());

      // Without EPMD: the peer's port given directly.
      int port = EpmdClient.local().portPlease(erl.alive()).orElseThrow().port();
      SampleProcess direct = SampleProcess.run("rpc", "--peer", erl.alive(), "--cookie", COOKIE,
          "--epmd", "none", "--port", Integer.toString(port), "erlang", "node", "[]");
      assertEquals(0, direct.exitValue(), direct.errText());
      assertEquals(List.of(erl.nodeName()), direct.out());
      SampleProcess noPort = SampleProcess.run("rpc", "--peer", erl.alive(), "--cookie", COOKIE,
          "--epmd", "none", "erlang", "node", "[]");
      assertEquals(2, noPort.exitValue());
      assertTrue(noPort.errText().contains("--epmd none needs --port"), noPort.errText());

      SampleProcess cookie = SampleProcess.run("rpc", "--peer", erl.alive(), "--cookie", "wrong_cookie",
          "erlang", "node", "[]");
      assertEquals(1, cookie.exitValue(), cookie.errText());
      assertTrue(cookie.errText().contains("different cookie"), cookie.errText());
    }
  }

  @Test
  void rpcReportsAnUnknownNodeAndABadCommandLine() {
    SampleProcess missing = SampleProcess.run("rpc", "--peer", ErlangPeer.uniqueName("nobody"), "--cookie", COOKIE,
        "erlang", "node", "[]");
    assertEquals(1, missing.exitValue());
    assertTrue(missing.errText().contains("not registered in EPMD"), missing.errText());

    SampleProcess notAList = SampleProcess.run("rpc", "--peer", "x", "--cookie", COOKIE, "erlang", "node", "{a}");
    assertEquals(2, notAList.exitValue());
    assertTrue(notAList.errText().contains("ARGS must be an Erlang list"), notAList.errText());
  }

  @Test
  void sendDeliversATermToARegisteredProcess() throws Exception {
    try (ErlangPeer erl = ErlangSide.peer(ErlangPeer.uniqueName("es"), COOKIE).start()) {
      SampleProcess send = SampleProcess.run("send", "--peer", erl.alive(), "--cookie", COOKIE,
          "inbox", "{hello, [1,2,3], <<\"bin\">>, 'Quoted atom', -7}");
      assertEquals(0, send.exitValue(), send.errText());
      // io:format's ~w prints binaries as bytes.
      erl.awaitLine("^inbox \\{hello,\\[1,2,3\\],<<98,105,110>>,'Quoted atom',-7\\}$", Duration.ofSeconds(10));
    }
  }

  @Test
  void everyCommandHasHelpAndWrongUsageExitsWithTwo() {
    for (String command : List.of("cnode-server", "echo-server", "rpc", "send")) {
      SampleProcess help = SampleProcess.run(command, "--help");
      assertEquals(0, help.exitValue(), help.errText());
      assertTrue(help.outText().startsWith("Usage: java -jar ei4j-samples.jar " + command), help.outText());
      assertTrue(help.outText().contains("--epmd MODE"), help.outText());
    }
    SampleProcess none = SampleProcess.run();
    assertEquals(2, none.exitValue());
    assertTrue(none.errText().contains("Commands:"), none.errText());
    SampleProcess unknown = SampleProcess.run("cnode-server", "--no-such-option");
    assertEquals(2, unknown.exitValue());
    assertTrue(unknown.errText().contains("unknown option --no-such-option"), unknown.errText());
  }
}
