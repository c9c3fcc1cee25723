package io.ei4j.transport.tls;

import io.ei4j.testkit.ErlangPeer;
import io.ei4j.testkit.pki.TestPki;
import java.nio.file.Path;

/**
 * Starting {@code erl} with TLS distribution: writes an {@code ssl_dist_optfile} for a
 * certificate and CA and returns the peer builder with {@code -proto_dist inet_tls}.
 */
public final class ErlangTls {
  private ErlangTls() {}

  /**
   * An optfile as the OTP guide describes: the server verifies peers and requires a client
   * certificate; the client verifies the server. {@code own} may be null for a node with
   * no certificate on its client side (it can then only reach servers that do not
   * require one).
   */
  public static Path optfile(TestPki pki, String name, TestPki.Issued own, TestPki.Issued ca, boolean clientCert) {
    return optfile(pki, name, own, ca, clientCert, "");
  }

  /** As above, with {@code extra} ssl options (comma-terminated) on both sides. */
  public static Path optfile(TestPki pki, String name, TestPki.Issued own, TestPki.Issued ca, boolean clientCert,
      String extra) {
    String cert = own == null ? "" : "{certfile,\"" + own.certFile() + "\"},{keyfile,\"" + own.keyFile() + "\"},";
    String text = "[{server,[" + extra + cert + "{cacertfile,\"" + ca.certFile() + "\"},"
        + "{verify,verify_peer},{fail_if_no_peer_cert,true}]},\n"
        + " {client,[" + extra + (clientCert ? cert : "") + "{cacertfile,\"" + ca.certFile() + "\"},"
        + "{verify,verify_peer}]}].\n";
    return pki.writeFile(name + ".optfile", text);
  }

  /** {@code erl -proto_dist inet_tls -ssl_dist_optfile FILE -sname alive}. */
  public static ErlangPeer.Builder peer(String alive, Path optfile) {
    return ErlangPeer.builder().sname(alive)
        .args("-proto_dist", "inet_tls", "-ssl_dist_optfile", optfile.toString());
  }
}
