package io.ei4j.transport.tls;

/**
 * Whether a TLS listener asks connecting nodes for a certificate: the server half of
 * mutual TLS. Matters only when peer verification is on ({@link TlsConfig#verifyPeer()}).
 */
public enum ClientAuth {
  /** The listener does not ask for a client certificate. */
  NONE,
  /**
   * The listener asks for a certificate and verifies one when it is sent, but accepts a
   * client that sends none (ssl's {@code {verify, verify_peer}} with
   * {@code {fail_if_no_peer_cert, false}}).
   */
  REQUEST,
  /**
   * The listener rejects a client that presents no valid certificate (ssl's
   * {@code {verify, verify_peer}} with {@code {fail_if_no_peer_cert, true}}). The default.
   */
  REQUIRE
}
