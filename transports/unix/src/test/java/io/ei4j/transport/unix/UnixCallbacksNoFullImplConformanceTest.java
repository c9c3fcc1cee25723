package io.ei4j.transport.unix;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.testkit.conformance.SocketCallbacksConformance;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;

/**
 * AF_UNIX without FULL_IMPL: timeouts are checked by polling the real descriptor through
 * the {@link UnixFdPoller} that {@link java.util.ServiceLoader} finds, as core does.
 */
class UnixCallbacksNoFullImplConformanceTest extends SocketCallbacksConformance<UnixSocket> {
  private static final UnixTransport CALLBACKS =
      UnixTransport.builder().fullImpl(false).build();
  private final AtomicInteger next = new AtomicInteger();

  @TempDir Path dir;

  @Override
  protected SocketCallbacks<UnixSocket> callbacks() {
    return CALLBACKS;
  }

  @Override
  protected SocketAddress newListenAddress() {
    return UnixSocketAddress.of(dir.resolve("s" + next.incrementAndGet()));
  }
}
