package io.ei4j.testkit.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ei4j.api.Accepted;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.FdPoller;
import io.ei4j.api.SocketCallbacks;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The callback-level contract of {@link SocketCallbacks}, checked over a real socket pair.
 *
 * <p>A transport's test subclasses this in a few lines: it supplies the callbacks, a fresh
 * address to listen on, and optionally the setup contexts. Every test opens its own
 * listener, connects to it (accept and connect run concurrently, as a TLS handshake
 * needs) and closes everything it opened. TCP's test is the reference.
 *
 * <p>What is checked: listen reports the bound address; bytes flow both ways, also in
 * large amounts that force short reads and writes; {@code writev} gathers in order (or is
 * absent and says so); end of stream reads as -1; accept, read and write time out with
 * {@link Errno#ETIMEDOUT} in time (for transports without {@code FULL_IMPL}: their
 * descriptor can be waited on with an {@link FdPoller} instead); {@code close} unblocks a
 * blocked read and a blocked accept; a connection refused is an {@link ErrnoException};
 * the descriptor is stable; the header size is 2 or 4; the handshake-complete hooks
 * succeed on a connected socket; for a {@code FULL_IMPL} transport with
 * {@link SocketCallbacks#hasReadWakeup}, {@code wakeupRead} wakes a waiting read (or else
 * the next read that would wait, once), lets readable bytes through, loses no byte of a
 * stream, and is harmless on a closed socket.
 *
 * <p>A test of an optional feature the transport does not have (the many-buffer
 * {@code writev} test without {@code writev}; the write timeout and the five wakeup tests
 * without {@code FULL_IMPL} or {@code hasReadWakeup}) is skipped through a JUnit assumption
 * and reported as skipped with the reason, never passed silently. The tests that check a
 * feature's absence, or its replacement by polling the descriptor, run for every transport.
 *
 * @param <C> the transport's context type
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
public abstract class SocketCallbacksConformance<C> {
  /** How long the timeout tests wait; short, because every run pays for it. */
  protected static final long SHORT_TIMEOUT_MILLIS = 300;
  /** How late a timeout may fire on a busy two-core CI machine. */
  protected static final long SLACK_MILLIS = 2_000;

  private final List<C> opened = new ArrayList<>();

  /** For the transport's subclass, which JUnit instantiates. */
  protected SocketCallbacksConformance() {}
  private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "conformance");
    t.setDaemon(true);
    return t;
  });

  /** The transport under test. */
  protected abstract SocketCallbacks<C> callbacks();

  /**
   * An address to listen on, unused so far: a loopback address with port 0 for TCP-like
   * transports, a fresh path for AF_UNIX. Called once per listener.
   */
  protected abstract SocketAddress newListenAddress() throws IOException;

  /** The setup context of listening sockets (a TLS server configuration, say). */
  protected Object serverSetupContext() {
    return null;
  }

  /** The setup context of connecting sockets. */
  protected Object clientSetupContext() {
    return null;
  }

  /** Where a client connects to reach a listener bound to {@code bound}. */
  protected SocketAddress connectAddress(SocketAddress bound) {
    return bound;
  }

  /** A connected pair: {@code client} connected, {@code server} accepted. */
  protected record Pair<C>(C listener, C client, C server, SocketAddress bound) {}

  @AfterEach
  void closeEverything() {
    for (C c : opened) {
      try {
        callbacks().close(c);
      } catch (IOException | RuntimeException ignored) {
        // Already closed by the test.
      }
    }
    opened.clear();
    executor.shutdownNow();
  }

  /** Opens a listener; it is closed after the test. */
  protected C listener() throws IOException {
    C l = callbacks().socket(serverSetupContext());
    opened.add(l);
    return l;
  }

  /** Opens a listener and a connection to it. */
  protected Pair<C> pair() throws Exception {
    C l = listener();
    SocketAddress bound = callbacks().listen(l, newListenAddress(), 5);
    Future<Accepted<C>> accepted = executor.submit(() -> callbacks().accept(l, 10_000));
    C client = callbacks().socket(clientSetupContext());
    opened.add(client);
    callbacks().connect(client, connectAddress(bound), 10_000);
    Accepted<C> a = accepted.get(15, TimeUnit.SECONDS);
    opened.add(a.context());
    return new Pair<>(l, client, a.context(), bound);
  }

  private boolean fullImpl() {
    return (callbacks().flags() & SocketCallbacks.FLAG_FULL_IMPL) != 0;
  }

  private static FdPoller poller() {
    for (FdPoller p : ServiceLoader.load(FdPoller.class)) {
      if (p.isAvailable()) {
        return p;
      }
    }
    throw new AssertionError("the transport is not FULL_IMPL and no FdPoller is on the class path");
  }

  /** Writes all of {@code data}, looping over short writes. */
  protected void writeFully(C ctx, byte[] data) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(data);
    while (b.hasRemaining()) {
      int n = callbacks().write(ctx, b, 10_000);
      assertTrue(n > 0, "write made no progress");
    }
  }

  /** Reads exactly {@code n} bytes, looping over short reads; EOF is a failure. */
  protected byte[] readFully(C ctx, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      int r = callbacks().read(ctx, b, 10_000);
      if (r < 0) {
        fail("end of stream after " + b.position() + " of " + n + " bytes");
      }
      assertTrue(r > 0, "read returned 0, which the contract forbids");
    }
    return b.array();
  }

  @Test
  void listenReportsTheBoundAddress() throws IOException {
    C l = listener();
    SocketAddress bound = callbacks().listen(l, newListenAddress(), 5);
    assertNotNull(bound);
  }

  @Test
  void bytesFlowBothWays() throws Exception {
    Pair<C> p = pair();
    byte[] hello = "hello, server".getBytes(StandardCharsets.US_ASCII);
    writeFully(p.client(), hello);
    assertArrayEquals(hello, readFully(p.server(), hello.length));
    byte[] back = "hello, client".getBytes(StandardCharsets.US_ASCII);
    writeFully(p.server(), back);
    assertArrayEquals(back, readFully(p.client(), back.length));
  }

  @Test
  void largeTransfersSurviveShortReadsAndWrites() throws Exception {
    Pair<C> p = pair();
    byte[] data = new byte[4 << 20];
    new Random(42).nextBytes(data);
    Future<byte[]> got = executor.submit(() -> readFully(p.server(), data.length));
    writeFully(p.client(), data);
    assertArrayEquals(data, got.get(20, TimeUnit.SECONDS));
  }

  @Test
  void writevGathersInOrderOrIsAbsent() throws Exception {
    Pair<C> p = pair();
    if (!callbacks().hasWritev()) {
      assertThrows(UnsupportedOperationException.class,
          () -> callbacks().writev(p.client(), new ByteBuffer[] {ByteBuffer.allocate(1)}, 1000));
      return;
    }
    byte[] head = {0, 0, 0, 5};
    byte[] body = "abcde".getBytes(StandardCharsets.US_ASCII);
    ByteBuffer[] bufs = {ByteBuffer.wrap(head), ByteBuffer.allocate(0), ByteBuffer.wrap(body)};
    long total = 0;
    while (bufs[0].hasRemaining() || bufs[2].hasRemaining()) {
      long n = callbacks().writev(p.client(), bufs, 10_000);
      assertTrue(n > 0, "writev made no progress");
      total += n;
    }
    assertEquals(9, total);
    assertArrayEquals(new byte[] {0, 0, 0, 5, 'a', 'b', 'c', 'd', 'e'}, readFully(p.server(), 9));
  }

  /**
   * A gathering write of the buffers core hands over for a batch of frames with large binaries
   * in it: hundreds of small heap buffers, slices of larger arrays with positions of their
   * own, a read-only view, a direct buffer, empty buffers and 12 MiB in one heap buffer, more
   * than loopback socket buffers take, so that some calls are short. Each call must advance the
   * positions by exactly what it reports, in order, and the peer must read the bytes in
   * order.
   */
  @Test
  void writevOfManyMixedBuffersAdvancesExactlyWhatItWrote() throws Exception {
    // writevGathersInOrderOrIsAbsent checks that an absent writev says so.
    assumeTrue(callbacks().hasWritev(), "the transport has no writev");
    Pair<C> p = pair();
    Random r = new Random(7);
    List<ByteBuffer> list = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      byte[] a = new byte[1 + r.nextInt(60)];
      r.nextBytes(a);
      int off = r.nextInt(a.length);
      list.add(ByteBuffer.wrap(a, off, a.length - off)); // a position of its own
      if (i == 100) {
        byte[] big = new byte[12 << 20];
        r.nextBytes(big);
        list.add(ByteBuffer.wrap(big, 5, big.length - 5).slice().asReadOnlyBuffer());
      }
      if (i == 150) {
        ByteBuffer d = ByteBuffer.allocateDirect(70_000);
        byte[] a2 = new byte[70_000];
        r.nextBytes(a2);
        d.put(a2).flip().position(3);
        list.add(d);
        list.add(ByteBuffer.allocate(0));
      }
      if (i == 200) {
        byte[] mid = new byte[100_000];
        r.nextBytes(mid);
        list.add(ByteBuffer.wrap(mid));
      }
    }
    ByteBuffer[] bufs = list.toArray(new ByteBuffer[0]);
    java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
    for (ByteBuffer b : bufs) {
      byte[] a = new byte[b.remaining()];
      b.duplicate().get(a);
      expected.writeBytes(a);
    }
    byte[] want = expected.toByteArray();
    // The peer starts reading only after the first call, which then fills the socket buffer.
    long first = callbacks().writev(p.client(), bufs, 10_000);
    assertTrue(first > 0 && first < want.length, "the first writev wrote part of the " + want.length + " bytes: " + first);
    assertEquals(want.length - first, remaining(bufs), "positions advanced by what the first call wrote");
    Future<byte[]> got = executor.submit(() -> readFully(p.server(), want.length));
    long total = first;
    while (remaining(bufs) > 0) {
      long before = remaining(bufs);
      if (!fullImpl()) {
        poller().poll(callbacks().fd(p.client()), FdPoller.WRITE, 10_000);
      }
      long n = callbacks().writev(p.client(), bufs, 10_000);
      assertTrue(n > 0, "writev made no progress");
      assertEquals(before - n, remaining(bufs), "positions advanced by what the call wrote");
      total += n;
    }
    assertEquals(want.length, total);
    assertArrayEquals(want, got.get(30, TimeUnit.SECONDS));
  }

  private static long remaining(ByteBuffer[] bufs) {
    long n = 0;
    for (ByteBuffer b : bufs) {
      n += b.remaining();
    }
    return n;
  }

  @Test
  void endOfStreamReadsAsMinusOne() throws Exception {
    Pair<C> p = pair();
    writeFully(p.client(), new byte[] {7});
    callbacks().close(p.client());
    assertArrayEquals(new byte[] {7}, readFully(p.server(), 1));
    ByteBuffer b = ByteBuffer.allocate(16);
    assertEquals(-1, callbacks().read(p.server(), b, 5_000));
  }

  @Test
  void acceptTimesOut() throws Exception {
    C l = listener();
    callbacks().listen(l, newListenAddress(), 5);
    if (!fullImpl()) {
      assertPollTimesOut(callbacks().fd(l));
      return;
    }
    long t0 = System.nanoTime();
    ErrnoException e = assertThrows(ErrnoException.class, () -> callbacks().accept(l, SHORT_TIMEOUT_MILLIS));
    assertTimedOutInTime(e, t0);
  }

  @Test
  void readTimesOut() throws Exception {
    Pair<C> p = pair();
    if (!fullImpl()) {
      assertPollTimesOut(callbacks().fd(p.server()));
      return;
    }
    long t0 = System.nanoTime();
    ErrnoException e = assertThrows(ErrnoException.class,
        () -> callbacks().read(p.server(), ByteBuffer.allocate(8), SHORT_TIMEOUT_MILLIS));
    assertTimedOutInTime(e, t0);
    // The socket stays usable after a timeout.
    writeFully(p.client(), new byte[] {1, 2});
    assertArrayEquals(new byte[] {1, 2}, readFully(p.server(), 2));
  }

  @Test
  void readWithZeroTimeoutDoesNotWait() throws Exception {
    Pair<C> p = pair();
    if (!fullImpl()) {
      assertEquals(0, poller().poll(callbacks().fd(p.server()), FdPoller.READ, 0));
      return;
    }
    long t0 = System.nanoTime();
    ErrnoException e = assertThrows(ErrnoException.class,
        () -> callbacks().read(p.server(), ByteBuffer.allocate(8), 0));
    assertEquals(Errno.ETIMEDOUT, e.errno());
    assertTrue(elapsedMillis(t0) < SLACK_MILLIS, "a zero timeout waited " + elapsedMillis(t0) + " ms");
  }

  @Test
  void writeTimesOutWhenThePeerDoesNotRead() throws Exception {
    assumeTrue(fullImpl(),
        "without FULL_IMPL core enforces write timeouts by polling the descriptor; "
            + "the distribution suite checks that");
    Pair<C> p = pair();
    byte[] chunk = new byte[256 << 10];
    long t0 = 0;
    ErrnoException timedOut = null;
    for (int i = 0; i < 4096 && timedOut == null; i++) {
      ByteBuffer b = ByteBuffer.wrap(chunk);
      t0 = System.nanoTime();
      try {
        while (b.hasRemaining()) {
          callbacks().write(p.client(), b, SHORT_TIMEOUT_MILLIS);
        }
      } catch (ErrnoException e) {
        timedOut = e;
      }
    }
    assertNotNull(timedOut, "a GiB went into a socket nobody reads without a timeout");
    assertTimedOutInTime(timedOut, t0);
  }

  @Test
  void closeUnblocksABlockedRead() throws Exception {
    Pair<C> p = pair();
    CompletableFuture<Object> blocked = CompletableFuture.supplyAsync(() -> {
      try {
        return callbacks().read(p.server(), ByteBuffer.allocate(8), SocketCallbacks.INFINITE);
      } catch (IOException e) {
        return e;
      }
    }, executor);
    Thread.sleep(200);
    assertFalse(blocked.isDone(), "read returned without data: " + blocked.getNow(null));
    callbacks().close(p.server());
    Object outcome = blocked.get(SLACK_MILLIS, TimeUnit.MILLISECONDS);
    assertTrue(outcome instanceof IOException || Integer.valueOf(-1).equals(outcome),
        "a read on a closed socket must fail or report end of stream, got " + outcome);
  }

  @Test
  void closeUnblocksABlockedAccept() throws Exception {
    C l = listener();
    callbacks().listen(l, newListenAddress(), 5);
    CompletableFuture<Object> blocked = CompletableFuture.supplyAsync(() -> {
      try {
        return callbacks().accept(l, SocketCallbacks.INFINITE);
      } catch (IOException e) {
        return e;
      }
    }, executor);
    Thread.sleep(200);
    assertFalse(blocked.isDone(), "accept returned with nobody connecting: " + blocked.getNow(null));
    callbacks().close(l);
    Object outcome = blocked.get(SLACK_MILLIS, TimeUnit.MILLISECONDS);
    assertTrue(outcome instanceof IOException, "an accept on a closed socket must fail, got " + outcome);
  }

  @Test
  void connectingToNobodyFailsWithAnErrno() throws Exception {
    C l = listener();
    SocketAddress bound = callbacks().listen(l, newListenAddress(), 5);
    callbacks().close(l);
    C client = callbacks().socket(clientSetupContext());
    opened.add(client);
    ErrnoException e = assertThrows(ErrnoException.class,
        () -> callbacks().connect(client, connectAddress(bound), 5_000));
    assertNotEquals(Errno.ETIMEDOUT, e.errno(), "a refused connection is not a timeout: " + e);
  }

  @Test
  void descriptorIsStable() throws Exception {
    Pair<C> p = pair();
    int fd;
    try {
      fd = callbacks().fd(p.client());
    } catch (ErrnoException e) {
      assertEquals(Errno.ENOTSUP, e.errno(), "fd failed with " + e);
      assertTrue(fullImpl(), "a transport without a descriptor must be FULL_IMPL");
      return;
    }
    assertTrue(fd >= 0, "fd " + fd);
    assertEquals(fd, callbacks().fd(p.client()));
    assertNotEquals(fd, callbacks().fd(p.server()));
    writeFully(p.client(), new byte[] {9});
    readFully(p.server(), 1);
    assertEquals(fd, callbacks().fd(p.client()));
  }

  @Test
  void handshakeHeaderSizeIsTwoOrFour() throws Exception {
    Pair<C> p = pair();
    int size = callbacks().handshakePacketHeaderSize(p.client());
    assertTrue(size == 2 || size == 4, "header size " + size);
    assertEquals(size, callbacks().handshakePacketHeaderSize(p.server()));
  }

  @Test
  void handshakeHooksSucceedOnConnectedSockets() throws Exception {
    Pair<C> p = pair();
    callbacks().connectHandshakeComplete(p.client());
    callbacks().acceptHandshakeComplete(p.server());
    writeFully(p.client(), new byte[] {3});
    assertArrayEquals(new byte[] {3}, readFully(p.server(), 1));
  }

  @Test
  void acceptedContextIsNewAndListenerKeepsListening() throws Exception {
    Pair<C> first = pair();
    assertFalse(first.listener() == first.server(), "accept must return a new context");
    Future<Accepted<C>> second = executor.submit(() -> callbacks().accept(first.listener(), 10_000));
    C c2 = callbacks().socket(clientSetupContext());
    opened.add(c2);
    callbacks().connect(c2, connectAddress(first.bound()), 10_000);
    Accepted<C> a = second.get(15, TimeUnit.SECONDS);
    opened.add(a.context());
    writeFully(c2, new byte[] {42});
    assertArrayEquals(new byte[] {42}, readFully(a.context(), 1));
    assertSame(a.context(), a.context());
  }

  /**
   * Skips a wakeup test, with the reason, for a transport without the optional read wakeup
   * (core only asks a {@code FULL_IMPL} transport for it).
   */
  private void assumeReadWakeup() {
    assumeTrue(fullImpl(), "wakeupRead is only used with FULL_IMPL, which the transport does not set");
    assumeTrue(callbacks().hasReadWakeup(), "the transport has no read wakeup (hasReadWakeup is false)");
  }

  /** Starts a read of {@code ctx} with a 10 s timeout on another thread; its outcome is the count or the exception. */
  private CompletableFuture<Object> readInBackground(C ctx, ByteBuffer into) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return callbacks().read(ctx, into, 10_000);
      } catch (IOException e) {
        return e;
      }
    }, executor);
  }

  /** The next read of {@code ctx}, with a 10 s timeout, fails with ETIMEDOUT well within it: a wakeup was pending. */
  private void assertNextReadWokenAtOnce(C ctx) {
    long t0 = System.nanoTime();
    ErrnoException woken = assertThrows(ErrnoException.class,
        () -> callbacks().read(ctx, ByteBuffer.allocate(8), 10_000));
    assertEquals(Errno.ETIMEDOUT, woken.errno(), "expected a timeout, got " + woken);
    assertTrue(elapsedMillis(t0) < 5_000, "a pending wakeup let a read wait " + elapsedMillis(t0) + " ms");
  }

  private static void assertWokenUp(Object outcome) {
    assertTrue(outcome instanceof ErrnoException e && e.errno() == Errno.ETIMEDOUT,
        "a woken read must fail with ETIMEDOUT, got " + outcome);
  }

  /**
   * A read that waits with a long timeout gives up with {@link Errno#ETIMEDOUT} soon after
   * {@code wakeupRead} from another thread, far sooner than its timeout, and the socket
   * stays usable.
   */
  @Test
  void wakeupReadWakesAWaitingRead() throws Exception {
    assumeReadWakeup();
    Pair<C> p = pair();
    CompletableFuture<Object> blocked = readInBackground(p.server(), ByteBuffer.allocate(8));
    Thread.sleep(200);
    assertFalse(blocked.isDone(), "read returned without data: " + blocked.getNow(null));
    callbacks().wakeupRead(p.server());
    // A wakeup that came before the read waited is consumed by that wait all the same.
    assertWokenUp(blocked.get(5, TimeUnit.SECONDS));
    writeFully(p.client(), new byte[] {1, 2});
    assertArrayEquals(new byte[] {1, 2}, readFully(p.server(), 2));
  }

  /**
   * A wakeup made while nobody reads makes the next read that would wait give up at once,
   * and only that one: the read after it waits out its own timeout, or returns data.
   */
  @Test
  void wakeupReadWithNobodyReadingWakesOnlyTheNextRead() throws Exception {
    assumeReadWakeup();
    Pair<C> p = pair();
    callbacks().wakeupRead(p.server());
    assertNextReadWokenAtOnce(p.server());
    long t0 = System.nanoTime();
    ErrnoException e = assertThrows(ErrnoException.class,
        () -> callbacks().read(p.server(), ByteBuffer.allocate(8), SHORT_TIMEOUT_MILLIS));
    assertTimedOutInTime(e, t0);
    writeFully(p.client(), new byte[] {5});
    assertArrayEquals(new byte[] {5}, readFully(p.server(), 1));
  }

  /**
   * Bytes already readable are returned although a wakeup is pending, which then wakes the
   * read after them, the first one that would wait.
   */
  @Test
  void wakeupReadLetsReadableBytesThrough() throws Exception {
    assumeReadWakeup();
    Pair<C> p = pair();
    writeFully(p.client(), new byte[] {1, 2, 3});
    // Once the first byte is read, the other two (sent with it) are readable.
    assertArrayEquals(new byte[] {1}, readFully(p.server(), 1));
    callbacks().wakeupRead(p.server());
    ByteBuffer rest = ByteBuffer.allocate(8);
    assertEquals(2, callbacks().read(p.server(), rest, 10_000));
    assertArrayEquals(new byte[] {2, 3}, Arrays.copyOf(rest.array(), 2));
    assertNextReadWokenAtOnce(p.server());
  }

  /**
   * Wakeups made over and over while a stream flows lose and duplicate nothing: a reader that
   * retries every woken read gets exactly the bytes written, in order, also when they
   * arrive in pieces (for TLS, records cut by the wakeup half received).
   */
  @Test
  void wakeupReadDuringAStreamLosesNoByte() throws Exception {
    assumeReadWakeup();
    Pair<C> p = pair();
    byte[] data = new byte[1 << 20];
    new Random(11).nextBytes(data);
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger woken = new AtomicInteger();
    Future<byte[]> got = executor.submit(() -> {
      ByteBuffer b = ByteBuffer.allocate(data.length);
      while (b.hasRemaining()) {
        try {
          int r = callbacks().read(p.server(), b.slice().limit(Math.min(b.remaining(), 3_000)), 10_000);
          if (r < 0) {
            fail("end of stream after " + b.position() + " of " + data.length + " bytes");
          }
          b.position(b.position() + r);
        } catch (ErrnoException e) {
          if (e.errno() != Errno.ETIMEDOUT) {
            throw e;
          }
          woken.incrementAndGet();
        }
      }
      return b.array();
    });
    Future<?> waker = executor.submit(() -> {
      while (!done.get()) {
        callbacks().wakeupRead(p.server());
        LockSupport.parkNanos(200_000);
      }
    });
    Random r = new Random(12);
    try {
      int off = 0;
      while (off < data.length) {
        int n = Math.min(data.length - off, 1 + r.nextInt(20_000));
        writeFully(p.client(), Arrays.copyOfRange(data, off, off + n));
        off += n;
        if (r.nextInt(8) == 0) {
          Thread.sleep(1); // let the reader find the socket empty now and then
        }
      }
      assertArrayEquals(data, got.get(20, TimeUnit.SECONDS));
    } finally {
      done.set(true);
      waker.get(5, TimeUnit.SECONDS);
    }
    assertTrue(woken.get() > 0, "the reader was never woken; the test did not test anything");
  }

  /** {@code wakeupRead} on a closed socket neither throws nor blocks. */
  @Test
  void wakeupReadOnAClosedSocketIsHarmless() throws Exception {
    assumeReadWakeup();
    Pair<C> p = pair();
    callbacks().close(p.server());
    callbacks().close(p.client());
    Future<?> f = executor.submit(() -> {
      callbacks().wakeupRead(p.server());
      callbacks().wakeupRead(p.client());
    });
    f.get(5, TimeUnit.SECONDS);
  }

  private void assertPollTimesOut(int fd) throws IOException {
    long t0 = System.nanoTime();
    assertEquals(0, poller().poll(fd, FdPoller.READ, SHORT_TIMEOUT_MILLIS));
    long ms = elapsedMillis(t0);
    assertTrue(ms >= SHORT_TIMEOUT_MILLIS - 20 && ms < SHORT_TIMEOUT_MILLIS + SLACK_MILLIS, "poll took " + ms + " ms");
  }

  private static void assertTimedOutInTime(ErrnoException e, long t0) {
    long ms = elapsedMillis(t0);
    assertEquals(Errno.ETIMEDOUT, e.errno(), "expected a timeout, got " + e);
    assertTrue(ms >= SHORT_TIMEOUT_MILLIS - 20, "timed out early, after " + ms + " ms");
    assertTrue(ms < SHORT_TIMEOUT_MILLIS + SLACK_MILLIS, "timed out late, after " + ms + " ms");
  }

  private static long elapsedMillis(long t0) {
    return (System.nanoTime() - t0) / 1_000_000L;
  }
}
