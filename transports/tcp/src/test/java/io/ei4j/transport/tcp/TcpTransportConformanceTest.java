package io.ei4j.transport.tcp;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.testkit.conformance.SocketCallbacksConformance;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/** TCP over IPv4 loopback: the reference run of the callback conformance suite. */
class TcpTransportConformanceTest extends SocketCallbacksConformance<TcpSocket> {
  @Override
  protected SocketCallbacks<TcpSocket> callbacks() {
    return TcpTransport.create();
  }

  @Override
  protected SocketAddress newListenAddress() throws java.net.UnknownHostException {
    return new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0);
  }
}
