package io.ei4j.connect;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.conformance.DistributionConformance;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;

/** The distribution conformance suite over TCP, against {@code erl -sname} (inet_tcp_dist). */
class TcpDistributionConformanceTest extends DistributionConformance {
  @Override
  protected SocketCallbacks<?> callbacks() {
    return TcpTransport.create();
  }

  @Override
  protected ErlangPeer.Builder peerBuilder(String alive) {
    return ErlangPeer.builder().sname(alive);
  }

  @Override
  protected SocketAddress newListenAddress() throws UnknownHostException {
    return new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0);
  }
}
