package io.ei4j.transport.unix;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.testkit.conformance.SocketCallbacksConformance;
import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

/** Linux abstract names: no files, so every listener uses a name unique to this JVM. */
class UnixCallbacksAbstractConformanceTest extends SocketCallbacksConformance<UnixSocket> {
  private static final UnixTransport CALLBACKS = UnixTransport.create();
  private static final AtomicInteger NEXT = new AtomicInteger();

  @Override
  protected SocketCallbacks<UnixSocket> callbacks() {
    return CALLBACKS;
  }

  @Override
  protected SocketAddress newListenAddress() {
    return UnixSocketAddress.ofAbstract(
        "ei4j-conformance-" + ProcessHandle.current().pid() + "-" + NEXT.incrementAndGet());
  }
}
