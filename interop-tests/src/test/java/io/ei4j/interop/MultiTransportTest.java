package io.ei4j.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.connect.EiConnection;
import io.ei4j.epmd.EmbeddedEpmd;
import io.ei4j.epmd.EpmdClient;
import io.ei4j.node.Mailbox;
import io.ei4j.node.NamedTransport;
import io.ei4j.node.Node;
import io.ei4j.node.TransportRules;
import io.ei4j.node.TransportSelector;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.testkit.pki.TestPki;
import io.ei4j.transport.tcp.TcpTransport;
import io.ei4j.transport.tls.TlsConfig;
import io.ei4j.transport.tls.TlsTransport;
import io.ei4j.transport.unix.UnixTransport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One ei4j node listening on TCP (published in EPMD), TLS (on its own port, published in a
 * second EPMD) and AF_UNIX (a socket file) at once, serving three real Erlang nodes that
 * each speak only one of them: {@code inet_tcp}, {@code inet_tls} and OTP's
 * {@code erl_uds_dist}. The hub connects to each over the transport its rules choose,
 * accepts each on the matching listener, and relays messages between them through a Java
 * mailbox; the trace shows every choice and every message.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MultiTransportTest {
  private static final String COOKIE = "ei4j_multi_transport_cookie";
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final long TIMEOUT = 15_000;
  /** The rules of the hub: by the peer's name, as a deployment would write them. */
  private static final String RULES = """
      # one node, many transports
      uds_*@localhost -> uds
      tls_*@localhost -> tls
      * -> tcp
      """;

  @TempDir static Path dir;
  static Path udsDir;
  static TestPki pki;
  static TestPki.Issued ca;
  static EmbeddedEpmd tlsEpmd;
  static TlsConfig hubTls;
  static ErlangPeer tcpErl;
  static ErlangPeer tlsErl;
  static ErlangPeer udsErl;

  @BeforeAll
  static void startErlangNodes() throws Exception {
    udsDir = Files.createDirectories(dir.resolve("uds"));
    Path ebin = dir.resolve("ebin");
    Path udsSource = ErlangPeer.libDir("kernel").resolve("examples/erl_uds_dist/src/erl_uds_dist.erl");
    assertTrue(Files.isRegularFile(udsSource), udsSource + " is missing: install Debian's erlang-examples package");
    ErlangPeer.compileFile(ebin, udsSource);
    ErlangPeer.compileResource(MultiTransportTest.class, "relay_peer.erl", ebin);

    pki = new TestPki(dir);
    ca = pki.ca("ca");
    TestPki.Issued erlCert = pki.node("erl-tls", ca);
    TestPki.Issued hubCert = pki.node("hub", ca);
    hubTls = TlsConfig.builder().certificate(hubCert.certFile(), hubCert.keyFile())
        .trustedCertificates(ca.certFile()).build();
    String cert = "{certfile,\"" + erlCert.certFile() + "\"},{keyfile,\"" + erlCert.keyFile() + "\"},"
        + "{cacertfile,\"" + ca.certFile() + "\"}";
    Path optfile = pki.writeFile("erl.optfile", "[{server,[" + cert + ",{verify,verify_peer},{fail_if_no_peer_cert,true}]},\n"
        + " {client,[" + cert + ",{verify,verify_peer}]}].\n");
    // TLS nodes find each other in their own EPMD: one EPMD keeps one port per node name,
    // and the hub's name is in the standard one with its TCP port.
    tlsEpmd = EmbeddedEpmd.start(InetAddress.getLoopbackAddress(), 0);

    ExecutorService starter = Executors.newFixedThreadPool(3);
    try {
      Future<ErlangPeer> tcp = starter.submit(() -> erl("tcp_").start());
      Future<ErlangPeer> tls = starter.submit(() -> erl("tls_")
          .args("-proto_dist", "inet_tls", "-ssl_dist_optfile", optfile.toString())
          .env(EpmdClient.PORT_ENV, Integer.toString(tlsEpmd.port())).start());
      Future<ErlangPeer> uds = starter.submit(() -> erl("uds_").workDir(udsDir)
          .args("-proto_dist", "erl_uds", "-no_epmd").ensureEpmd(false).start());
      tcpErl = tcp.get(60, TimeUnit.SECONDS);
      tlsErl = tls.get(60, TimeUnit.SECONDS);
      udsErl = uds.get(60, TimeUnit.SECONDS);
    } finally {
      starter.shutdown();
    }
  }

  private static ErlangPeer.Builder erl(String prefix) {
    return ErlangPeer.builder().sname(ErlangPeer.uniqueName(prefix) + "@localhost").cookie(COOKIE)
        .codePath(dir.resolve("ebin")).eval("relay_peer:start()").readyLine("^ready ");
  }

  @AfterAll
  static void stopErlangNodes() {
    for (ErlangPeer p : new ErlangPeer[] {tcpErl, tlsErl, udsErl}) {
      if (p != null) {
        p.close();
      }
    }
    if (tlsEpmd != null) {
      tlsEpmd.close();
    }
  }

  /** A hub with all three transports and the rules above. */
  private static Node hub(String alive, TransportSelector selector) throws IOException {
    UnixTransport uds = UnixTransport.builder().directory(udsDir).build();
    String name = alive + "@localhost";
    InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    return Node.builder(name).cookie(COOKIE)
        .transport(NamedTransport.of("tcp", TcpTransport.create()).listen(loopback).publish(true))
        .transport(NamedTransport.of("tls", new TlsTransport(hubTls)).listen(loopback).publish(true)
            .epmd(new EpmdClient("127.0.0.1", tlsEpmd.port(), 5_000)))
        .transport(NamedTransport.of("uds", uds).listen(uds.addressOf(name)))
        .selector(selector)
        .build();
  }

  /** The Java relay: {@code {forward, Node, Msg}} to the mailbox {@code relay} goes on to {@code {peer, Node}}. */
  private static Thread relay(Node hub) {
    Mailbox box = hub.createMailbox("relay");
    Thread t = new Thread(() -> {
      try {
        while (true) {
          ErlTerm m = box.receive();
          if (m instanceof ErlTuple f && f.arity() == 3 && ErlAtom.of("forward").equals(f.get(0)) && f.get(1) instanceof ErlAtom to) {
            box.send("peer", to.name(), f.get(2));
          }
        }
      } catch (Exception e) {
        // the hub closed (ExitException) or the test ended
      }
    }, "relay");
    t.setDaemon(true);
    t.start();
    return t;
  }

  @Test
  void oneNodeServesTcpTlsAndUdsNodesAndRelaysBetweenThem() throws Exception {
    Map<ErlangPeer, String> expected = Map.of(tcpErl, "tcp", tlsErl, "tls", udsErl, "uds");
    List<ErlangPeer> all = List.of(tcpErl, tlsErl, udsErl);
    try (TraceCapture trace = new TraceCapture();
        Node hub = hub(ErlangPeer.uniqueName("hub"), TransportRules.parse(RULES))) {
      assertEquals(List.of("tcp", "tls", "uds"), hub.transports());
      relay(hub);
      String h = hub.nodeName();

      // 1. The hub starts each connection, over the transport the rules give the name.
      Mailbox me = hub.createMailbox();
      for (ErlangPeer p : all) {
        me.send("peer", p.nodeName(), ErlTuple.of(ErlAtom.of("hello"), me.pid()));
      }
      for (int i = 0; i < all.size(); i++) {
        ErlTerm hi = me.receive(TIMEOUT);
        assertInstanceOf(ErlTuple.class, hi, "no hi from every Erlang node");
        assertEquals(ErlAtom.of("hi"), ((ErlTuple) hi).get(0));
      }
      for (ErlangPeer p : all) {
        String t = expected.get(p);
        p.awaitLine("^hello " + h + "$", WAIT);
        assertEquals(t, hub.transportOf(p.nodeName()).orElseThrow());
        trace.await(WAIT, h + " select " + t + " " + p.nodeName() + " by selector");
        trace.await(WAIT, h + " up " + t + " " + p.nodeName() + " initiated flags=0x");
        trace.await(WAIT, h + " -> " + t + " " + p.nodeName() + " REG_SEND {6,", ",'',peer} {hello,");
        trace.await(WAIT, h + " <- " + t + " " + p.nodeName() + " SEND", "{hi," + p.nodeName() + ",");
      }

      // 2. Each node sends to each other one through the Java relay.
      relayAll(all, h, "first");
      // What came in on one transport went out on another.
      trace.await(WAIT, h + " <- tcp " + tcpErl.nodeName() + " REG_SEND", ",relay} {forward," + tlsErl.nodeName() + ",");
      trace.await(WAIT, h + " -> tls " + tlsErl.nodeName() + " REG_SEND", ",peer} {from," + tcpErl.nodeName() + ",first_");
      trace.await(WAIT, h + " -> uds " + udsErl.nodeName() + " REG_SEND", ",peer} {from," + tlsErl.nodeName() + ",first_");

      // 3. Now each Erlang node connects to the hub itself, each on its own listener: TCP
      // found in EPMD, TLS in the TLS nodes' EPMD, AF_UNIX by the socket file.
      for (ErlangPeer p : all) {
        hub.disconnect(p.nodeName());
        p.sendLine("wait_down " + h);
        p.awaitLine("^down " + h + " false$", WAIT);
      }
      for (ErlangPeer p : all) {
        p.sendLine("ping " + h);
        p.awaitLine("^ping " + h + " pong$", WAIT);
        String t = expected.get(p);
        trace.await(WAIT, h + " handshake " + t + " " + p.nodeName() + " status ok");
        trace.await(WAIT, h + " up " + t + " " + p.nodeName() + " accepted flags=0x");
        assertEquals(t, hub.transportOf(p.nodeName()).orElseThrow());
      }
      relayAll(all, h, "second");
      for (ErlangPeer p : all) {
        assertEquals(expected.get(p), hub.transportOf(p.nodeName()).orElseThrow(), "a second connection replaced " + p.nodeName());
      }

      // The handshake shows names, flags and status only.
      for (String line : trace.lines()) {
        assertFalse(line.contains(COOKIE), "the cookie is in the trace: " + line);
      }
    }
  }

  /** Every node sends a word to every other node through the relay, and each receives it. */
  private static void relayAll(List<ErlangPeer> all, String hub, String round) {
    for (ErlangPeer from : all) {
      for (ErlangPeer to : all) {
        if (from != to) {
          String word = round + "_" + from.alive() + "_" + to.alive();
          from.sendLine("relay " + hub + " " + to.nodeName() + " " + word);
        }
      }
    }
    for (ErlangPeer from : all) {
      for (ErlangPeer to : all) {
        if (from != to) {
          String word = round + "_" + from.alive() + "_" + to.alive();
          to.awaitLine("^got " + from.nodeName() + " " + word + "$", WAIT);
        }
      }
    }
  }

  @Test
  void aSelectorMayAskEpmdAndAnExplicitTransportOverridesIt() throws Exception {
    // Registered in EPMD: TCP; not registered (erl_uds_dist runs without EPMD): AF_UNIX.
    TransportSelector byEpmd = peer -> peer.epmd().isPresent() ? "tcp" : "uds";
    try (TraceCapture trace = new TraceCapture();
        Node hub = hub(ErlangPeer.uniqueName("hub"), byEpmd)) {
      String h = hub.nodeName();
      Mailbox me = hub.createMailbox();
      for (ErlangPeer p : List.of(tcpErl, udsErl)) {
        me.send("peer", p.nodeName(), ErlTuple.of(ErlAtom.of("hello"), me.pid()));
        ErlTuple hi = (ErlTuple) me.receive(TIMEOUT);
        assertEquals(ErlAtom.of(p.nodeName()), hi.get(1));
      }
      assertEquals("tcp", hub.transportOf(tcpErl.nodeName()).orElseThrow());
      assertEquals("uds", hub.transportOf(udsErl.nodeName()).orElseThrow());

      // The selector would pick TCP for the TLS node (it is in the TLS EPMD, not the
      // standard one, so it picks AF_UNIX and finds no socket file): the explicit choice wins.
      assertEquals("tls", hub.connect(tlsErl.nodeName(), "tls", TIMEOUT));
      trace.await(WAIT, h + " select tls " + tlsErl.nodeName() + " by explicit choice");
      assertEquals("tls", hub.transportOf(tlsErl.nodeName()).orElseThrow());
      ErlPid peer = sayHello(me, tlsErl);
      assertEquals(ErlAtom.of(tlsErl.nodeName()), peer.node());

      // An existing connection stays whatever the explicit choice: one connection per node pair.
      assertEquals("uds", hub.connect(udsErl.nodeName(), "tcp", TIMEOUT));
      // An explicit transport the peer does not speak fails, although the selector's would work.
      hub.disconnect(tcpErl.nodeName());
      assertThrows(IOException.class, () -> hub.connect(tcpErl.nodeName(), "uds", 3_000));
      assertTrue(hub.transportOf(tcpErl.nodeName()).isEmpty());
      assertThrows(IllegalArgumentException.class, () -> hub.connect(tcpErl.nodeName(), "carrier-pigeon", TIMEOUT));
    }
  }

  private static ErlPid sayHello(Mailbox me, ErlangPeer p) throws Exception {
    me.send("peer", p.nodeName(), ErlTuple.of(ErlAtom.of("hello"), me.pid()));
    ErlTuple hi = (ErlTuple) me.receive(TIMEOUT);
    assertEquals(ErlAtom.of(p.nodeName()), hi.get(1));
    return (ErlPid) hi.get(2);
  }

  @Test
  void aPeerConnectingOnTwoTransportsAtOnceEndsWithOneConnection() throws Exception {
    try (Node hub = hub(ErlangPeer.uniqueName("hub"), TransportRules.parse(RULES))) {
      for (int round = 0; round < 4; round++) {
        // Two processes with one node name, one on TCP and one on AF_UNIX, connect at the same moment.
        String twin = ErlangPeer.uniqueName("twin") + "@localhost";
        try (io.ei4j.connect.EiNode viaTcp = io.ei4j.connect.EiNode.builder(twin).cookie(COOKIE)
                .transport(TcpTransport.create()).build();
            io.ei4j.connect.EiNode viaUds = io.ei4j.connect.EiNode.builder(twin).cookie(COOKIE)
                .transport(UnixTransport.builder().directory(udsDir).build()).build()) {
          java.util.concurrent.CyclicBarrier go = new java.util.concurrent.CyclicBarrier(2);
          ExecutorService two = Executors.newFixedThreadPool(2);
          try {
            Future<EiConnection> tcp = two.submit(() -> {
              go.await();
              return viaTcp.connect(hub.listenAddress("tcp"), TIMEOUT);
            });
            Future<EiConnection> uds = two.submit(() -> {
              go.await();
              return viaUds.connect(hub.listenAddress("uds"), TIMEOUT);
            });
            EiConnection a = outcome(tcp);
            EiConnection b = outcome(uds);
            assertTrue(a != null || b != null, "neither connection was accepted");
            // The hub keeps one; the other was refused (nok) or replaced and closed.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (a != null && b != null && a.isOpen() && b.isOpen() && System.nanoTime() < deadline) {
              Thread.sleep(10);
            }
            boolean tcpOpen = a != null && a.isOpen();
            boolean udsOpen = b != null && b.isOpen();
            assertTrue(tcpOpen ^ udsOpen, "round " + round + ": open connections tcp=" + tcpOpen + " uds=" + udsOpen);
            String survivor = tcpOpen ? "tcp" : "uds";
            waitFor(() -> hub.transportOf(twin).equals(java.util.Optional.of(survivor)),
                "the hub's connection to " + twin + " is the surviving " + survivor + " one, not " + hub.transportOf(twin));
            // It carries traffic: a message from the twin reaches a hub mailbox.
            Mailbox box = hub.createMailbox("twinbox" + round);
            EiConnection live = tcpOpen ? a : b;
            live.regSend(live.self(), "twinbox" + round, ErlAtom.of("hello"));
            assertEquals(ErlAtom.of("hello"), box.receive(TIMEOUT));
          } finally {
            two.shutdownNow();
          }
        }
      }
    }
  }

  private static EiConnection outcome(Future<EiConnection> f) throws Exception {
    try {
      return f.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof IOException) {
        return null; // refused: the other attempt won
      }
      throw e;
    }
  }

  private static void waitFor(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what);
      }
      Thread.sleep(10);
    }
  }
}
