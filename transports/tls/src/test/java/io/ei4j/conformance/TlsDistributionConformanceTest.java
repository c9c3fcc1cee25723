package io.ei4j.conformance;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiNode;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.testkit.pki.TestPki;
import io.ei4j.transport.tls.ErlangTls;
import io.ei4j.transport.tls.TlsConfig;
import io.ei4j.transport.tls.TlsTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The distribution conformance suite over TLS, against {@code erl -proto_dist inet_tls}
 * whose server side verifies peers and requires a client certificate, and whose client
 * side verifies ours against the host part of our node name.
 *
 * <p>It lives in the suite's package for one reason: the suite's silent-peer test makes
 * its silent peer with the transport's own {@code connect}, which for TLS blocks in a TLS
 * handshake that only the {@code accept} under test would answer. Over TLS a silent peer
 * is a TCP client that never starts the handshake; {@link
 * #acceptTimesOutWhenThePeerSendsNothing} replaces that one test with such a peer.
 */
class TlsDistributionConformanceTest extends DistributionConformance {
  private Path dir;
  private TlsTransport transport;
  private Path optfile;

  private synchronized void certificates() {
    if (transport == null) {
      try {
        // not @TempDir: the suite's @BeforeAll needs the files before JUnit injects one
        dir = Files.createTempDirectory("ei4j-tls-dist");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      TestPki pki = new TestPki(dir);
      TestPki.Issued ca = pki.ca("dist-ca");
      TestPki.Issued erl = pki.node("dist-erl", ca);
      TestPki.Issued java = pki.node("dist-java", ca);
      optfile = ErlangTls.optfile(pki, "dist-erl", erl, ca, true);
      transport = new TlsTransport(TlsConfig.builder()
          .certificate(java.certFile(), java.keyFile()).trustedCertificates(ca.certFile()).build());
    }
  }

  @AfterAll
  void deleteCertificates() throws IOException {
    if (dir != null) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** Proven by ei4j-conformance's TcpDistributionConformanceTest (FULL_IMPL); runs here with -Pthorough. */
  @Override
  protected boolean tickSurvivalProvenElsewhere() {
    return true;
  }

  @Override
  protected SocketCallbacks<?> callbacks() {
    certificates();
    return transport;
  }

  @Override
  protected ErlangPeer.Builder peerBuilder(String alive) {
    certificates();
    return ErlangTls.peer(alive, optfile);
  }

  @Override
  protected SocketAddress newListenAddress() throws UnknownHostException {
    return new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0);
  }

  @Override
  @Test
  void acceptTimesOutWhenThePeerSendsNothing() throws Exception {
    EiNode node = newNode(COOKIE, 60_000);
    EiListener l = node.listen(newListenAddress(), 5);
    InetSocketAddress at = (InetSocketAddress) l.address();
    try (Socket silent = new Socket(at.getAddress(), at.getPort())) {
      long t0 = System.nanoTime();
      ErrnoException e = assertThrows(ErrnoException.class, () -> l.accept(400));
      assertTimedOutInTime(e, t0, 400);
      assertTrue(silent.isConnected());
    } catch (IOException e) {
      throw new AssertionError("could not connect the silent peer", e);
    }
  }
}
