package io.ei4j.transport.tls;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.testkit.conformance.SocketCallbacksConformance;
import io.ei4j.testkit.pki.TestPki;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The callback conformance suite over TLS with mutual authentication: the server requires
 * a client certificate, the client checks the server's against "localhost".
 */
class TlsCallbacksConformanceTest extends SocketCallbacksConformance<TlsSocket> {
  @TempDir static Path dir;
  private static TlsConfig server;
  private static TlsConfig client;
  private static TlsTransport transport;

  @BeforeAll
  static void certificates() {
    TestPki pki = new TestPki(dir);
    TestPki.Issued ca = pki.ca("conformance-ca");
    TestPki.Issued serverCert = pki.node("conformance-server", ca);
    TestPki.Issued clientCert = pki.node("conformance-client", ca);
    server = TlsConfig.builder().certificate(serverCert.certFile(), serverCert.keyFile())
        .trustedCertificates(ca.certFile()).build();
    client = TlsConfig.builder().certificate(clientCert.certFile(), clientCert.keyFile())
        .trustedCertificates(ca.certFile()).build();
    transport = new TlsTransport(client);
  }

  @Override
  protected SocketCallbacks<TlsSocket> callbacks() {
    return transport;
  }

  @Override
  protected SocketAddress newListenAddress() throws UnknownHostException {
    return new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0);
  }

  @Override
  protected Object serverSetupContext() {
    return server;
  }

  @Override
  protected Object clientSetupContext() {
    return client;
  }

  /** By name, so that SNI and the hostname check run. */
  @Override
  protected SocketAddress connectAddress(SocketAddress bound) {
    return new InetSocketAddress("localhost", ((InetSocketAddress) bound).getPort());
  }
}
