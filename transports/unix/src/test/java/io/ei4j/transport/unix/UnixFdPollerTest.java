package io.ei4j.transport.unix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.FdPoller;
import io.ei4j.api.SocketCallbacks;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link UnixFdPoller} on real descriptors, found the way core finds it. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UnixFdPollerTest {
  private static final UnixTransport CALLBACKS = UnixTransport.create();

  @TempDir Path dir;

  @Test
  void serviceLoaderFindsIt() {
    FdPoller found = ServiceLoader.load(FdPoller.class).stream()
        .map(ServiceLoader.Provider::get)
        .filter(p -> p instanceof UnixFdPoller)
        .findFirst()
        .orElseThrow(() -> new AssertionError("UnixFdPoller is not registered"));
    assertTrue(found.isAvailable());
  }

  @Test
  void reportsReadinessAndTimesOut() throws Exception {
    FdPoller poller = new UnixFdPoller();
    UnixSocket l = CALLBACKS.socket(null);
    UnixSocket client = CALLBACKS.socket(null);
    UnixSocket server = null;
    try {
      CALLBACKS.listen(l, UnixSocketAddress.of(dir.resolve("p")), 1);
      assertEquals(0, poller.poll(l.fd(), FdPoller.READ, 0), "nobody connected yet");
      CALLBACKS.connect(client, UnixSocketAddress.of(dir.resolve("p")), 1000);
      assertEquals(FdPoller.READ, poller.poll(l.fd(), FdPoller.READ, 1000), "a connection waits");
      server = CALLBACKS.accept(l, 0).context();

      assertEquals(FdPoller.WRITE, poller.poll(client.fd(), FdPoller.READ | FdPoller.WRITE, 1000));
      long t0 = System.nanoTime();
      assertEquals(0, poller.poll(server.fd(), FdPoller.READ, 200));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(ms >= 195 && ms < 2200, "waited " + ms + " ms");

      CALLBACKS.write(client, ByteBuffer.wrap(new byte[] {1}), 1000);
      assertEquals(FdPoller.READ, poller.poll(server.fd(), FdPoller.READ, SocketCallbacks.INFINITE));

      CALLBACKS.close(client);
      // A hang-up counts as ready, so that the next read reports it.
      CALLBACKS.read(server, ByteBuffer.allocate(1), 1000);
      assertEquals(FdPoller.READ, poller.poll(server.fd(), FdPoller.READ, 1000));
      assertEquals(-1, CALLBACKS.read(server, ByteBuffer.allocate(1), 1000));
    } finally {
      CALLBACKS.close(l);
      CALLBACKS.close(client);
      if (server != null) {
        CALLBACKS.close(server);
      }
    }
  }

  @Test
  void aDescriptorThatIsNotOpenIsEbadf() {
    // A closed descriptor's number may be reused by another thread at once; one far above
    // any limit on open files is never open.
    int fd = 1 << 30;
    ErrnoException e = assertThrows(ErrnoException.class, () -> new UnixFdPoller().poll(fd, FdPoller.READ, 0));
    assertEquals(Errno.EBADF, e.errno());
  }

  @Test
  void rejectsMisuse() {
    FdPoller poller = new UnixFdPoller();
    assertThrows(IllegalArgumentException.class, () -> poller.poll(-1, FdPoller.READ, 0));
    assertThrows(IllegalArgumentException.class, () -> poller.poll(0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> poller.poll(0, FdPoller.READ, -7));
  }
}
