package io.ei4j.transport.unix;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.testkit.conformance.SocketCallbacksConformance;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;

/** AF_UNIX socket files with FULL_IMPL: the transport as Erlang nodes meet it. */
class UnixCallbacksConformanceTest extends SocketCallbacksConformance<UnixSocket> {
  private static final UnixTransport CALLBACKS = UnixTransport.create();
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
