package io.ei4j.transport.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.Accepted;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import io.ei4j.testkit.pki.TestPki;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS handshakes between two {@link TlsTransport} sockets over real loopback TCP: what is
 * negotiated, what each side rejects and with which reason, and that neither a plaintext
 * nor a silent peer disturbs a listener.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TlsHandshakeTest {
  @TempDir static Path dir;
  static TestPki.Issued ca;
  static TestPki.Issued otherCa;
  static TlsConfig server;
  static TlsConfig client;
  static TlsConfig otherCaServer;
  static TlsConfig otherCaClient;
  static TlsConfig wrongHostServer;
  static TlsConfig rsaServer;
  static TlsConfig noCertClient;

  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final List<TlsSocket> opened = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final java.util.Map<TlsSocket, Integer> ports = new java.util.HashMap<>();
  private final TlsTransport transport = new TlsTransport(client);

  @BeforeAll
  static void certificates() {
    TestPki pki = new TestPki(dir);
    ca = pki.ca("handshake-ca");
    otherCa = pki.ca("other-ca");
    TestPki.Issued serverCert = pki.node("server", ca);
    TestPki.Issued clientCert = pki.node("client", ca);
    TestPki.Issued strangerServer = pki.node("stranger-server", otherCa);
    TestPki.Issued strangerClient = pki.node("stranger-client", otherCa);
    TestPki.Issued wrongHost = pki.node("wrong-host", ca, List.of("elsewhere.invalid"), List.of());
    java.time.Instant now = java.time.Instant.now();
    TestPki.Issued rsa = pki.node("rsa-server", ca, TestPki.rsaKeys(), List.of("localhost"), List.of(),
        now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(1)), TestPki.KeyFormat.TRADITIONAL);
    server = config(serverCert, ca).build();
    client = config(clientCert, ca).build();
    otherCaServer = config(strangerServer, ca).build();
    otherCaClient = config(strangerClient, ca).build();
    wrongHostServer = config(wrongHost, ca).build();
    rsaServer = config(rsa, ca).build();
    noCertClient = TlsConfig.builder().trustedCertificates(ca.certFile()).build();
  }

  static TlsConfig.Builder config(TestPki.Issued cert, TestPki.Issued trusted) {
    return TlsConfig.builder().certificate(cert.certFile(), cert.keyFile()).trustedCertificates(trusted.certFile());
  }

  @AfterEach
  void closeAll() {
    for (TlsSocket s : opened) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closed by the test already
      }
    }
    executor.shutdownNow();
  }

  /** A listener on 127.0.0.1 with {@code config}; returns it and its port. */
  private TlsSocket listen(TlsConfig config) throws IOException {
    TlsSocket l = transport.socket(config);
    opened.add(l);
    InetSocketAddress bound = (InetSocketAddress)
        transport.listen(l, new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 5);
    ports.put(l, bound.getPort());
    return l;
  }

  private int port(TlsSocket listener) {
    return ports.get(listener);
  }

  private Future<Accepted<TlsSocket>> acceptAsync(TlsSocket listener) {
    return executor.submit(() -> {
      Accepted<TlsSocket> a = transport.accept(listener, 10_000);
      opened.add(a.context());
      return a;
    });
  }

  private TlsSocket connect(TlsConfig config, String host, int port) throws IOException {
    TlsSocket c = transport.socket(config);
    opened.add(c);
    transport.connect(c, new InetSocketAddress(host, port), 10_000);
    return c;
  }

  private static IOException failureOf(Future<?> f) throws InterruptedException, java.util.concurrent.TimeoutException {
    try {
      f.get(15, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        return io;
      }
      throw new AssertionError("unexpected failure", e.getCause());
    }
    throw new AssertionError("expected the handshake to fail, it succeeded");
  }

  private static void assertReason(Throwable e, String... anyOf) {
    System.out.println("reason: " + e.getMessage());
    String m = e.getMessage().toLowerCase(Locale.ROOT);
    for (String want : anyOf) {
      if (m.contains(want.toLowerCase(Locale.ROOT))) {
        return;
      }
    }
    throw new AssertionError("expected one of " + List.of(anyOf) + " in: " + e.getMessage(), e);
  }

  /**
   * Listens with {@code serverConfig}, connects to it with {@code clientConfig} as
   * {@code host}, and checks that bytes cross the session both ways: the handshake succeeded.
   */
  private void connectAndRoundTrip(TlsConfig serverConfig, TlsConfig clientConfig, String host) throws Exception {
    TlsSocket l = listen(serverConfig);
    Future<Accepted<TlsSocket>> accepted = acceptAsync(l);
    TlsSocket c = connect(clientConfig, host, port(l));
    roundTrip(c, accepted.get(15, TimeUnit.SECONDS).context());
  }

  private void roundTrip(TlsSocket a, TlsSocket b) throws IOException {
    byte[] msg = "ping over tls".getBytes(StandardCharsets.US_ASCII);
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
  void mutualTlsNegotiatesTls13AndVerifiesBothSides() throws Exception {
    TlsSocket l = listen(server);
    Future<Accepted<TlsSocket>> accepted = acceptAsync(l);
    TlsSocket c = connect(client, "localhost", port(l));
    TlsSocket s = accepted.get(15, TimeUnit.SECONDS).context();
    SSLSession cs = c.session().orElseThrow();
    SSLSession ss = s.session().orElseThrow();
    assertEquals("TLSv1.3", cs.getProtocol());
    assertTrue(cs.getCipherSuite().startsWith("TLS_AES_") && cs.getCipherSuite().contains("_GCM_"),
        "AES-GCM is preferred by default: " + cs.getCipherSuite());
    assertTrue(((X509Certificate) cs.getPeerCertificates()[0]).getSubjectX500Principal().getName().contains("CN=server"));
    assertTrue(((X509Certificate) ss.getPeerCertificates()[0]).getSubjectX500Principal().getName().contains("CN=client"));
    assertTrue(cs.getClass().getName().startsWith("org.bouncycastle"), "not BCJSSE: " + cs.getClass());
    assertEquals(4, transport.handshakePacketHeaderSize(c));
    assertEquals(SocketCallbacks.FLAG_FULL_IMPL, transport.flags() & SocketCallbacks.FLAG_FULL_IMPL);
    roundTrip(c, s);
    roundTrip(s, c);
    int fd = transport.fd(c);
    assertTrue(Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString().startsWith("socket:["),
        "fd " + fd + " is not a socket");
  }

  @Test
  void tls12WhenOnlyThatIsEnabled() throws Exception {
    TlsConfig tls12 = config(certOf(client), ca).protocols("TLSv1.2").build();
    TlsSocket l = listen(server);
    Future<Accepted<TlsSocket>> accepted = acceptAsync(l);
    TlsSocket c = connect(tls12, "localhost", port(l));
    TlsSocket s = accepted.get(15, TimeUnit.SECONDS).context();
    assertEquals("TLSv1.2", c.session().orElseThrow().getProtocol());
    roundTrip(c, s);
  }

  private static TestPki.Issued clientIssued;

  private static TestPki.Issued certOf(TlsConfig ignored) {
    if (clientIssued == null) {
      clientIssued = new TestPki(dir).node("client12", ca);
    }
    return clientIssued;
  }

  @Test
  void rsaKeyInTraditionalPemServes() throws Exception {
    TlsSocket l = listen(rsaServer);
    Future<Accepted<TlsSocket>> accepted = acceptAsync(l);
    TlsSocket c;
    try {
      c = connect(client, "localhost", port(l));
    } catch (IOException e) {
      throw new AssertionError("client failed; server side: " + failureOf(accepted), e);
    }
    TlsSocket s = accepted.get(15, TimeUnit.SECONDS).context();
    assertEquals("RSA", c.session().orElseThrow().getPeerCertificates()[0].getPublicKey().getAlgorithm());
    roundTrip(s, c);
  }

  @Test
  void clientRejectsServerCertificateForAnotherHost() throws Exception {
    TlsSocket l = listen(wrongHostServer);
    Future<Accepted<TlsSocket>> accepted = acceptAsync(l);
    ErrnoException e = assertThrows(ErrnoException.class, () -> connect(client, "localhost", port(l)));
    assertEquals(Errno.EPROTO, e.errno());
    assertReason(e, "localhost", "subject alternative name", "hostname", "endpoint");
    failureOf(accepted);
  }

  @Test
  void hostnameCheckCanBeTurnedOff() throws Exception {
    TlsConfig lenient = config(certOf(client), ca).checkHostname(false).build();
    connectAndRoundTrip(wrongHostServer, lenient, "localhost");
  }

  @Test
  void hostnameIsCheckedAgainstIpAddressNames() throws Exception {
    connectAndRoundTrip(server, client, "127.0.0.1"); // the certificate has IP 127.0.0.1
    TlsSocket l2 = listen(wrongHostServer); // no IP address names
    Future<Accepted<TlsSocket>> accepted2 = acceptAsync(l2);
    ErrnoException e = assertThrows(ErrnoException.class, () -> connect(client, "127.0.0.1", port(l2)));
    assertReason(e, "127.0.0.1", "subject alternative name", "ip");
    failureOf(accepted2);
  }

  @Test
  void clientRejectsServerFromAnotherCa() throws Exception {
    TlsSocket l = listen(otherCaServer);
    Future<Accepted<TlsSocket>> accepted = acceptAsync(l);
    ErrnoException e = assertThrows(ErrnoException.class, () -> connect(client, "localhost", port(l)));
    assertEquals(Errno.EPROTO, e.errno());
    assertReason(e, "certification path", "trust anchor", "certificate");
    IOException serverSide = failureOf(accepted);
    assertReason(serverSide, "certificate_unknown", "bad_certificate", "alert", "closed");
  }

  @Test
  void serverRejectsClientFromAnotherCa() throws Exception {
    TlsSocket l = listen(server);
    Future<Accepted<TlsSocket>> accepted = acceptAsync(l);
    try {
      TlsSocket c = connect(otherCaClient, "localhost", port(l));
      // TLS 1.3: the client finishes before the server has judged its certificate; the
      // rejection arrives as an alert on the first read.
      IOException e = assertThrows(IOException.class, () -> transport.read(c, ByteBuffer.allocate(8), 5_000));
      assertReason(e, "certificate", "alert");
    } catch (ErrnoException e) {
      assertReason(e, "certificate", "alert");
    }
    IOException serverSide = failureOf(accepted);
    assertEquals(Errno.EPROTO, ((ErrnoException) serverSide).errno());
    assertReason(serverSide, "certification path", "trust anchor", "certificate");
  }

  @Test
  void serverRequiresAClientCertificate() throws Exception {
    TlsSocket l = listen(server);
    Future<Accepted<TlsSocket>> accepted = acceptAsync(l);
    try {
      TlsSocket c = connect(noCertClient, "localhost", port(l));
      assertThrows(IOException.class, () -> transport.read(c, ByteBuffer.allocate(8), 5_000));
    } catch (ErrnoException expected) {
      // rejected during the handshake (TLS 1.2 behaviour)
    }
    IOException serverSide = failureOf(accepted);
    assertReason(serverSide, "certificate");
  }

  @Test
  void clientAuthRequestAcceptsAClientWithoutCertificate() throws Exception {
    TlsConfig requesting = config(certOf(client), ca).clientAuth(ClientAuth.REQUEST).build();
    connectAndRoundTrip(requesting, noCertClient, "localhost");
  }

  @Test
  void verifyPeerOffAcceptsAnyServer() throws Exception {
    TlsConfig trusting = TlsConfig.builder().certificate(certOf(client).certFile(), certOf(client).keyFile())
        .verifyPeer(false).build();
    connectAndRoundTrip(otherCaServer, trusting, "localhost");
  }

  @Test
  void plaintextPeerIsRefusedAndTheListenerKeepsServing() throws Exception {
    TlsSocket l = listen(server);
    Future<Accepted<TlsSocket>> first = acceptAsync(l);
    try (Socket plain = new Socket("127.0.0.1", port(l))) {
      OutputStream out = plain.getOutputStream();
      // a distribution 'N' message with a 2-byte header, as a TCP node would send it
      out.write(new byte[] {0, 20, 'N', 0, 0, 0, 0, 0, 0, 0, 0});
      out.flush();
      IOException e = failureOf(first);
      assertEquals(Errno.EPROTO, ((ErrnoException) e).errno());
      assertReason(e, "plaintext");
      assertEquals(-1, plain.getInputStream().read(), "the plaintext peer must see the connection closed");
    }
    Future<Accepted<TlsSocket>> second = acceptAsync(l);
    TlsSocket c = connect(client, "localhost", port(l));
    roundTrip(c, second.get(15, TimeUnit.SECONDS).context());
  }

  @Test
  void aFirstRecordThatIsNotAHandshakeIsRefusedFromItsHeader() throws Exception {
    TlsSocket l = listen(server);
    // TLS application data (23) and a handshake record claiming more than 2^14 bytes: each
    // looks like TLS, and each is refused from its five header bytes, before any engine
    byte[][] headers = {{23, 3, 3, 0, 16}, {22, 3, 1, 0x40, 1}};
    String[] reasons = {"content type 23", "claims 16385 bytes"};
    for (int i = 0; i < headers.length; i++) {
      Future<Accepted<TlsSocket>> accepted = acceptAsync(l);
      try (Socket raw = new Socket("127.0.0.1", port(l))) {
        raw.getOutputStream().write(headers[i]);
        raw.getOutputStream().flush();
        IOException e = failureOf(accepted);
        assertEquals(Errno.EPROTO, ((ErrnoException) e).errno());
        assertReason(e, reasons[i]);
        assertEquals(-1, raw.getInputStream().read(), "the refused peer must see the connection closed");
      }
    }
    Future<Accepted<TlsSocket>> next = acceptAsync(l);
    TlsSocket c = connect(client, "localhost", port(l));
    roundTrip(c, next.get(15, TimeUnit.SECONDS).context());
  }

  @Test
  void aClientHelloThatArrivesByteByByteIsAccepted() throws Exception {
    TlsSocket l = listen(server);
    Future<Accepted<TlsSocket>> accepted = acceptAsync(l);
    // a relay that passes the client's first 12 bytes on one at a time, 20 ms apart, so the
    // listener sees the first record header in pieces, and everything after that at once
    try (java.net.ServerSocket relay = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Future<?> relaying = executor.submit(() -> {
        try (Socket in = relay.accept(); Socket out = new Socket("127.0.0.1", port(l))) {
          executor.submit(() -> {
            out.getInputStream().transferTo(in.getOutputStream());
            return null;
          });
          var from = in.getInputStream();
          var to = out.getOutputStream();
          for (int i = 0; i < 12; i++) {
            int b = from.read();
            if (b < 0) {
              return null;
            }
            to.write(b);
            to.flush();
            Thread.sleep(20);
          }
          from.transferTo(to);
        }
        return null;
      });
      TlsSocket c = connect(client, "localhost", relay.getLocalPort());
      roundTrip(c, accepted.get(15, TimeUnit.SECONDS).context());
      c.close();
      relaying.get(15, TimeUnit.SECONDS);
    }
  }

  @Test
  void silentPeerCannotHoldTheListener() throws Exception {
    TlsConfig impatient = config(certOf(client), ca).handshakeTimeout(Duration.ofMillis(300)).build();
    TlsSocket l = listen(impatient);
    try (Socket silent = new Socket("127.0.0.1", port(l))) {
      long t0 = System.nanoTime();
      ErrnoException e = assertThrows(ErrnoException.class, () -> transport.accept(l, SocketCallbacks.INFINITE));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(Errno.ETIMEDOUT, e.errno());
      assertTrue(ms >= 280 && ms < 3_000, "took " + ms + " ms");
      assertNotNull(silent);
    }
  }

  @Test
  void pollingAcceptCompletesTheHandshakeOfAWaitingPeer() throws Exception {
    TlsSocket l = listen(server);
    long t0 = System.nanoTime();
    ErrnoException none = assertThrows(ErrnoException.class, () -> transport.accept(l, 0));
    assertEquals(Errno.ETIMEDOUT, none.errno());
    assertTrue((System.nanoTime() - t0) / 1_000_000 < 1_000, "a zero timeout waited");
    Future<TlsSocket> client = executor.submit(() -> connect(TlsHandshakeTest.client, "localhost", port(l)));
    Accepted<TlsSocket> a = null;
    for (int i = 0; i < 200 && a == null; i++) {
      try {
        a = transport.accept(l, 0);
      } catch (ErrnoException e) {
        assertEquals(Errno.ETIMEDOUT, e.errno(), "only 'nobody yet' may fail a poll: " + e);
        Thread.sleep(20);
      }
    }
    assertNotNull(a, "no connection within 4 s of polling");
    opened.add(a.context());
    roundTrip(client.get(10, TimeUnit.SECONDS), a.context());
  }

  @Test
  void closeSendsCloseNotify() throws Exception {
    TlsSocket l = listen(server);
    Future<Accepted<TlsSocket>> accepted = acceptAsync(l);
    TlsSocket c = connect(client, "localhost", port(l));
    TlsSocket s = accepted.get(15, TimeUnit.SECONDS).context();
    transport.close(s);
    assertEquals(-1, transport.read(c, ByteBuffer.allocate(4), 5_000));
    assertTrue(c.closeNotifyReceived(), "the peer's close was a bare TCP close, not close_notify");
  }

  @Test
  void listenWithoutCertificateFails() throws Exception {
    TlsSocket l = transport.socket(noCertClient);
    opened.add(l);
    ErrnoException e = assertThrows(ErrnoException.class,
        () -> transport.listen(l, new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 5));
    assertEquals(Errno.EINVAL, e.errno());
    assertReason(e, "certificate");
  }

  @Test
  void connectingToAPlaintextServerFailsWithoutFallback() throws Exception {
    try (java.net.ServerSocket plain = new java.net.ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"))) {
      Future<?> server = executor.submit(() -> {
        try (Socket s = plain.accept()) {
          s.getInputStream().read(new byte[64]);
          s.getOutputStream().write(new byte[] {0, 3, 's', 'o', 'k'}); // a plaintext status
        }
        return null;
      });
      ErrnoException e = assertThrows(ErrnoException.class, () -> connect(client, "localhost", plain.getLocalPort()));
      assertEquals(Errno.EPROTO, e.errno());
      assertReason(e, "plaintext", "not a tls");
      server.get(5, TimeUnit.SECONDS);
    }
  }
}
