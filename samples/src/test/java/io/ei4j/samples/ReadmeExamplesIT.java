package io.ei4j.samples;

import static io.ei4j.samples.ErlangSide.ask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.epmd.EpmdClient;
import io.ei4j.node.Mailbox;
import io.ei4j.node.Node;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.Terms;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The README's Java snippets ({@link ReadmeExamples}, {@link PlainTcpTransport}) run
 * against a real Erlang node, with the Erlang code the README shows next to them.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ReadmeExamplesIT {
  private static final String COOKIE = "samples_readme_cookie";

  @BeforeAll
  static void epmd() {
    ErlangPeer.ensureEpmd();
  }

  /** The text between the backticks of the README line that starts with {@code prefix}. */
  static String readmeCode(String prefix) throws Exception {
    String readme = Files.readString(SampleProcess.repoRoot().resolve("README.md"));
    String line = readme.lines().map(String::strip).filter(l -> l.startsWith("`" + prefix)).findFirst()
        .orElseThrow(() -> new AssertionError("README.md has no line starting with `" + prefix));
    return line.substring(1, line.indexOf('`', 1));
  }

  private static String withoutDot(String expr) {
    return expr.endsWith(".") ? expr.substring(0, expr.length() - 1) : expr;
  }

  private static ErlangPeer erlWithEcho() throws Exception {
    String echo = withoutDot(readmeCode("register(echo,"));
    return ErlangPeer.builder()
        .sname(ErlangPeer.uniqueName("readme"))
        .cookie(COOKIE)
        .codePath(ErlangSide.ebin())
        .env("ERL_CRASH_DUMP_SECONDS", "0")
        .eval(echo + ", samples_peer:start()")
        .readyLine("^ready ")
        .start();
  }

  @Test
  void connectRpcSendAndReceive() throws Exception {
    try (ErlangPeer erl = erlWithEcho()) {
      assertEquals(Terms.parse("[3,2,1]"), ReadmeExamples.callErlang(erl.nodeName(), COOKIE));
      try (EiNode node = EiNode.builder(ErlangPeer.uniqueName("jr") + "@localhost").cookie(COOKIE)
              .transport(TcpTransport.create()).build();
          EiConnection c = node.connect(erl.nodeName(), 5_000)) {
        assertEquals(Terms.parse("{echo, hello}"), ReadmeExamples.askEcho(c));
        // Three {seq, N, Bin} from the peer's rex, the last one large enough to come in fragments.
        for (int n : new int[] {10, 0, 300_000}) {
          ErlTerm msg = Terms.tuple(ReadmeExamples.SEQ, ErlInteger.of(n), ErlBinary.of(new byte[n]));
          assertEquals(msg, c.rpc("erlang", "send", ErlList.of(c.self(), msg), 5_000));
        }
        assertEquals(300_010, ReadmeExamples.binaryBytes(c, 3));
      }
    }
  }

  @Test
  void serveOneAnswersErlangAsTheReadmeShows() throws Exception {
    String nodeName = ErlangPeer.uniqueName("java2") + "@localhost";
    try (ErlangPeer erl = erlWithEcho()) {
      CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
        try {
          ReadmeExamples.serveOne(nodeName, COOKIE);
        } catch (Exception e) {
          throw new java.util.concurrent.CompletionException(e);
        }
      });
      String expr = withoutDot(readmeCode("{any, 'java2@localhost'}")).replace("java2@localhost", nodeName);
      // serveOne publishes asynchronously: wait until EPMD knows the name.
      String alive = nodeName.substring(0, nodeName.indexOf('@'));
      for (int i = 0; i < 200 && EpmdClient.local().portPlease(alive).isEmpty(); i++) {
        Thread.sleep(25);
      }
      String result = ask(erl, "eval begin " + expr + " end", "^result .*");
      assertEquals("result {ok,hi}", result);
      served.get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void processesRpcCallLinksAndMonitors() throws Exception {
    String nodeName = ErlangPeer.uniqueName("calc") + "@localhost";
    try (ErlangPeer erl = ErlangSide.peer(ErlangPeer.uniqueName("rnode"), COOKIE).start();
        Node node = ReadmeExamples.calculator(nodeName, COOKIE)) {
      assertEquals("result 3", ask(erl, "eval rpc:call('" + nodeName + "', calc, add, [1, 2])", "^result .*"));

      ask(erl, "eval register(victim, spawn(fun() -> receive stop -> exit(bye) end end))", "^result .*");
      CompletableFuture<ErlTerm> down = CompletableFuture.supplyAsync(() -> {
        try {
          return ReadmeExamples.awaitDown(node, "victim", erl.nodeName());
        } catch (Exception e) {
          throw new CompletionException(e);
        }
      });
      awaitErlang(erl, "element(2, process_info(whereis(victim), monitored_by)) =/= []");
      ask(erl, "eval victim ! stop", "^result .*");
      ErlTuple d = (ErlTuple) down.get(10, TimeUnit.SECONDS);
      assertEquals(Terms.parse("{'DOWN', x, process, {victim, '" + erl.nodeName() + "'}, bye}").toString()
          .replace(",x,", ","), d.toString().replace("," + d.get(1) + ",", ","));

      Mailbox box = node.createMailbox("jbox");
      ask(erl, "eval register(victim2, spawn(fun() -> receive stop -> exit(bye2) end end)),"
          + " {jbox, '" + nodeName + "'} ! whereis(victim2)", "^result .*");
      ErlPid pid = (ErlPid) box.receive(10_000);
      CompletableFuture<ErlTerm> exit = CompletableFuture.supplyAsync(() -> {
        try {
          return ReadmeExamples.awaitExit(box, pid);
        } catch (Exception e) {
          throw new CompletionException(e);
        }
      });
      awaitErlang(erl, "element(2, process_info(whereis(victim2), links)) =/= []");
      ask(erl, "eval victim2 ! stop", "^result .*");
      assertEquals(ErlTuple.of(ErlAtom.of("EXIT"), pid, ErlAtom.of("bye2")), exit.get(10, TimeUnit.SECONDS));
    }
  }

  /** Evaluates a boolean Erlang expression until it is true (at most 10 s). */
  private static void awaitErlang(ErlangPeer erl, String condition) throws InterruptedException {
    for (int i = 0; i < 200; i++) {
      if (ask(erl, "eval " + condition, "^result .*").equals("result true")) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("never true on " + erl.nodeName() + ": " + condition);
  }

  @Test
  void thePlainTcpTransportConnectsAndAccepts() throws Exception {
    try (ErlangPeer erl = ErlangSide.peer(ErlangPeer.uniqueName("rplain"), COOKIE).start();
        EiNode node = EiNode.builder(ErlangPeer.uniqueName("plain") + "@localhost").cookie(COOKIE)
            .transport(new PlainTcpTransport()).build()) {
      try (EiConnection c = node.connect(erl.nodeName(), 5_000)) {
        assertEquals(ErlAtom.of(erl.nodeName()), c.rpc("erlang", "node", ErlList.NIL, 5_000));
      }
      try (EiListener listener = node.listen(new InetSocketAddress(0), 5)) {
        node.publish(((InetSocketAddress) listener.address()).getPort());
        CompletableFuture<String> reply = CompletableFuture.supplyAsync(
            () -> ask(erl, "raw " + node.nodeName() + " inbox_j {hello, from_erlang}", "^sent$"));
        try (EiConnection c = listener.accept(10_000)) {
          EiMessage m = c.receive(10_000);
          assertTrue(m instanceof EiMessage.RegSend r && r.message().equals(Terms.parse("{hello, from_erlang}")),
              String.valueOf(m));
          ErlPid from = ((EiMessage.RegSend) m).from();
          c.send(from, ErlTuple.of(ErlAtom.of("back")));
          assertEquals("sent", reply.get(10, TimeUnit.SECONDS));
        }
      }
      assertTrue(SocketCallbacks.INFINITE < 0);
    }
  }
}
