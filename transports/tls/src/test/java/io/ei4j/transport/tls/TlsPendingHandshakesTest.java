package io.ei4j.transport.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.Accepted;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiNode;
import io.ei4j.node.Node;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.testkit.pki.TestPki;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TLS listener drives the TLS handshakes of all its accepted connections together: silent
 * TCP clients (connected, no ClientHello) never delay an honest one, at the transport level,
 * through an {@link EiListener} and through a {@link Node}; and beyond the cap on pending
 * TLS handshakes the least advanced one is evicted, a silent one parked open until its
 * deadline.
 */
@Timeout(60)
class TlsPendingHandshakesTest {
  private static final int SILENT = 50;
  private static final String COOKIE = "tlspending" + Long.toHexString(new SecureRandom().nextLong());

  @TempDir static Path dir;
  static TestPki.Issued ca;
  static TestPki.Issued serverCert;
  static TlsConfig server;
  static TlsConfig client;

  private final TlsTransport transport = new TlsTransport(TlsConfig.builder().verifyPeer(false).build());
  private final List<AutoCloseable> cleanup = new ArrayList<>();
  private final ExecutorService executor = Executors.newCachedThreadPool();

  @BeforeAll
  static void certificates() {
    TestPki pki = new TestPki(dir);
    ca = pki.ca("pending-ca");
    serverCert = pki.node("pending-server", ca);
    TestPki.Issued clientCert = pki.node("pending-client", ca);
    server = serverConfig().build();
    client = TlsConfig.builder().certificate(clientCert.certFile(), clientCert.keyFile())
        .trustedCertificates(ca.certFile()).build();
  }

  @AfterEach
  void closeAll() throws Exception {
    executor.shutdownNow();
    for (int i = cleanup.size() - 1; i >= 0; i--) {
      cleanup.get(i).close();
    }
  }

  private static InetSocketAddress loopback(int port) {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
  }

  /** A transport-level listener on the loopback address; returns it, its port in {@code port[0]}. */
  private TlsSocket listen(TlsConfig config, int[] port) throws IOException {
    TlsSocket l = transport.socket(config);
    cleanup.add(l::close);
    port[0] = ((InetSocketAddress) transport.listen(l, loopback(0), 128)).getPort();
    return l;
  }

  /** Opens {@code count} TCP connections that never send a byte, in order. */
  private List<Socket> silent(int port, int count) throws IOException {
    List<Socket> held = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Socket s = new Socket();
      cleanup.add(s);
      s.connect(loopback(port), 2_000);
      held.add(s);
    }
    return held;
  }

  /** Whether the server closed {@code s} within {@code millis}. */
  private static boolean closedByServer(Socket s, int millis) throws IOException {
    s.setSoTimeout(millis);
    InputStream in = s.getInputStream();
    try {
      return in.read() < 0;
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }

  /** Reads everything {@code s} received; whether the server closed it within {@code millis} of silence. */
  private static boolean drainedToEnd(Socket s, int millis) throws IOException {
    s.setSoTimeout(millis);
    InputStream in = s.getInputStream();
    byte[] sink = new byte[4096];
    try {
      while (in.read(sink) >= 0) {
        // the server's first flight
      }
      return true;
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }

  /** Calls accept until the listener is closed; what it returns and throws goes to the queues. */
  private void acceptForever(TlsSocket l, LinkedBlockingQueue<Accepted<TlsSocket>> accepted,
      LinkedBlockingQueue<IOException> failures) {
    executor.submit(() -> {
      while (true) {
        try {
          Accepted<TlsSocket> a = transport.accept(l, SocketCallbacks.INFINITE);
          cleanup.add(a.context()::close);
          accepted.add(a);
        } catch (ErrnoException e) {
          if (e.errno() == Errno.EBADF) {
            return null;
          }
          failures.add(e);
        }
      }
    });
  }

  private long connectMillis(TlsSocket c, int port) throws IOException {
    long start = System.nanoTime();
    transport.connect(c, new InetSocketAddress("localhost", port), 5_000);
    return (System.nanoTime() - start) / 1_000_000;
  }

  private void roundTrip(TlsSocket a, TlsSocket b) throws IOException {
    byte[] msg = "honest".getBytes(StandardCharsets.US_ASCII);
    ByteBuffer out = ByteBuffer.wrap(msg);
    while (out.hasRemaining()) {
      transport.write(a, out, 5_000);
    }
    ByteBuffer in = ByteBuffer.allocate(msg.length);
    while (in.hasRemaining()) {
      assertTrue(transport.read(b, in, 5_000) > 0);
    }
    assertArrayEquals(msg, in.array());
  }

  @Test
  void anHonestClientIsAcceptedPromptlyWhileFiftySilentOnesArePending() throws Exception {
    int[] port = new int[1];
    TlsSocket l = listen(server, port);
    LinkedBlockingQueue<Accepted<TlsSocket>> accepted = new LinkedBlockingQueue<>();
    LinkedBlockingQueue<IOException> failures = new LinkedBlockingQueue<>();
    acceptForever(l, accepted, failures);
    List<Socket> held = silent(port[0], SILENT);

    TlsSocket c = transport.socket(client);
    cleanup.add(c::close);
    long ms = connectMillis(c, port[0]);
    Accepted<TlsSocket> a = accepted.poll(5, TimeUnit.SECONDS);
    System.out.printf("TLS pending handshakes: transport-level client connected in %d ms with %d silent connections%n",
        ms, SILENT);
    assertNotNull(a, "the honest client was not accepted");
    assertTrue(ms < 5_000, "the honest client needed " + ms + " ms");
    roundTrip(c, a.context());
    assertTrue(failures.isEmpty(), "accept failed: " + failures);
    for (Socket s : held) {
      assertFalse(closedByServer(s, 1), "a silent connection within the cap was closed");
    }
  }

  @Test
  void beyondTheCapSilentConnectionsAreParkedOpenUntilTheirDeadline() throws Exception {
    int cap = 8;
    int[] port = new int[1];
    TlsSocket l = listen(serverConfig().maxPendingHandshakes(cap).handshakeTimeout(Duration.ofSeconds(3)).build(), port);
    LinkedBlockingQueue<Accepted<TlsSocket>> accepted = new LinkedBlockingQueue<>();
    LinkedBlockingQueue<IOException> failures = new LinkedBlockingQueue<>();
    acceptForever(l, accepted, failures);
    long opened = System.nanoTime();
    List<Socket> held = silent(port[0], cap + 4);

    // An honest client still gets in: it evicts a silent connection.
    TlsSocket c = transport.socket(client);
    cleanup.add(c::close);
    long ms = connectMillis(c, port[0]);
    Accepted<TlsSocket> a = accepted.poll(5, TimeUnit.SECONDS);
    assertNotNull(a, "the honest client was not accepted");
    assertTrue(ms < 5_000, "the honest client needed " + ms + " ms");
    roundTrip(c, a.context());
    // The evicted ones were parked, not closed: closing them would invite a reconnect.
    for (int i = 0; i < held.size(); i++) {
      assertFalse(closedByServer(held.get(i), 1), "silent connection " + i + " was closed before its deadline");
    }
    long elapsed = (System.nanoTime() - opened) / 1_000_000;
    assertTrue(elapsed < 2_500, "the checks took too long to mean anything: " + elapsed + " ms");
    // ... and every one of them, parked or pending, is closed at its handshake deadline.
    for (int i = 0; i < held.size(); i++) {
      assertTrue(closedByServer(held.get(i), 10_000), "silent connection " + i + " outlived its handshake deadline");
    }
    assertTrue(failures.stream().allMatch(e -> e instanceof ErrnoException ee && ee.errno() == Errno.ETIMEDOUT), "only the deadlines may fail accept: " + failures);
  }

  @Test
  void aHandshakeThatHasSentItsClientHelloIsNotEvictedBySilentNewcomers() throws Exception {
    int cap = 4;
    int[] port = new int[1];
    TlsSocket l = listen(serverConfig().maxPendingHandshakes(cap).build(), port);
    acceptForever(l, new LinkedBlockingQueue<>(), new LinkedBlockingQueue<>());
    // The oldest pending handshake, and the only one that got anywhere: a ClientHello,
    // answered by the server's first flight, then nothing.
    Socket started = new Socket();
    cleanup.add(started);
    started.connect(loopback(port[0]), 2_000);
    started.getOutputStream().write(clientHello());
    started.setSoTimeout(5_000);
    assertTrue(started.getInputStream().read() >= 0, "the server did not answer the ClientHello");
    List<Socket> held = silent(port[0], 4 * cap);
    Thread.sleep(300); // the listener admits them all, evicting cap * 3 of the silent ones
    assertFalse(drainedToEnd(started, 500), "the handshake that had sent its ClientHello was evicted");
    assertTrue(held.stream().noneMatch(s -> {
      try {
        return closedByServer(s, 1);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    }), "an evicted silent connection was closed rather than parked");
  }

  @Test
  void anEvictedConnectionThatHadSentNothingIsAdmittedAgainWhenItsClientHelloComes() throws Exception {
    int cap = 4;
    int[] port = new int[1];
    TlsSocket l = listen(serverConfig().maxPendingHandshakes(cap).build(), port);
    acceptForever(l, new LinkedBlockingQueue<>(), new LinkedBlockingQueue<>());
    // The oldest pending handshake, slow to send its ClientHello: silent newcomers evict it
    // (it has sent no record, and it is the oldest), as a storm of attackers would.
    Socket slow = new Socket();
    cleanup.add(slow);
    slow.connect(loopback(port[0]), 2_000);
    Thread.sleep(100);
    List<Socket> held = silent(port[0], 2 * cap); // the first cap - 1 of them are evicted after the slow one
    Thread.sleep(300);
    assertFalse(closedByServer(slow, 1), "the evicted connection was closed rather than parked");
    slow.getOutputStream().write(clientHello());
    slow.setSoTimeout(5_000);
    assertTrue(slow.getInputStream().read() >= 0, "the server did not answer the ClientHello of a parked connection");
    // A parked connection whose first bytes are not TLS is admitted, refused and closed.
    Socket notTls = held.get(0);
    notTls.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    assertTrue(closedByServer(notTls, 5_000), "a parked connection that sent HTTP was not closed");
  }

  @Test
  void parkedConnectionsBeyondTheirCapAreClosedOldestFirst() throws Exception {
    int cap = 1;
    int parkedMax = TlsListener.PARKED_PER_SLOT * cap;
    int[] port = new int[1];
    TlsSocket l = listen(serverConfig().maxPendingHandshakes(cap).build(), port);
    acceptForever(l, new LinkedBlockingQueue<>(), new LinkedBlockingQueue<>());
    List<Socket> held = new ArrayList<>();
    for (int i = 0; i < cap + parkedMax + 3; i++) {
      held.addAll(silent(port[0], 1));
      Thread.sleep(10); // admitted in this order
    }
    for (int i = 0; i < 3; i++) {
      assertTrue(closedByServer(held.get(i), 5_000), "parked connection " + i + " (beyond the cap, oldest) is still open");
    }
    for (int i = 3; i < held.size(); i++) {
      assertFalse(closedByServer(held.get(i), 1), "connection " + i + " (within the caps) was closed");
    }
  }

  /** The first flight of a TLS client made by the JDK's own engine: one ClientHello record. */
  private static byte[] clientHello() throws Exception {
    javax.net.ssl.SSLEngine engine = javax.net.ssl.SSLContext.getDefault().createSSLEngine("localhost", 0);
    engine.setUseClientMode(true);
    engine.beginHandshake();
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    byte[] bytes = new byte[out.remaining()];
    out.get(bytes);
    assertEquals(22, bytes[0], "not a TLS handshake record");
    return bytes;
  }

  @Test
  void expiredAndFailedHandshakesStillFailAcceptWhenNothingElseCompletes() throws Exception {
    int[] port = new int[1];
    TlsSocket l = listen(serverConfig().handshakeTimeout(Duration.ofMillis(400)).build(), port);
    List<Socket> held = silent(port[0], 3);
    long start = System.nanoTime();
    ErrnoException e = assertThrows(ErrnoException.class, () -> transport.accept(l, 5_000));
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertEquals(Errno.ETIMEDOUT, e.errno());
    assertTrue(e.getMessage().contains("TLS handshake"), e.getMessage());
    assertTrue(ms >= 350 && ms < 3_000, "took " + ms + " ms");
    // The three deadlines differ by the time each admission took (the first engine is the
    // slow one), so one accept may report only some of them: each further accept reports
    // the next that ran out, until one finds none left and times out itself.
    int reported = 1;
    while (true) {
      ErrnoException again = assertThrows(ErrnoException.class, () -> transport.accept(l, 1_000));
      assertEquals(Errno.ETIMEDOUT, again.errno());
      if (!again.getMessage().contains("TLS handshake")) {
        break;
      }
      reported++;
      assertTrue(reported <= held.size(), "more expired handshakes reported than were pending");
    }
    for (Socket s : held) {
      assertTrue(closedByServer(s, 2_000), "an expired handshake's connection is still open");
    }
  }

  @Test
  void anEiListenerAcceptsAnHonestNodeWhileFiftySilentConnectionsArePending() throws Exception {
    try (EiNode node = EiNode.builder(ErlangPeer.uniqueName("tlslisten") + "@localhost").cookie(COOKIE)
            .transport(new TlsTransport(server)).build();
        EiNode honest = EiNode.builder(ErlangPeer.uniqueName("tlshonest") + "@localhost").cookie(COOKIE)
            .transport(new TlsTransport(client)).build()) {
      EiListener l = node.listen(loopback(0), 128);
      int port = ((InetSocketAddress) l.address()).getPort();
      Future<EiConnection> accepted = executor.submit(() -> l.accept(10_000));
      silent(port, SILENT);
      long start = System.nanoTime();
      try (EiConnection c = honest.connect(loopback(port), 5_000)) {
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("TLS pending handshakes: EiNode connected to an EiListener in %d ms with %d silent connections%n",
            ms, SILENT);
        try (EiConnection server = accepted.get(5, TimeUnit.SECONDS)) {
          assertEquals(honest.nodeName(), server.peerNodeName());
          assertEquals(node.nodeName(), c.peerNodeName());
        }
        assertTrue(ms < 5_000, "the honest node needed " + ms + " ms");
      }
    }
  }

  @Test
  void aNodeAcceptsAnHonestNodeWhileFiftySilentConnectionsArePending() throws Exception {
    ErlangPeer.ensureEpmd();
    try (Node node = Node.builder(ErlangPeer.uniqueName("tlsnode") + "@localhost").cookie(COOKIE)
            .transport(new TlsTransport(server)).listen(loopback(0)).build();
        EiNode honest = EiNode.builder(ErlangPeer.uniqueName("tlshonest") + "@localhost").cookie(COOKIE)
            .transport(new TlsTransport(client)).build()) {
      int port = ((InetSocketAddress) node.listenAddress()).getPort();
      silent(port, SILENT);
      long start = System.nanoTime();
      try (EiConnection c = honest.connect(loopback(port), 5_000)) {
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("TLS pending handshakes: EiNode connected to a Node in %d ms with %d silent connections%n",
            ms, SILENT);
        assertTrue(c.isOpen());
        assertTrue(ms < 5_000, "the honest node needed " + ms + " ms");
      }
    }
  }

  /** The server's configuration, to change a setting of. */
  private static TlsConfig.Builder serverConfig() {
    return TlsConfig.builder().certificate(serverCert.certFile(), serverCert.keyFile())
        .trustedCertificates(ca.certFile());
  }
}
