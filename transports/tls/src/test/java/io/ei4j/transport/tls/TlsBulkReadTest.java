package io.ei4j.transport.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.Accepted;
import io.ei4j.testkit.pki.TestPki;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bulk data over one {@link TlsSocket} pair on loopback: a read whose buffer has room for a
 * whole record decrypts straight into it, several records at a time; a smaller buffer is
 * served through the socket's own plaintext buffer. Either way every byte arrives once and
 * in order, and the peer's close_notify ends the stream only after its data.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TlsBulkReadTest {
  /** More than a few TLS records of 16 KiB, and not a multiple of one. */
  private static final int BYTES = 300_001;

  @TempDir static Path dir;
  static TlsConfig server;
  static TlsConfig client;

  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final TlsTransport transport = new TlsTransport(client);
  private TlsSocket listener;
  private TlsSocket writer;
  private TlsSocket reader;

  @BeforeAll
  static void certificates() {
    TestPki pki = new TestPki(dir);
    TestPki.Issued ca = pki.ca("bulk-ca");
    server = TlsHandshakeTest.config(pki.node("server", ca), ca).build();
    client = TlsHandshakeTest.config(pki.node("client", ca), ca).build();
  }

  @BeforeEach
  void connect() throws Exception {
    listener = transport.socket(server);
    int port = ((InetSocketAddress) transport.listen(listener,
        new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 5)).getPort();
    Future<Accepted<TlsSocket>> accepted = executor.submit(() -> transport.accept(listener, 10_000));
    writer = transport.socket(client);
    transport.connect(writer, new InetSocketAddress("localhost", port), 10_000);
    reader = accepted.get(15, TimeUnit.SECONDS).context();
  }

  @AfterEach
  void closeAll() throws IOException {
    for (TlsSocket s : new TlsSocket[] {writer, reader, listener}) {
      if (s != null) {
        transport.close(s);
      }
    }
    executor.shutdownNow();
  }

  private static byte[] pattern() {
    byte[] b = new byte[BYTES];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (i * 31 + (i >>> 8));
    }
    return b;
  }

  /** Writes all of {@code data} and then closes the writer (close_notify) on another thread. */
  private Future<?> writeAndClose(byte[] data) {
    return executor.submit(() -> {
      ByteBuffer out = ByteBuffer.wrap(data);
      while (out.hasRemaining()) {
        transport.write(writer, out, 10_000);
      }
      transport.close(writer);
      return null;
    });
  }

  /** Reads to the end of the stream with buffers of {@code sizes}, taken in turn. */
  private byte[] readAll(int... sizes) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    for (int i = 0; ; i++) {
      ByteBuffer in = ByteBuffer.allocate(sizes[i % sizes.length]);
      int n = transport.read(reader, in, 10_000);
      if (n < 0) {
        return got.toByteArray();
      }
      assertTrue(n > 0, "a read returned nothing");
      assertEquals(n, in.position(), "the count returned is what was put in the buffer");
      got.write(in.array(), 0, n);
    }
  }

  @Test
  void largeReadsGetEveryByteThenTheEnd() throws Exception {
    byte[] data = pattern();
    Future<?> w = writeAndClose(data);
    assertArrayEquals(data, readAll(1 << 20));
    w.get(10, TimeUnit.SECONDS);
    assertTrue(reader.closeNotifyReceived());
  }

  @Test
  void smallReadsGetEveryByteThenTheEnd() throws Exception {
    byte[] data = pattern();
    Future<?> w = writeAndClose(data);
    assertArrayEquals(data, readAll(1000));
    w.get(10, TimeUnit.SECONDS);
  }

  @Test
  void mixedReadSizesGetEveryByteInOrder() throws Exception {
    byte[] data = pattern();
    Future<?> w = writeAndClose(data);
    // around the largest record's plaintext, so both paths alternate, and partial records
    assertArrayEquals(data, readAll(16 * 1024 + 1, 7, 64 * 1024, 16 * 1024 - 1, 100_000));
    w.get(10, TimeUnit.SECONDS);
  }
}
