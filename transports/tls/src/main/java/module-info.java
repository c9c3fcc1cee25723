/**
 * The TLS transport, {@link io.ei4j.transport.tls.TlsTransport}, on BouncyCastle's JSSE
 * provider over JDK TCP channels, as Erlang's {@code inet_tls_dist}.
 *
 * <p>To read a channel's descriptor without {@code /proc}, the application may open
 * {@code java.base/sun.nio.ch} to this module
 * ({@code --add-opens java.base/sun.nio.ch=io.ei4j.transport.tls}).
 */
module io.ei4j.transport.tls {
  requires transitive io.ei4j.api;
  requires io.ei4j.transport.tcp;
  requires org.bouncycastle.tls;
  requires org.bouncycastle.pkix;
  requires org.bouncycastle.provider;

  exports io.ei4j.transport.tls;
}
