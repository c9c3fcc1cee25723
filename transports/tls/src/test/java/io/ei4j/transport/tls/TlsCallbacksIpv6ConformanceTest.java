package io.ei4j.transport.tls;

import java.net.InetAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;

/**
 * The callback conformance suite over TLS on IPv6 loopback, connecting to the literal
 * {@code ::1}: the server certificate is checked against its IP address names, no SNI.
 */
class TlsCallbacksIpv6ConformanceTest extends TlsCallbacksConformanceTest {
  @Override
  protected SocketAddress newListenAddress() throws UnknownHostException {
    return new java.net.InetSocketAddress(InetAddress.getByName("::1"), 0);
  }

  @Override
  protected SocketAddress connectAddress(SocketAddress bound) {
    return bound;
  }
}
