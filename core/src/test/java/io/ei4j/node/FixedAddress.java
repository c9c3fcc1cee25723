package io.ei4j.node;

import io.ei4j.testkit.ForwardingSocketCallbacks;
import io.ei4j.transport.tcp.TcpTransport;
import io.ei4j.transport.tcp.TcpSocket;
import java.net.SocketAddress;
import java.util.Optional;

/** TCP whose naming resolves every node to one address, so tests need no EPMD. */
final class FixedAddress extends ForwardingSocketCallbacks<TcpSocket> {
  private final SocketAddress address;

  FixedAddress(SocketAddress address) {
    super(TcpTransport.create());
    this.address = address;
  }

  @Override
  public Optional<SocketAddress> nodeAddress(String alive, String host) {
    return Optional.of(address);
  }
}
