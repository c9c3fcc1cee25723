/**
 * The runnable samples ({@code io.ei4j.samples.Main}): the C-node tutorial's server, an
 * echo server, and rpc and send clients, over TCP, TLS or AF_UNIX. An application: it
 * exports nothing.
 */
module io.ei4j.samples {
  requires io.ei4j.core;
  requires io.ei4j.transport.tcp;
  requires io.ei4j.transport.tls;
  requires io.ei4j.transport.unix;
  requires org.slf4j;
  // BouncyCastleLogging routes BouncyCastle's java.util.logging records into slf4j.
  requires java.logging;
  // tls-setup writes a development CA and node certificate.
  requires org.bouncycastle.pkix;
  requires org.bouncycastle.provider;
}
