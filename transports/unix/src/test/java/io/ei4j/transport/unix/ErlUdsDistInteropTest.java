package io.ei4j.transport.unix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.node.Mailbox;
import io.ei4j.node.Node;
import io.ei4j.node.ReceiverWakeups;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A Java node and real Erlang nodes running OTP's {@code erl_uds_dist}, compiled here from
 * the {@code erlang-examples} sources: {@code erl -proto_dist erl_uds -no_epmd}. Both sides
 * start connections; stale socket files and duplicate names behave as between two Erlang
 * nodes. Each test starts its own Erlang node in its own working directory, which is where
 * both sides keep their socket files.
 *
 * <p>{@code erl_uds_dist} picks its distribution version at compile time: 6 (32-bit
 * creations) when {@code kernel/include/dist.hrl} defines {@code ERL_DIST_VER_6}, as every
 * OTP since 23 does, else 5 (creations 1..3 kept in a {@code NAME.uds} file). The second
 * build, {@link ErlUdsDist#ebinVersion5()}, forces version 5 to check that a Java node also talks to such a
 * node.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ErlUdsDistInteropTest {
  private static final String COOKIE = "uds_interop_cookie";
  private static final long TIMEOUT = 10_000;

  static ExecutorService executor;

  @TempDir Path work;

  @BeforeAll
  static void startExecutor() {
    executor = Executors.newCachedThreadPool();
  }

  @AfterAll
  static void stopExecutor() {
    executor.shutdownNow();
  }

  private ErlangPeer startErlang(String alive, Path codePath) {
    return ErlangPeer.builder()
        .sname(alive + "@localhost")
        .cookie(COOKIE)
        .codePath(codePath)
        .workDir(work)
        .args("-proto_dist", "erl_uds", "-no_epmd")
        .eval("uds_peer:start()")
        .readyLine("^ready ")
        .start();
  }

  private EiNode javaNode(String alive, boolean fullImpl) throws IOException {
    UnixTransport callbacks =
        UnixTransport.builder().directory(work).fullImpl(fullImpl).build();
    return EiNode.builder(alive + "@localhost").cookie(COOKIE).transport(callbacks).build();
  }

  @ParameterizedTest(name = "FULL_IMPL {0}")
  @ValueSource(booleans = {true, false})
  void javaConnectsSendsReceivesAndCalls(boolean fullImpl) throws Exception {
    try (ErlangPeer erl = startErlang(ErlangPeer.uniqueName("udserl"), ErlUdsDist.ebin());
        EiNode node = javaNode(ErlangPeer.uniqueName("udsjava"), fullImpl);
        EiConnection c = node.connect(erl.nodeName(), TIMEOUT)) {
      assertEquals(erl.nodeName(), c.peerNodeName());

      assertEquals(ErlAtom.of(erl.nodeName()), c.rpc("erlang", "node", ErlList.NIL, TIMEOUT));
      assertEquals(ErlList.of(ErlInteger.of(3), ErlInteger.of(2), ErlInteger.of(1)),
          c.rpc("lists", "reverse",
              ErlList.of(ErlList.of(ErlInteger.of(1), ErlInteger.of(2), ErlInteger.of(3))), TIMEOUT));

      ErlPid me = c.self();
      c.regSend(me, "echo", ErlTuple.of(me, ErlAtom.of("ping")));
      ErlTuple reply = echoReply(c, me);
      assertEquals(ErlAtom.of("ping"), reply.get(2));
      ErlPid echo = (ErlPid) reply.get(1);
      assertEquals(ErlAtom.of(erl.nodeName()), echo.node());

      c.send(echo, ErlTuple.of(me, ErlAtom.of("direct")));
      assertEquals(ErlAtom.of("direct"), echoReply(c, me).get(2));

      erl.sendLine("hidden");
      erl.awaitLine("^hidden \\[.*'?" + node.nodeName() + "'?", Duration.ofSeconds(10));
    }
  }

  @ParameterizedTest(name = "FULL_IMPL {0}")
  @ValueSource(booleans = {true, false})
  void largeAndSmallMessagesMixedRoundTripInOrder(boolean fullImpl) throws Exception {
    try (ErlangPeer erl = startErlang(ErlangPeer.uniqueName("udserl"), ErlUdsDist.ebin());
        EiNode node = javaNode(ErlangPeer.uniqueName("udsjava"), fullImpl);
        EiConnection c = node.connect(erl.nodeName(), TIMEOUT)) {
      ErlPid me = c.self();
      Random random = new Random(5);
      // Large binaries make the socket grow its write staging area between small
      // messages; all of it must come back intact and in order.
      List<ErlBinary> sent = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        byte[] bytes = new byte[i % 2 == 0 ? 10 : (3 << 20) + i];
        random.nextBytes(bytes);
        ErlBinary b = ErlBinary.of(bytes);
        sent.add(b);
        c.regSend(me, "echo", ErlTuple.of(me, ErlTuple.of(ErlInteger.of(i), b)));
      }
      for (int i = 0; i < sent.size(); i++) {
        ErlTuple echoed = assertInstanceOf(ErlTuple.class, echoReply(c, me).get(2));
        assertEquals(ErlTuple.of(ErlInteger.of(i), sent.get(i)), echoed);
      }
    }
  }

  @ParameterizedTest(name = "FULL_IMPL {0}")
  @ValueSource(booleans = {true, false})
  void erlangConnectsToTheJavaNode(boolean fullImpl) throws Exception {
    try (ErlangPeer erl = startErlang(ErlangPeer.uniqueName("udserl"), ErlUdsDist.ebin());
        EiNode node = javaNode(ErlangPeer.uniqueName("udsjava"), fullImpl)) {
      UnixTransport callbacks = (UnixTransport) node.transport();
      UnixSocketAddress address = callbacks.addressOf(node.nodeName());
      assertEquals(UnixSocketAddress.of(work.resolve(node.alive())), address);
      try (EiListener listener = node.listen(address, 5)) {
        CompletableFuture<EiConnection> accepted = acceptAsync(listener);
        erl.sendLine("ping " + node.nodeName());
        try (EiConnection c = accepted.get(TIMEOUT, TimeUnit.MILLISECONDS)) {
          assertEquals(erl.nodeName(), c.peerNodeName());
          erl.awaitLine("^ping " + node.nodeName() + " pong$", Duration.ofSeconds(10));

          erl.sendLine("send " + node.nodeName() + " jreg");
          EiMessage m = c.receive(TIMEOUT);
          EiMessage.RegSend rs = assertInstanceOf(EiMessage.RegSend.class, m);
          assertEquals(ErlAtom.of("jreg"), rs.toName());
          ErlTuple hello = (ErlTuple) rs.message();
          assertEquals(ErlAtom.of("hello"), hello.get(0));
          assertEquals(ErlAtom.of(erl.nodeName()), hello.get(2));

          // The accepted connection carries traffic both ways.
          assertEquals(ErlAtom.of(erl.nodeName()), c.rpc("erlang", "node", ErlList.NIL, TIMEOUT));
        }
      }
      assertFalse(Files.exists(address.path().orElseThrow(), LinkOption.NOFOLLOW_LINKS),
          "the Java node's socket file outlived its listener");
    }
  }

  @Test
  void aVersion5NodeWithSmallCreationsInteroperates() throws Exception {
    try (ErlangPeer erl = startErlang(ErlangPeer.uniqueName("udsv5"), ErlUdsDist.ebinVersion5());
        EiNode node = javaNode(ErlangPeer.uniqueName("udsjava"), true);
        EiConnection c = node.connect(erl.nodeName(), TIMEOUT)) {
      Matcher ready = erl.awaitMatch("^ready \\S+ creation (\\d+)$", Duration.ofSeconds(5));
      int creation = Integer.parseInt(ready.group(1));
      assertTrue(creation >= 1 && creation <= 3, "version 5 creation " + creation);
      assertTrue(Files.exists(work.resolve(erl.alive() + ".uds")), "no creation file");
      assertEquals(creation, c.peerCreation());

      ErlPid me = c.self();
      c.regSend(me, "echo", ErlTuple.of(me, ErlAtom.of("v5")));
      ErlPid echo = (ErlPid) echoReply(c, me).get(1);
      assertEquals(creation, echo.creation());
      // A pid with a small creation goes back to its node intact.
      c.send(echo, ErlTuple.of(me, echo));
      assertEquals(echo, echoReply(c, me).get(2));

      // And the version 5 node starts a connection to a Java node as well.
      try (EiNode target = javaNode(ErlangPeer.uniqueName("udsjava"), true);
          EiListener listener = target.listen(
              ((UnixTransport) target.transport()).addressOf(target.nodeName()), 5)) {
        CompletableFuture<EiConnection> accepted = acceptAsync(listener);
        erl.sendLine("ping " + target.nodeName());
        erl.awaitLine("^ping " + target.nodeName() + " pong$", Duration.ofSeconds(10));
        try (EiConnection back = accepted.get(TIMEOUT, TimeUnit.MILLISECONDS)) {
          assertEquals(creation, back.peerCreation());
        }
      }
    }
  }

  @Test
  void peerCredentialsIdentifyTheErlangNode() throws Exception {
    try (ErlangPeer erl = startErlang(ErlangPeer.uniqueName("udscred"), ErlUdsDist.ebin())) {
      UnixTransport guarded = UnixTransport.builder().directory(work).allowedPeerUids().build();
      UnixSocket raw = guarded.socket(null);
      try {
        guarded.connect(raw, guarded.addressOf(erl.nodeName()), TIMEOUT);
        // erl execs the emulator, so the listening process is the one the test started.
        assertEquals(erl.pid(), raw.peerCredentials().pid());
      } finally {
        guarded.close(raw);
      }
      int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      UnixTransport strangers = UnixTransport.builder().directory(work).allowedPeerUids(uid + 1).build();
      try (EiNode node = EiNode.builder(ErlangPeer.uniqueName("udsjava") + "@localhost")
          .cookie(COOKIE).transport(strangers).build()) {
        ErrnoException e = assertThrows(ErrnoException.class, () -> node.connect(erl.nodeName(), TIMEOUT));
        assertEquals(Errno.EACCES, e.errno(), e.toString());
      }
    }
  }

  private static CompletableFuture<EiConnection> acceptAsync(EiListener listener) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return listener.accept(TIMEOUT);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, executor);
  }

  @Test
  void aJavaNodeCannotTakeTheNameOfALiveErlangNode() throws Exception {
    String alive = ErlangPeer.uniqueName("udsdup");
    try (ErlangPeer erl = startErlang(alive, ErlUdsDist.ebin());
        EiNode node = javaNode(alive, true)) {
      UnixTransport callbacks = (UnixTransport) node.transport();
      ErrnoException e = assertThrows(ErrnoException.class,
          () -> node.listen(callbacks.addressOf(node.nodeName()), 5));
      assertEquals(Errno.EADDRINUSE, e.errno());
      assertTrue(e.getMessage().contains("duplicate node name"), e.getMessage());
      // The Erlang node still answers under its name.
      try (EiNode other = javaNode(ErlangPeer.uniqueName("udsjava"), true);
          EiConnection c = other.connect(erl.nodeName(), TIMEOUT)) {
        assertEquals(ErlAtom.of(erl.nodeName()), c.rpc("erlang", "node", ErlList.NIL, TIMEOUT));
      }
    }
  }

  @Test
  void anErlangNodeCannotTakeTheNameOfALiveJavaNode() throws Exception {
    String alive = ErlangPeer.uniqueName("udsdup");
    try (EiNode node = javaNode(alive, true);
        EiListener listener = node.listen(
            ((UnixTransport) node.transport()).addressOf(node.nodeName()), 5)) {
      ErlangPeer erl = ErlangPeer.builder()
          .sname(alive + "@localhost")
          .cookie(COOKIE)
          .codePath(ErlUdsDist.ebin())
          .workDir(work)
          .args("-proto_dist", "erl_uds", "-no_epmd")
          .eval("uds_peer:start()")
          .start();
      try (erl) {
        erl.awaitLine("name " + alive + "@localhost seems to be in use", Duration.ofSeconds(30));
        assertTrue(erl.awaitExit(Duration.ofSeconds(30)) != 0, "the duplicate node exited normally");
      }
      assertTrue(Files.exists(work.resolve(alive), LinkOption.NOFOLLOW_LINKS),
          "the Erlang node removed a live node's socket file");
      assertTrue(listener.address() instanceof UnixSocketAddress);
    }
  }

  @Test
  void aStaleSocketFileOfACrashedErlangNodeIsRefusedThenReplaced() throws Exception {
    String alive = ErlangPeer.uniqueName("udsstale");
    ErlangPeer erl = startErlang(alive, ErlUdsDist.ebin());
    try (erl) {
      erl.signal("KILL");
      erl.awaitExit(Duration.ofSeconds(10));
    }
    Path file = work.resolve(alive);
    assertTrue(Files.exists(file, LinkOption.NOFOLLOW_LINKS), "a killed node leaves its socket file");

    try (EiNode node = javaNode(ErlangPeer.uniqueName("udsjava"), true)) {
      ErrnoException refused = assertThrows(ErrnoException.class,
          () -> node.connect(alive + "@localhost", TIMEOUT));
      assertEquals(Errno.ECONNREFUSED, refused.errno(), refused.toString());
    }
    // A Java node with the crashed node's name replaces the stale file and is reachable.
    try (EiNode node = javaNode(alive, true);
        EiListener listener = node.listen(
            ((UnixTransport) node.transport()).addressOf(node.nodeName()), 5);
        ErlangPeer pinger = startErlang(ErlangPeer.uniqueName("udserl"), ErlUdsDist.ebin())) {
      CompletableFuture<EiConnection> accepted = acceptAsync(listener);
      pinger.sendLine("ping " + node.nodeName());
      pinger.awaitLine("^ping " + node.nodeName() + " pong$", Duration.ofSeconds(10));
      accepted.get(TIMEOUT, TimeUnit.MILLISECONDS).close();
    }
  }

  /**
   * A burst of small messages from four threads at once over erl_uds_dist: however the
   * writing is shared out (each sender's own write, one sender writing the frames others
   * queued, or the flusher thread, as timing has it; core's {@code SendQueueInteropTest}
   * forces each of those), Erlang gets every message, each thread's in order (the echo
   * answers in the order it received).
   */
  @ParameterizedTest(name = "FULL_IMPL {0}")
  @ValueSource(booleans = {true, false})
  void aBurstOfSmallMessagesArrivesCompleteAndInOrder(boolean fullImpl) throws Exception {
    try (ErlangPeer erl = startErlang(ErlangPeer.uniqueName("udserl"), ErlUdsDist.ebin());
        EiNode node = javaNode(ErlangPeer.uniqueName("udsjava"), fullImpl);
        EiConnection c = node.connect(erl.nodeName(), TIMEOUT)) {
      int threads = 4;
      int each = 5_000;
      ErlPid me = c.self();
      List<Future<?>> senders = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        senders.add(executor.submit(() -> {
          for (int i = 0; i < each; i++) {
            c.regSend(me, "echo", ErlTuple.of(me, ErlTuple.of(ErlInteger.of(thread), ErlInteger.of(i))));
          }
          return null;
        }));
      }
      for (Future<?> f : senders) {
        f.get(30, TimeUnit.SECONDS);
      }
      int[] next = new int[threads];
      for (int n = 0; n < threads * each; n++) {
        ErlTuple echoed = assertInstanceOf(ErlTuple.class, echoReply(c, me).get(2));
        int thread = (int) ((ErlInteger) echoed.get(0)).longValue();
        assertEquals(next[thread], ((ErlInteger) echoed.get(1)).longValue(), "thread " + thread + "'s messages in order");
        next[thread]++;
      }
    }
  }

  /**
   * A receiver waiting in {@link Mailbox#receive} reads its connection itself, and a local
   * send wakes it through {@link UnixTransport#wakeupRead} rather than at the end of
   * its read slice (as {@code ReceiverReadsInteropTest} checks over TCP).
   */
  @Test
  void aLocalMessageWakesAReceiverThatReadsTheConnection() throws Exception {
    UnixTransport callbacks = UnixTransport.builder().directory(work).build();
    try (ErlangPeer erl = startErlang(ErlangPeer.uniqueName("udserl"), ErlUdsDist.ebin());
        Node node = Node.builder(ErlangPeer.uniqueName("udsjava") + "@localhost").cookie(COOKIE)
            .transport(callbacks).build()) {
      Mailbox box = node.createMailbox();
      Mailbox other = node.createMailbox();
      // One round trip, so that box's last message came over the connection.
      box.send("echo", erl.nodeName(), ErlTuple.of(box.pid(), ErlAtom.of("first")));
      ErlTuple echoed = assertInstanceOf(ErlTuple.class, box.receive(TIMEOUT));
      assertEquals(ErlAtom.of("first"), echoed.get(2));

      ReceiverWakeups.assertLocalSendsWakeTheReader(box, other, executor);
    }
  }

  /** Waits for {@code {echo, EchoPid, Msg}} sent to {@code me}. */
  private static ErlTuple echoReply(EiConnection c, ErlPid me) throws IOException {
    EiMessage m = c.receive(TIMEOUT);
    EiMessage.Send send = assertInstanceOf(EiMessage.Send.class, m);
    assertEquals(me, send.to());
    ErlTerm t = send.message();
    ErlTuple tuple = assertInstanceOf(ErlTuple.class, t);
    assertEquals(3, tuple.arity());
    assertEquals(ErlAtom.of("echo"), tuple.get(0));
    return tuple;
  }
}
