package io.ei4j.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.EiAuthenticationException;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiConnectionLostException;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.testkit.Thorough;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * The distribution-level conformance suite: an {@link EiNode} on the transport under
 * test against a real {@code erl} on the matching Erlang distribution module, in both
 * directions, plus the timeouts of ei's {@code ei_tmo_SUITE} against a scripted peer on
 * the same transport.
 *
 * <p>A transport's test subclasses it, says how to start a matching {@code erl}
 * ({@link #peerBuilder}), and, where the transport does not go through EPMD, how the
 * Java node becomes reachable ({@link #listenForPeers}) and where a listener is bound
 * ({@link #newListenAddress}). One Erlang node, started once per class with
 * {@code net_ticktime} 2, serves most tests; the tests that kill or stop a node start
 * their own. Every node started is stopped, also when a test fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class DistributionConformance {
  /** The cookie of the shared Erlang node. */
  protected static final String COOKIE = "ei4j_conformance_cookie";
  /** The shared node's {@code net_ticktime}, seconds. */
  protected static final int PEER_TICK_SECONDS = 2;
  /** How late a timeout may fire on a busy two-core CI machine. */
  protected static final long SLACK_MILLIS = 2_000;

  /** The Erlang side: an echo server, a command loop on standard input. */
  protected static final String PEER_MODULE = """
      -module(ei4j_conf).
      -export([start/0]).

      start() ->
          register(echo, spawn(fun echo/0)),
          spawn(fun cmd_loop/0),
          io:format("ready~n").

      echo() ->
          receive
              {From, Msg} when is_pid(From) -> From ! {echo, Msg}, echo();
              _ -> echo()
          end.

      cmd_loop() ->
          case io:get_line("") of
              eof -> ok;
              {error, _} -> ok;
              Line ->
                  case string:tokens(string:trim(Line), " ") of
                      ["ping", Node, Name] -> ping_and_call(list_to_atom(Node), list_to_atom(Name));
                      ["pingonly", Node] -> io:format("ping ~p~n", [net_adm:ping(list_to_atom(Node))]);
                      _ -> io:format("unknown command ~s~n", [Line])
                  end,
                  cmd_loop()
          end.

      ping_and_call(Node, Name) ->
          R = net_adm:ping(Node),
          io:format("ping ~p~n", [R]),
          case R of
              pong ->
                  {Name, Node} ! {self(), hello_java},
                  receive
                      {reply, X} -> io:format("reply ~p~n", [X])
                  after 10000 -> io:format("reply timeout~n")
                  end,
                  io:format("hidden ~p~n", [lists:member(Node, nodes(hidden))]);
              pang -> ok
          end.
      """;

  private final List<AutoCloseable> cleanup = new ArrayList<>();
  private Path ebin;
  private ErlangPeer shared;

  /** The transport under test. */
  protected abstract SocketCallbacks<?> callbacks();

  /** The setup context of the Java node (TLS settings, say); default none. */
  protected Object setupContext() {
    return null;
  }

  /**
   * A builder for an {@code erl} that speaks this transport's distribution, named
   * {@code alive} on {@link #javaHost()}'s machine: {@code -sname}/{@code -name} and any
   * {@code -proto_dist} arguments. The suite adds the cookie, code path, start-up
   * expression and ready line.
   */
  protected abstract ErlangPeer.Builder peerBuilder(String alive) throws IOException;

  /** The host part of the Java nodes' names; default this machine's short host name. */
  protected String javaHost() {
    return ErlangPeer.shortHostName();
  }

  /** An address for the Java node to listen on, unused so far. */
  protected abstract SocketAddress newListenAddress() throws IOException;

  /**
   * Makes {@code node} reachable by Erlang nodes and returns its listener. Default: listen
   * on {@link #newListenAddress()} and publish the port in EPMD.
   */
  protected EiListener listenForPeers(EiNode node) throws IOException {
    EiListener l = node.listen(newListenAddress(), 5);
    cleanup.add(node.publish(((java.net.InetSocketAddress) l.address()).getPort()));
    return l;
  }

  /** Connects {@code node} to the Erlang node {@code peer}; default by name. */
  protected EiConnection connectTo(EiNode node, ErlangPeer peer, long timeoutMillis) throws IOException {
    return node.connect(peer.nodeName(), timeoutMillis);
  }

  /** Adds transport-specific options to every Java node's builder; default none. */
  protected EiNode.Builder configure(EiNode.Builder builder) {
    return builder;
  }

  /** A fresh Java node with {@code cookie}; closed after the test. */
  protected EiNode newNode(String cookie, long tickTimeMillis) throws IOException {
    EiNode n = configure(EiNode.builder(ErlangPeer.uniqueName("java") + "@" + javaHost())
        .cookie(cookie).transport(callbacks()).setupContext(setupContext())
        .tickTimeMillis(tickTimeMillis)).build();
    cleanup.add(n);
    return n;
  }

  /** Starts an Erlang node running {@link #PEER_MODULE}; stopped after the test (class). */
  protected ErlangPeer startPeer(String cookie, int tickSeconds) throws IOException {
    ErlangPeer p = peerBuilder(ErlangPeer.uniqueName("erl"))
        .cookie(cookie).codePath(ebin)
        .args("-kernel", "net_ticktime", Integer.toString(tickSeconds))
        .eval("ei4j_conf:start()").readyLine("^ready").start();
    return p;
  }

  @BeforeAll
  void startSharedPeer() throws IOException {
    Path dir = Files.createTempDirectory("ei4j-conf");
    ebin = ErlangPeer.compile(dir, "ei4j_conf", PEER_MODULE);
    shared = startPeer(COOKIE, PEER_TICK_SECONDS);
  }

  @AfterAll
  void stopSharedPeer() {
    if (shared != null) {
      shared.close();
    }
  }

  @AfterEach
  void closeEverything() {
    for (int i = cleanup.size() - 1; i >= 0; i--) {
      try {
        cleanup.get(i).close();
      } catch (Exception ignored) {
        // best effort: the next test must not inherit this one's resources
      }
    }
    cleanup.clear();
  }

  private static ErlAtom atom(String s) {
    return ErlAtom.of(s);
  }

  private static ErlList ints(long... vs) {
    List<ErlTerm> l = new ArrayList<>();
    for (long v : vs) {
      l.add(ErlInteger.of(v));
    }
    return ErlList.of(l);
  }

  /** Receives until a SEND to {@code to} arrives, failing on anything else. */
  private static ErlTerm receiveSendTo(EiConnection c, ErlPid to) throws IOException {
    EiMessage m = c.receive(10_000);
    EiMessage.Send s = assertInstanceOf(EiMessage.Send.class, m, "expected a SEND, got " + m);
    assertEquals(to, s.to());
    return s.message();
  }

  // ---- Java connects to Erlang ----

  @Test
  void rpcReturnsResultsAndBadrpc() throws IOException {
    EiNode node = newNode(COOKIE, 60_000);
    try (EiConnection c = connectTo(node, shared, 10_000)) {
      assertEquals(shared.nodeName(), c.peerNodeName());
      assertEquals(ints(3, 2, 1), c.rpc("lists", "reverse", ErlList.of(ints(1, 2, 3)), 10_000));
      ErlTerm bad = c.rpc("erlang", "error", ErlList.of(atom("boom")), 10_000);
      ErlTuple t = assertInstanceOf(ErlTuple.class, bad, "badrpc tuple: " + bad);
      assertEquals(atom("badrpc"), t.get(0), "got " + bad);
      assertTrue(bad.toString().contains("boom"), "the reason names the error: " + bad);
      ErlTerm hidden = c.rpc("erlang", "nodes", ErlList.of(atom("hidden")), 10_000);
      assertTrue(assertInstanceOf(ErlList.class, hidden).elements().contains(node.nodeAtom()),
          "nodes(hidden) on the peer lists " + node.nodeName() + ": " + hidden);
      ErlTerm visible = c.rpc("erlang", "nodes", ErlList.NIL, 10_000);
      assertTrue(!assertInstanceOf(ErlList.class, visible).elements().contains(node.nodeAtom()), "a hidden node is not in nodes(): " + visible);
    }
  }

  @Test
  void sendToRegisteredNameAndToPid() throws IOException {
    EiNode node = newNode(COOKIE, 60_000);
    try (EiConnection c = connectTo(node, shared, 10_000)) {
      ErlPid me = c.self();
      c.regSend(me, "echo", ErlTuple.of(me, atom("by_name")));
      assertEquals(ErlTuple.of(atom("echo"), atom("by_name")), receiveSendTo(c, me));

      ErlPid echo = assertInstanceOf(ErlPid.class, c.rpc("erlang", "whereis", ErlList.of(atom("echo")), 10_000));
      ErlPid other = node.makePid();
      c.send(echo, ErlTuple.of(other, ints(1, 2)));
      assertEquals(ErlTuple.of(atom("echo"), ints(1, 2)), receiveSendTo(c, other));
    }
  }

  @Test
  void receiveTimesOut() throws IOException {
    EiNode node = newNode(COOKIE, 60_000);
    try (EiConnection c = connectTo(node, shared, 10_000)) {
      assertTimesOut(300, () -> c.receive(300));
    }
  }

  @Test
  void wrongCookieWhenJavaConnects() throws IOException {
    EiNode node = newNode("not_the_cookie", 60_000);
    assertThrows(EiAuthenticationException.class, () -> connectTo(node, shared, 10_000));
    // The peer is unharmed: a node with the right cookie still gets in.
    EiNode good = newNode(COOKIE, 60_000);
    try (EiConnection c = connectTo(good, shared, 10_000)) {
      assertEquals(ints(1), c.rpc("lists", "reverse", ErlList.of(ints(1)), 10_000));
    }
  }

  // ---- Erlang connects to Java ----

  @Test
  void erlangPingsAndCallsTheJavaNode() throws IOException {
    EiNode node = newNode(COOKIE, 60_000);
    EiListener l = listenForPeers(node);
    shared.sendLine("ping " + node.nodeName() + " javabox");
    try (EiConnection c = l.accept(10_000)) {
      assertEquals(shared.nodeName(), c.peerNodeName());
      EiMessage m = c.receive(10_000);
      EiMessage.RegSend r = assertInstanceOf(EiMessage.RegSend.class, m, "expected a REG_SEND, got " + m);
      assertEquals(atom("javabox"), r.toName());
      ErlTuple t = assertInstanceOf(ErlTuple.class, r.message());
      assertEquals(atom("hello_java"), t.get(1));
      c.send(assertInstanceOf(ErlPid.class, t.get(0)), ErlTuple.of(atom("reply"), atom("world")));
      shared.awaitLine("ping pong", Duration.ofSeconds(10));
      shared.awaitLine("reply world", Duration.ofSeconds(10));
      shared.awaitLine("hidden true", Duration.ofSeconds(10));
    }
  }

  @Test
  void wrongCookieWhenErlangConnects() throws IOException {
    EiNode node = newNode("not_the_cookie", 60_000);
    EiListener l = listenForPeers(node);
    shared.sendLine("pingonly " + node.nodeName());
    assertThrows(EiAuthenticationException.class, () -> l.accept(10_000));
    shared.awaitLine("ping pang", Duration.ofSeconds(15));
  }

  // ---- liveness ----

  /**
   * True when another suite in the same build already proves tick survival for this
   * transport's timeout mechanism ({@code FULL_IMPL} or polled descriptor), so that
   * {@link #idleConnectionSurvivesSeveralTickPeriods} runs only with {@code -Pthorough}
   * here. Default false: a third-party transport always runs it.
   */
  protected boolean tickSurvivalProvenElsewhere() {
    return false;
  }

  @Test
  void idleConnectionSurvivesSeveralTickPeriods() throws Exception {
    assumeTrue(Thorough.enabled() || !tickSurvivalProvenElsewhere(),
        "tick survival of this timeout mechanism is proven by another transport's suite; "
            + "runs here with -Pthorough");
    EiNode node = newNode(COOKIE, PEER_TICK_SECONDS * 1000L);
    try (EiConnection c = connectTo(node, shared, 10_000)) {
      Thread.sleep(PEER_TICK_SECONDS * 2500L);
      assertTrue(c.isOpen(), "the connection went down while idle");
      assertEquals(ints(2, 1), c.rpc("lists", "reverse", ErlList.of(ints(1, 2)), 10_000));
      ErlTerm hidden = c.rpc("erlang", "nodes", ErlList.of(atom("hidden")), 10_000);
      assertTrue(((ErlList) hidden).elements().contains(node.nodeAtom()), "still connected on the Erlang side: " + hidden);
    }
  }

  @Test
  void killedPeerEndsReceivePromptly() throws Exception {
    try (ErlangPeer peer = startPeer(COOKIE, 60)) {
      EiNode node = newNode(COOKIE, 60_000);
      EiConnection c = connectTo(node, peer, 10_000);
      cleanup.add(c);
      peer.signal("KILL");
      long t0 = System.nanoTime();
      assertThrows(EiConnectionLostException.class, () -> c.receive(20_000));
      long ms = (System.nanoTime() - t0) / 1_000_000L;
      assertTrue(ms < SLACK_MILLIS + 1000, "noticed the death after " + ms + " ms");
      assertThrows(EiConnectionLostException.class, () -> c.send(c.self(), atom("x")));
    }
  }

  @Test
  void stoppedPeerIsDeclaredDownWithinTheTickTime() throws Exception {
    try (ErlangPeer peer = startPeer(COOKIE, 60)) {
      long tick = 1_000;
      EiNode node = newNode(COOKIE, tick);
      EiConnection c = connectTo(node, peer, 10_000);
      cleanup.add(c);
      assertEquals(ints(1), c.rpc("lists", "reverse", ErlList.of(ints(1)), 10_000));
      long t0 = System.nanoTime(); // before the signal: sending it forks a kill process
      peer.signal("STOP");
      try {
        EiConnectionLostException e = assertThrows(EiConnectionLostException.class, () -> c.receive(20_000));
        long ms = (System.nanoTime() - t0) / 1_000_000L;
        assertTrue(e.getMessage().contains("tick"), "the reason names the tick time: " + e.getMessage());
        assertTrue(ms >= tick * 3 / 4 && ms < tick + tick / 4 + SLACK_MILLIS, "declared down after " + ms + " ms");
      } finally {
        peer.signal("CONT");
      }
    }
  }

  // ---- timeouts, as ei_tmo_SUITE ----

  @Test
  void acceptTimesOutWhenNobodyConnects() throws IOException {
    EiNode node = newNode(COOKIE, 60_000);
    EiListener l = node.listen(newListenAddress(), 5);
    assertTimesOut(400, () -> l.accept(400));
  }

  @Test
  void acceptTimesOutWhenThePeerSendsNothing() throws Exception {
    EiNode node = newNode(COOKIE, 60_000);
    EiListener l = node.listen(newListenAddress(), 5);
    try (ScriptedPeer<?> silent = ScriptedPeer.connect(callbacks(), setupContext(), l.address())) {
      assertTimesOut(400, () -> l.accept(400));
      assertNotNull(silent);
    }
  }

  @Test
  void connectTimesOutWhenThePeerStallsAfterTheChallenge() throws Exception {
    EiNode node = newNode(COOKIE, 60_000);
    try (ScriptedPeer<?> peer = ScriptedPeer.listen(callbacks(), setupContext(), newListenAddress(), 5)) {
      playInBackground(() -> {
        peer.accept();
        peer.readHandshakeMessage();
        peer.sendStatus("ok");
        peer.sendChallenge("stall@" + javaHost(), 12345);
        // ... and never read the reply or answer.
      });
      assertTimesOut(600, () -> node.connect(peer.address(), 600));
    }
  }

  @Test
  void connectTimesOutWhenThePeerNeverAcknowledges() throws Exception {
    EiNode node = newNode(COOKIE, 60_000);
    try (ScriptedPeer<?> peer = ScriptedPeer.listen(callbacks(), setupContext(), newListenAddress(), 5)) {
      playInBackground(() -> {
        peer.accept();
        peer.readHandshakeMessage();
        peer.sendStatus("ok");
        peer.sendChallenge("noack@" + javaHost(), 777);
        byte[] reply = peer.readHandshakeMessage();
        if (reply[0] != 'r') {
          throw new IOException("expected the challenge reply");
        }
        // ... and never send the 'a'.
      });
      assertTimesOut(600, () -> node.connect(peer.address(), 600));
    }
  }

  @Test
  void sendTimesOutWhenThePeerStopsReading() throws Exception {
    EiNode node = newNode(COOKIE, 60_000);
    try (ScriptedPeer<?> peer = ScriptedPeer.listen(callbacks(), setupContext(), newListenAddress(), 5)) {
      playInBackground(() -> {
        peer.accept();
        peer.acceptHandshake("sink@" + javaHost(), COOKIE);
        // ... and never read again.
      });
      EiConnection c = node.connect(peer.address(), 10_000);
      cleanup.add(c);
      io.ei4j.term.ErlBinary big = io.ei4j.term.ErlBinary.of(new byte[1 << 20]);
      ErrnoException timedOut = null;
      long t0 = 0;
      for (int i = 0; i < 1024 && timedOut == null; i++) {
        t0 = System.nanoTime();
        try {
          c.send(c.self(), c.self(), big, 400);
        } catch (ErrnoException e) {
          timedOut = e;
        }
      }
      if (timedOut == null) {
        fail("a GiB went to a peer that reads nothing, without a timeout");
      }
      assertTimedOutInTime(timedOut, t0, 400);
    }
  }

  @Test
  void connectTimesOutWhenTheListenerNeverAccepts() throws Exception {
    EiNode node = newNode(COOKIE, 60_000);
    try (ScriptedPeer<?> peer = ScriptedPeer.listen(callbacks(), setupContext(), newListenAddress(), 0)) {
      // Fill the accept queue, so that the kernel leaves further connection attempts hanging.
      List<ScriptedPeer<?>> fillers = new ArrayList<>();
      try {
        for (int i = 0; i < 16; i++) {
          try {
            fillers.add(ScriptedPeer.connectWithin(callbacks(), setupContext(), peer.address(), 200));
          } catch (ErrnoException full) {
            break;
          }
        }
        assertTimesOut(500, () -> node.connect(peer.address(), 500));
      } finally {
        fillers.forEach(ScriptedPeer::close);
      }
    }
  }

  /** A scripted peer's side of a test: what it does to the node under test. */
  @FunctionalInterface
  protected interface PeerScript {
    void play() throws IOException;
  }

  /**
   * Plays {@code script} on a daemon thread, so that the test thread can drive the node.
   * An I/O failure of the script ends it quietly: the test's own assertions on the node
   * report what matters, and a script that stalls on purpose never ends by itself.
   */
  protected static void playInBackground(PeerScript script) {
    Thread t = new Thread(() -> {
      try {
        script.play();
      } catch (IOException e) {
        // the test's assertion reports what matters
      }
    }, "scripted-peer");
    t.setDaemon(true);
    t.start();
  }

  /**
   * Runs {@code call}, which is given a timeout of {@code timeoutMillis}, and asserts that
   * it fails with {@link Errno#ETIMEDOUT} neither early nor much late.
   */
  protected static void assertTimesOut(long timeoutMillis, Executable call) {
    long t0 = System.nanoTime();
    ErrnoException e = assertThrows(ErrnoException.class, call);
    assertTimedOutInTime(e, t0, timeoutMillis);
  }

  /** Asserts an {@link Errno#ETIMEDOUT} that came neither early nor much late. */
  protected static void assertTimedOutInTime(ErrnoException e, long t0, long timeoutMillis) {
    long ms = (System.nanoTime() - t0) / 1_000_000L;
    assertEquals(Errno.ETIMEDOUT, e.errno(), "expected a timeout, got " + e);
    assertTrue(ms >= timeoutMillis - 20, "timed out early, after " + ms + " ms");
    assertTrue(ms < timeoutMillis + SLACK_MILLIS, "timed out late, after " + ms + " ms");
  }
}
