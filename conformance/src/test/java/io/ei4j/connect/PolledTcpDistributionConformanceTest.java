package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.conformance.DistributionConformance;
import io.ei4j.testkit.ErlangPeer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;

/**
 * The distribution conformance suite over a TCP transport WITHOUT {@code FULL_IMPL}
 * ({@link PolledTcp}): every timeout is enforced by core through the {@code FdPoller}, as
 * ei does with {@code select()}; against real {@code erl} like the TCP run.
 */
class PolledTcpDistributionConformanceTest extends DistributionConformance {
  private final PolledTcp transport = new PolledTcp();

  @Override
  protected SocketCallbacks<?> callbacks() {
    return transport;
  }

  @Override
  protected EiNode.Builder configure(EiNode.Builder builder) {
    return builder.fdPoller(transport);
  }

  @Override
  protected ErlangPeer.Builder peerBuilder(String alive) {
    return ErlangPeer.builder().sname(alive);
  }

  @Override
  protected SocketAddress newListenAddress() throws UnknownHostException {
    return new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0);
  }

  @Test
  void aNodeWithoutFullImplAndWithoutPollerIsRefused() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> EiNode.builder("nopoller@localhost").cookie("c").transport(new PolledTcp()).build());
    assertTrue(e.getMessage().contains("FULL_IMPL") && e.getMessage().contains("FdPoller"), e.getMessage());
  }
}
