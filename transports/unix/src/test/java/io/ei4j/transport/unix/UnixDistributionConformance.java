package io.ei4j.transport.unix;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiNode;
import io.ei4j.conformance.DistributionConformance;
import io.ei4j.testkit.ErlangPeer;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;

/**
 * Core's distribution conformance suite over AF_UNIX against {@code erl -proto_dist erl_uds
 * -no_epmd}: every node of a run, Java or Erlang, keeps its socket file in one working
 * directory, where {@code erl_uds_dist} and {@link UnixTransport#nodeAddress} both
 * look for peers. Subclasses choose whether the callbacks implement timeouts themselves.
 */
abstract class UnixDistributionConformance extends DistributionConformance {
  private final Path work;
  private final UnixTransport callbacks;
  private final AtomicInteger next = new AtomicInteger();

  UnixDistributionConformance(boolean fullImpl) throws IOException {
    this.work = Files.createTempDirectory("ei4j-uds-conf");
    this.callbacks = UnixTransport.builder().directory(work).fullImpl(fullImpl).build();
  }

  @AfterAll
  void deleteWorkDirectory() {
    ErlUdsDist.deleteTree(work);
  }

  @Override
  protected SocketCallbacks<?> callbacks() {
    return callbacks;
  }

  @Override
  protected ErlangPeer.Builder peerBuilder(String alive) {
    return ErlangPeer.builder()
        .sname(alive + "@localhost")
        .workDir(work)
        .codePath(ErlUdsDist.ebin())
        .args("-proto_dist", "erl_uds", "-no_epmd");
  }

  @Override
  protected String javaHost() {
    return "localhost";
  }

  @Override
  protected SocketAddress newListenAddress() {
    return UnixSocketAddress.of(work.resolve("listener" + next.incrementAndGet()));
  }

  /** Listens where Erlang nodes look for {@code node}: its alive name in the directory. */
  @Override
  protected EiListener listenForPeers(EiNode node) throws IOException {
    return node.listen(callbacks.addressOf(node.nodeName()), 5);
  }
}
