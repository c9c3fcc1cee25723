package io.ei4j.transport.unix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.Accepted;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the AF_UNIX transport adds to the common callback contract: naming, the
 * {@code erl_uds_dist} listen rules for existing socket files, permissions, peer
 * credentials and address limits. The JDK's own AF_UNIX channels serve as an independent
 * peer.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UnixTransportTest {
  private static final UnixTransport CALLBACKS = UnixTransport.create();

  @TempDir Path dir;

  private final List<UnixSocket> opened = new ArrayList<>();
  private final ExecutorService executor = Executors.newCachedThreadPool();

  @AfterEach
  void closeAll() throws IOException {
    for (UnixSocket s : opened) {
      CALLBACKS.close(s);
    }
    executor.shutdownNow();
  }

  private UnixSocket socket() throws IOException {
    UnixSocket s = CALLBACKS.socket(null);
    opened.add(s);
    return s;
  }

  private UnixSocket listening(UnixSocketAddress address) throws IOException {
    UnixSocket l = socket();
    CALLBACKS.listen(l, address, 5);
    return l;
  }

  @Test
  void isAvailableHere() {
    assertTrue(UnixTransport.isAvailable(), () -> "unavailable: " + UnixTransport.unavailabilityCause());
    assertEquals(null, UnixTransport.unavailabilityCause());
    UnixTransport.ensureAvailability();
  }

  @Test
  void listeningCreatesAnOwnerOnlySocketFileAndCloseRemovesIt() throws IOException {
    Path file = dir.resolve("node");
    UnixSocket l = listening(UnixSocketAddress.of(file));
    assertEquals(UnixSocketAddress.of(file), l.localAddress());
    int mode = (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    assertEquals(0xC000, mode & 0xF000, "not a socket file: mode " + Integer.toOctalString(mode));
    assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(file));
    CALLBACKS.close(l);
    assertFalse(Files.exists(file, LinkOption.NOFOLLOW_LINKS), "socket file left behind");
  }

  @Test
  void socketFilePermissionsAreConfigurable() throws IOException {
    Set<PosixFilePermission> perms = PosixFilePermissions.fromString("rw-rw----");
    UnixTransport cb = UnixTransport.builder().socketFilePermissions(perms).build();
    Path file = dir.resolve("shared");
    UnixSocket l = cb.socket(null);
    try {
      cb.listen(l, UnixSocketAddress.of(file), 1);
      assertEquals(perms, Files.getPosixFilePermissions(file));
    } finally {
      cb.close(l);
    }
  }

  @Test
  void aStaleSocketFileIsReplaced() throws IOException {
    Path file = dir.resolve("stale");
    // The JDK leaves the socket file behind when its channel closes: a crashed node's file.
    try (ServerSocketChannel jdk = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      jdk.bind(UnixDomainSocketAddress.of(file));
    }
    assertTrue(Files.exists(file, LinkOption.NOFOLLOW_LINKS));
    ErrnoException refused = assertThrows(ErrnoException.class,
        () -> CALLBACKS.connect(socket(), UnixSocketAddress.of(file), 1000));
    assertEquals(Errno.ECONNREFUSED, refused.errno());

    UnixSocket l = listening(UnixSocketAddress.of(file));
    try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(file))) {
      client.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
      Accepted<UnixSocket> a = CALLBACKS.accept(l, 5000);
      opened.add(a.context());
      assertArrayEquals(new byte[] {1, 2, 3}, readFully(a.context(), 3));
    }
  }

  @Test
  void aLiveSocketIsADuplicateNameAndStaysUntouched() throws IOException {
    Path file = dir.resolve("taken");
    UnixSocket first = listening(UnixSocketAddress.of(file));
    ErrnoException e = assertThrows(ErrnoException.class, () -> listening(UnixSocketAddress.of(file)));
    assertEquals(Errno.EADDRINUSE, e.errno());
    assertTrue(e.getMessage().contains("duplicate node name"), e.getMessage());
    // The first listener still works.
    UnixSocket client = socket();
    CALLBACKS.connect(client, UnixSocketAddress.of(file), 1000);
    opened.add(CALLBACKS.accept(first, 1000).context());
  }

  @Test
  void aLiveJdkListenerIsAlsoADuplicate() throws IOException {
    Path file = dir.resolve("jdk");
    try (ServerSocketChannel jdk = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      jdk.bind(UnixDomainSocketAddress.of(file));
      ErrnoException e = assertThrows(ErrnoException.class, () -> listening(UnixSocketAddress.of(file)));
      assertEquals(Errno.EADDRINUSE, e.errno());
      assertTrue(Files.exists(file, LinkOption.NOFOLLOW_LINKS), "a live socket file was removed");
    }
  }

  @Test
  void anOrdinaryFileIsNeverDeleted() throws IOException {
    Path file = dir.resolve("precious");
    Files.writeString(file, "data");
    ErrnoException e = assertThrows(ErrnoException.class, () -> listening(UnixSocketAddress.of(file)));
    assertEquals(Errno.EADDRINUSE, e.errno());
    assertTrue(e.getMessage().contains("not a socket"), e.getMessage());
    assertEquals("data", Files.readString(file));
  }

  @Test
  void closeLeavesAReplacedFileAlone() throws IOException {
    Path file = dir.resolve("replaced");
    UnixSocket l = listening(UnixSocketAddress.of(file));
    Files.delete(file);
    Files.writeString(file, "someone else's");
    CALLBACKS.close(l);
    assertEquals("someone else's", Files.readString(file));
  }

  @Test
  void connectingWhereNoFileIsReportsEnoent() throws IOException {
    Path file = dir.resolve("nobody");
    ErrnoException e = assertThrows(ErrnoException.class,
        () -> CALLBACKS.connect(socket(), UnixSocketAddress.of(file), 1000));
    assertEquals(Errno.ENOENT, e.errno());
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  void pathLengthLimitIsCheckedAndReported() {
    String base = dir.toString() + "/";
    String ok = base + "x".repeat(UnixSocketAddress.MAX_NAME_BYTES - base.length());
    assertEquals(ok, UnixSocketAddress.of(ok).toString());
    String tooLong = ok + "y";
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> UnixSocketAddress.of(tooLong));
    assertTrue(e.getMessage().contains("108 bytes") && e.getMessage().contains("at most 107"),
        e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> UnixSocketAddress.ofAbstract("a".repeat(UnixSocketAddress.MAX_NAME_BYTES + 1)));
    // Multi-byte characters count as their encoded bytes.
    assertThrows(IllegalArgumentException.class, () -> UnixSocketAddress.of("/" + "é".repeat(54)));
  }

  @Test
  void aPathOfExactlyTheLimitWorks() throws Exception {
    String base = dir.toString() + "/";
    Path file = Path.of(base + "z".repeat(UnixSocketAddress.MAX_NAME_BYTES - base.length()));
    UnixSocket l = listening(UnixSocketAddress.of(file));
    assertEquals(UnixSocketAddress.of(file), l.localAddress());
    // The JDK's own channels stop one byte short of the kernel's limit, so connect with ours.
    UnixSocket client = socket();
    CALLBACKS.connect(client, UnixSocketAddress.of(file), 1000);
    UnixSocket server = CALLBACKS.accept(l, 5000).context();
    opened.add(server);
    CALLBACKS.write(client, ByteBuffer.wrap(new byte[] {4}), 1000);
    assertArrayEquals(new byte[] {4}, readFully(server, 1));
  }

  @Test
  void abstractNamesNeedNoFileAndAutobindPicksOne() throws Exception {
    UnixSocketAddress name = UnixSocketAddress.ofAbstract("ei4j-test-" + ProcessHandle.current().pid());
    UnixSocket l = listening(name);
    assertEquals(name, l.localAddress());
    assertEquals("@ei4j-test-" + ProcessHandle.current().pid(), name.toString());
    ErrnoException dup = assertThrows(ErrnoException.class, () -> listening(name));
    assertEquals(Errno.EADDRINUSE, dup.errno());

    UnixSocket auto = socket();
    UnixSocketAddress chosen = (UnixSocketAddress) CALLBACKS.listen(auto, UnixSocketAddress.unnamed(), 1);
    assertEquals(UnixSocketAddress.Kind.ABSTRACT, chosen.kind());
    UnixSocket client = socket();
    CALLBACKS.connect(client, chosen, 1000);
    UnixSocket server = CALLBACKS.accept(auto, 1000).context();
    opened.add(server);
    ByteBuffer b = ByteBuffer.wrap(new byte[] {5});
    CALLBACKS.write(client, b, 1000);
    assertArrayEquals(new byte[] {5}, readFully(server, 1));
  }

  @Test
  void nodeNamesResolveInTheDirectoryLikeErlUdsDist() {
    UnixTransport cb = UnixTransport.builder().directory(dir).build();
    assertEquals(UnixSocketAddress.of(dir.resolve("peer")), cb.nodeAddress("peer", "localhost").orElseThrow());
    assertEquals(UnixSocketAddress.of(dir.resolve("peer")), cb.addressOf("peer@anyhost"));
    assertEquals(UnixSocketAddress.of(Path.of("peer")), CALLBACKS.addressOf("peer@localhost"));
    for (String bad : new String[] {"", ".", "..", "a/b", "a\0b"}) {
      assertThrows(IllegalArgumentException.class, () -> cb.nodeAddress(bad, "localhost"), bad);
    }
    UnixTransport abs = UnixTransport.builder().abstractNames("ei4j/").build();
    assertEquals(UnixSocketAddress.ofAbstract("ei4j/peer"), abs.addressOf("peer@localhost"));
  }

  @Test
  void peerCredentialsAreThisProcess() throws Exception {
    Path file = dir.resolve("cred");
    UnixSocket l = listening(UnixSocketAddress.of(file));
    UnixSocket client = socket();
    CALLBACKS.connect(client, UnixSocketAddress.of(file), 1000);
    UnixSocket server = CALLBACKS.accept(l, 1000).context();
    opened.add(server);
    long pid = ProcessHandle.current().pid();
    int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    assertEquals(new PeerCredentials((int) pid, uid, server.peerCredentials().gid()), server.peerCredentials());
    assertEquals(uid, client.peerCredentials().uid());
    assertEquals((int) pid, client.peerCredentials().pid());
  }

  @Test
  void peerUidCheckAcceptsTheCurrentUserAndRejectsOthers() throws Exception {
    int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    UnixTransport same = UnixTransport.builder().allowedPeerUids().build();
    UnixTransport other = UnixTransport.builder().allowedPeerUids(uid + 4242).build();
    Path file = dir.resolve("guarded");

    UnixSocket l = same.socket(null);
    opened.add(l);
    same.listen(l, UnixSocketAddress.of(file), 5);
    UnixSocket ok = same.socket(null);
    opened.add(ok);
    same.connect(ok, UnixSocketAddress.of(file), 1000);
    opened.add(same.accept(l, 1000).context());

    UnixSocket rejectedClient = other.socket(null);
    opened.add(rejectedClient);
    ErrnoException e = assertThrows(ErrnoException.class,
        () -> other.connect(rejectedClient, UnixSocketAddress.of(file), 1000));
    assertEquals(Errno.EACCES, e.errno());
    assertTrue(e.getMessage().contains("uid " + uid), e.getMessage());

    UnixSocket l2 = other.socket(null);
    opened.add(l2);
    Path file2 = dir.resolve("guarded2");
    other.listen(l2, UnixSocketAddress.of(file2), 5);
    try (SocketChannel jdk = SocketChannel.open(UnixDomainSocketAddress.of(file2))) {
      ErrnoException a = assertThrows(ErrnoException.class, () -> other.accept(l2, 1000));
      assertEquals(Errno.EACCES, a.errno());
      // The rejected connection was closed: the client sees end of stream.
      assertEquals(-1, jdk.read(ByteBuffer.allocate(1)));
    }
  }

  @Test
  void heapDirectAndReadOnlyBuffersGoThroughWritevIntact() throws Exception {
    Path file = dir.resolve("mixed");
    UnixSocket l = listening(UnixSocketAddress.of(file));
    UnixSocket client = socket();
    CALLBACKS.connect(client, UnixSocketAddress.of(file), 1000);
    UnixSocket server = CALLBACKS.accept(l, 1000).context();
    opened.add(server);

    Random random = new Random(7);
    byte[] a = new byte[100_000];
    byte[] b = new byte[3];
    byte[] c = new byte[200_000];
    random.nextBytes(a);
    random.nextBytes(b);
    random.nextBytes(c);
    ByteBuffer direct = ByteBuffer.allocateDirect(b.length + 10);
    direct.position(10);
    direct.put(b).position(10);
    ByteBuffer[] buffers = {
        ByteBuffer.wrap(a), direct, ByteBuffer.wrap(c).asReadOnlyBuffer(), ByteBuffer.allocate(0)};
    int total = a.length + b.length + c.length;
    Future<byte[]> got = executor.submit(() -> readFully(server, total));
    long written = 0;
    while (written < total) {
      long n = CALLBACKS.writev(client, buffers, 5000);
      assertTrue(n > 0);
      written += n;
    }
    assertEquals(total, written);
    byte[] expected = new byte[total];
    System.arraycopy(a, 0, expected, 0, a.length);
    System.arraycopy(b, 0, expected, a.length, b.length);
    System.arraycopy(c, 0, expected, a.length + b.length, c.length);
    assertArrayEquals(expected, got.get(10, TimeUnit.SECONDS));
  }

  @Test
  void directBuffersAreReadAtTheirPosition() throws Exception {
    Path file = dir.resolve("direct");
    UnixSocket l = listening(UnixSocketAddress.of(file));
    try (SocketChannel jdk = SocketChannel.open(UnixDomainSocketAddress.of(file))) {
      UnixSocket server = CALLBACKS.accept(l, 1000).context();
      opened.add(server);
      jdk.write(ByteBuffer.wrap(new byte[] {9, 8, 7}));
      ByteBuffer dst = ByteBuffer.allocateDirect(8);
      dst.position(4);
      int n = 0;
      while (n < 3) {
        n += CALLBACKS.read(server, dst, 1000);
      }
      assertEquals(7, dst.position());
      assertEquals(9, dst.get(4));
      assertEquals(7, dst.get(6));
      assertEquals(0, dst.get(3));
    }
  }

  @Test
  void writingToAVanishedPeerIsAnErrnoNotASignal() throws Exception {
    Path file = dir.resolve("gone");
    UnixSocket l = listening(UnixSocketAddress.of(file));
    UnixSocket client = socket();
    CALLBACKS.connect(client, UnixSocketAddress.of(file), 1000);
    UnixSocket server = CALLBACKS.accept(l, 1000).context();
    CALLBACKS.close(server);
    ErrnoException e = assertThrows(ErrnoException.class, () -> {
      for (int i = 0; i < 100; i++) {
        CALLBACKS.write(client, ByteBuffer.allocate(1024), 1000);
      }
    });
    assertTrue(e.errno() == Errno.EPIPE || e.errno() == Errno.ECONNRESET, e.toString());
  }

  @Test
  void withoutFullImplCallbacksIgnoreTheirTimeout() throws Exception {
    UnixTransport plain = UnixTransport.builder().fullImpl(false).build();
    assertEquals(0, plain.flags() & SocketCallbacks.FLAG_FULL_IMPL);
    assertEquals(SocketCallbacks.FLAG_FULL_IMPL, CALLBACKS.flags());
    Path file = dir.resolve("plain");
    UnixSocket l = plain.socket(null);
    opened.add(l);
    plain.listen(l, UnixSocketAddress.of(file), 5);
    try (SocketChannel jdk = SocketChannel.open(UnixDomainSocketAddress.of(file))) {
      UnixSocket server = plain.accept(l, 0).context();
      opened.add(server);
      long t0 = System.nanoTime(); // before the writer starts its sleep
      Future<?> late = executor.submit(() -> {
        Thread.sleep(400);
        return jdk.write(ByteBuffer.wrap(new byte[] {1}));
      });
      assertEquals(1, plain.read(server, ByteBuffer.allocate(1), 50));
      assertTrue(System.nanoTime() - t0 > TimeUnit.MILLISECONDS.toNanos(300),
          "read returned before the data was sent");
      late.get();
    }
  }

  @Test
  void closedSocketsFailWithEbadfAndCloseIsIdempotent() throws IOException {
    UnixSocket s = CALLBACKS.socket(null);
    CALLBACKS.close(s);
    assertTrue(s.isClosed());
    CALLBACKS.close(s);
    ErrnoException e = assertThrows(ErrnoException.class, () -> CALLBACKS.read(s, ByteBuffer.allocate(1), 10));
    assertEquals(Errno.EBADF, e.errno());
    assertThrows(ErrnoException.class,
        () -> CALLBACKS.connect(s, UnixSocketAddress.of(dir.resolve("x")), 10));
  }

  @Test
  void closingUnderBlockedReadersAndWritersReleasesEveryDescriptor() throws Exception {
    long before = openDescriptors();
    Path file = dir.resolve("churn");
    UnixSocket l = CALLBACKS.socket(null);
    CALLBACKS.listen(l, UnixSocketAddress.of(file), 64);
    for (int i = 0; i < 50; i++) {
      UnixSocket client = CALLBACKS.socket(null);
      CALLBACKS.connect(client, UnixSocketAddress.of(file), 1000);
      UnixSocket server = CALLBACKS.accept(l, 1000).context();
      Future<Object> reader = executor.submit(() -> {
        try {
          return CALLBACKS.read(server, ByteBuffer.allocate(16), SocketCallbacks.INFINITE);
        } catch (IOException e) {
          return e;
        }
      });
      Future<Object> writer = executor.submit(() -> {
        try {
          ByteBuffer big = ByteBuffer.allocateDirect(1 << 20);
          while (true) {
            big.clear();
            CALLBACKS.write(server, big, SocketCallbacks.INFINITE);
          }
        } catch (IOException e) {
          return e;
        }
      });
      if (i % 2 == 0) {
        Thread.sleep(2);
      }
      CALLBACKS.close(server);
      Object r = reader.get(5, TimeUnit.SECONDS);
      Object w = writer.get(5, TimeUnit.SECONDS);
      assertTrue(r instanceof ErrnoException e && e.errno() == Errno.EBADF, "reader: " + r);
      assertTrue(w instanceof ErrnoException e && e.errno() == Errno.EBADF, "writer: " + w);
      CALLBACKS.close(client);
    }
    CALLBACKS.close(l);
    long after = openDescriptors();
    assertTrue(after <= before + 2, "descriptors before " + before + ", after " + after);
  }

  private static long openDescriptors() throws IOException {
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }

  @Test
  void connectingToAFullBacklogWaitsUntilTheTimeoutOrAnAccept() throws Exception {
    // With a backlog of 0, one pending connection fills the queue.
    UnixSocket tight = socket();
    Path tightFile = dir.resolve("tight");
    CALLBACKS.listen(tight, UnixSocketAddress.of(tightFile), 0);
    List<UnixSocket> queued = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      UnixSocket c = socket();
      try {
        CALLBACKS.connect(c, UnixSocketAddress.of(tightFile), 100);
        queued.add(c);
      } catch (ErrnoException e) {
        assertEquals(Errno.ETIMEDOUT, e.errno(), e.toString());
        break;
      }
    }
    assertTrue(queued.size() < 8, "the backlog never filled");

    long t0 = System.nanoTime();
    ErrnoException e = assertThrows(ErrnoException.class,
        () -> CALLBACKS.connect(socket(), UnixSocketAddress.of(tightFile), 300));
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertEquals(Errno.ETIMEDOUT, e.errno());
    assertTrue(ms >= 290 && ms < 2300, "timed out after " + ms + " ms");

    // A waiting connect gets in as soon as the listener accepts.
    UnixSocket late = socket();
    Future<?> waiting = executor.submit(() -> {
      CALLBACKS.connect(late, UnixSocketAddress.of(tightFile), 10_000);
      return null;
    });
    Thread.sleep(100);
    assertFalse(waiting.isDone(), "connect did not wait for the full backlog");
    opened.add(CALLBACKS.accept(tight, 1000).context());
    waiting.get(5, TimeUnit.SECONDS);
  }

  @Test
  void wrongAddressTypesAreMisuse() throws IOException {
    UnixSocket s = socket();
    assertThrows(IllegalArgumentException.class,
        () -> CALLBACKS.listen(s, new java.net.InetSocketAddress(0), 1));
    assertThrows(IllegalArgumentException.class,
        () -> CALLBACKS.connect(s, UnixSocketAddress.unnamed(), 1));
    assertThrows(IllegalArgumentException.class,
        () -> CALLBACKS.read(s, ByteBuffer.allocate(1), -5));
  }

  @Test
  void handshakeHeaderIsTwoBytesLikeErlUdsDist() throws IOException {
    assertEquals(2, CALLBACKS.handshakePacketHeaderSize(socket()));
  }

  @Test
  void aLargeHeapWriteMovesUpToTheSendBufferInOneCall() throws Exception {
    UnixSocket[] pair = connectedPair("staging");
    int sendBuffer = LibC.sendBufferSize(pair[0].fd());
    byte[] small = new byte[UnixSocket.STAGING_SIZE];
    new Random(3).nextBytes(small);
    writeAndDrain(pair, small);

    byte[] large = new byte[4 << 20];
    new Random(4).nextBytes(large);
    Future<byte[]> got = executor.submit(() -> readFully(pair[1], large.length));
    ByteBuffer b = ByteBuffer.wrap(large);
    long first = CALLBACKS.writev(pair[0], new ByteBuffer[] {b}, 10_000);
    assertTrue(first > 0 && first <= Math.max(UnixSocket.STAGING_SIZE, sendBuffer),
        first + " bytes in one call, send buffer " + sendBuffer);
    // Linux's default (net.core.wmem_default, 208 KiB) takes well over 64 KiB at once.
    if (sendBuffer >= 3 * UnixSocket.STAGING_SIZE) {
      assertTrue(first > UnixSocket.STAGING_SIZE, first + " bytes in one call");
    }
    while (b.hasRemaining()) {
      CALLBACKS.writev(pair[0], new ByteBuffer[] {b}, 10_000);
    }
    assertArrayEquals(large, got.get(10, TimeUnit.SECONDS));
    writeAndDrain(pair, small);
  }

  @Test
  void largeHeapWritesToASlowReaderArriveIntactAndInOrder() throws Exception {
    UnixSocket[] pair = connectedPair("slow");
    Random random = new Random(11);
    // Small frames before and after large ones: the staging area grows between them, and
    // the slow reader makes the large writes short, so their remainders are staged again.
    byte[][] parts = new byte[9][];
    int total = 0;
    for (int i = 0; i < parts.length; i++) {
      parts[i] = new byte[i % 3 == 0 ? 40 : (3 << 20) / 2 + i];
      random.nextBytes(parts[i]);
      total += parts[i].length + 4;
    }
    int expectedTotal = total;
    Future<byte[]> got = executor.submit(() -> {
      ByteBuffer all = ByteBuffer.allocate(expectedTotal);
      ByteBuffer chunk = ByteBuffer.allocate(4096);
      while (all.hasRemaining()) {
        chunk.clear().limit(Math.min(chunk.capacity(), all.remaining()));
        if (CALLBACKS.read(pair[1], chunk, 10_000) < 0) {
          throw new AssertionError("end of stream after " + all.position() + " bytes");
        }
        all.put(chunk.flip());
        if (all.position() < (1 << 20)) {
          Thread.sleep(1);
        }
      }
      return all.array();
    });
    ByteBuffer expected = ByteBuffer.allocate(total);
    int shortWrites = 0;
    for (byte[] part : parts) {
      ByteBuffer header = ByteBuffer.allocate(4).putInt(0, part.length);
      ByteBuffer body = ByteBuffer.wrap(part);
      ByteBuffer[] frame = {header, body};
      while (body.hasRemaining()) {
        long n = CALLBACKS.writev(pair[0], frame, 10_000);
        assertTrue(n > 0);
        if (body.hasRemaining()) {
          shortWrites++;
        }
      }
      expected.put(header.rewind()).put(body.rewind());
    }
    assertArrayEquals(expected.array(), got.get(30, TimeUnit.SECONDS));
    assertTrue(shortWrites > 0, "the test is meant to make short writes");
  }

  // What every transport's read wakeup must do (a waiting read woken, a stream under
  // constant wakeups arriving exactly, ...) SocketCallbacksConformance checks through
  // UnixCallbacksConformanceTest; the tests here are about the eventfd behind it.

  @Test
  void readWakeupsOnlyWithFullImpl() {
    assertTrue(CALLBACKS.hasReadWakeup());
    assertFalse(UnixTransport.builder().fullImpl(false).build().hasReadWakeup());
  }

  /** A read with a 10 s timeout on its own thread; it returns what it read or what it threw. */
  private Future<Object> readLater(UnixSocket s, ByteBuffer into) {
    return executor.submit(() -> {
      try {
        return CALLBACKS.read(s, into, 10_000);
      } catch (IOException e) {
        return e;
      }
    });
  }

  private static void assertWoken(Object result) {
    assertTrue(result instanceof ErrnoException e && e.errno() == Errno.ETIMEDOUT,
        "expected the read to time out on the wakeup, got " + result);
  }

  @Test
  void aWakeupBeforeTheReadEndsTheNextWaitOnlyOnce() throws Exception {
    UnixSocket[] pair = connectedPair("early");
    for (int round = 0; round < 2; round++) {
      // Round 0: no read has waited yet (no eventfd). Round 1: the eventfd exists, and the
      // second, coalesced ring is still in it when the next read waits.
      CALLBACKS.wakeupRead(pair[1]);
      CALLBACKS.wakeupRead(pair[1]);
      long start = System.nanoTime();
      ErrnoException e = assertThrows(ErrnoException.class,
          () -> CALLBACKS.read(pair[1], ByteBuffer.allocate(16), 10_000));
      assertEquals(Errno.ETIMEDOUT, e.errno());
      assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "the wakeup did not end the wait");

      // The next read waits as usual, for data that comes later.
      start = System.nanoTime(); // before the writer starts its sleep
      Future<?> late = executor.submit(() -> {
        Thread.sleep(300);
        return CALLBACKS.write(pair[0], ByteBuffer.wrap(new byte[] {7}), 1000);
      });
      ByteBuffer b = ByteBuffer.allocate(16);
      assertEquals(1, CALLBACKS.read(pair[1], b, 10_000));
      assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(250),
          "the read returned before the data was sent");
      assertEquals(7, b.get(0));
      late.get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void dataAlreadyReadableIsReturnedDespiteAPendingWakeup() throws Exception {
    UnixSocket[] pair = connectedPair("ready");
    // Make the eventfd exist, so that the ring below is there too.
    CALLBACKS.wakeupRead(pair[1]);
    assertWoken(readLater(pair[1], ByteBuffer.allocate(1)).get(10, TimeUnit.SECONDS));

    CALLBACKS.write(pair[0], ByteBuffer.wrap(new byte[] {1, 2, 3}), 1000);
    CALLBACKS.wakeupRead(pair[1]);
    ByteBuffer b = ByteBuffer.allocate(16);
    assertEquals(3, CALLBACKS.read(pair[1], b, 10_000));
    assertArrayEquals(new byte[] {1, 2, 3}, Arrays.copyOf(b.array(), 3));
    // The wakeup was not used up by a read that did not wait: the next one that waits gets it.
    long start = System.nanoTime();
    assertWoken(readLater(pair[1], ByteBuffer.allocate(1)).get(10, TimeUnit.SECONDS));
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "the pending wakeup was lost");
  }

  @Test
  void wakeupReadRacingCloseNeverFailsBlocksOrLeaks() throws Exception {
    long before = openDescriptors();
    UnixSocketAddress address = UnixSocketAddress.ofAbstract("ei4j-test-wakeclose-" + System.nanoTime());
    UnixSocket l = CALLBACKS.socket(null);
    CALLBACKS.listen(l, address, 64);
    Random random = new Random(3);
    for (int i = 0; i < 100; i++) {
      UnixSocket client = CALLBACKS.socket(null);
      CALLBACKS.connect(client, address, 1000);
      UnixSocket server = CALLBACKS.accept(l, 1000).context();
      Future<Object> reader = executor.submit(() -> {
        for (;;) {
          try {
            CALLBACKS.read(server, ByteBuffer.allocate(16), 10_000);
          } catch (ErrnoException e) {
            if (e.errno() != Errno.ETIMEDOUT) {
              return e;
            }
          }
        }
      });
      AtomicBoolean stop = new AtomicBoolean();
      Future<?> waker = executor.submit(() -> {
        while (!stop.get()) {
          CALLBACKS.wakeupRead(server);
        }
      });
      Thread.sleep(random.nextInt(3));
      CALLBACKS.close(server);
      Object r = reader.get(5, TimeUnit.SECONDS);
      assertTrue(r instanceof ErrnoException e && e.errno() == Errno.EBADF, "reader: " + r);
      stop.set(true);
      waker.get(5, TimeUnit.SECONDS); // neither blocked nor threw
      CALLBACKS.wakeupRead(server); // closed: nothing happens
      CALLBACKS.close(client);
    }
    CALLBACKS.close(l);
    long after = openDescriptors();
    assertTrue(after <= before + 2, "descriptors before " + before + ", after " + after);
  }

  @Test
  void theWakeupEventfdIsClosedWithTheSocket() throws Exception {
    // This socket's own descriptor is checked, not a count over the process: other
    // threads (a JDK selector's wakeup, a reader left from another test) make and close
    // eventfds of their own at any time.
    UnixSocket[] pair = connectedPair("efd");
    assertEquals(-1, pair[1].madeWakeFd(), "no eventfd before a read waited");
    CALLBACKS.wakeupRead(pair[1]);
    assertWoken(readLater(pair[1], ByteBuffer.allocate(1)).get(10, TimeUnit.SECONDS));
    int efd = pair[1].madeWakeFd();
    assertTrue(isEventfd(efd), "the first waiting read made an eventfd, got descriptor " + efd);
    CALLBACKS.wakeupRead(pair[1]);
    assertWoken(readLater(pair[1], ByteBuffer.allocate(1)).get(10, TimeUnit.SECONDS));
    assertEquals(efd, pair[1].madeWakeFd(), "the next waiting read reuses the eventfd");
    CALLBACKS.close(pair[1]);
    assertFalse(isEventfd(efd), "close releases the socket's eventfd " + efd);
  }

  /** Whether this process's descriptor {@code fd} is an open eventfd. */
  private static boolean isEventfd(int fd) {
    try {
      return fd >= 0 && Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString().equals("anon_inode:[eventfd]");
    } catch (IOException e) {
      return false; // not open
    }
  }

  /** A connected pair over an abstract name: [client, accepted]. */
  private UnixSocket[] connectedPair(String name) throws IOException {
    UnixSocketAddress address = UnixSocketAddress.ofAbstract("ei4j-test-" + name + "-" + System.nanoTime());
    UnixSocket l = listening(address);
    UnixSocket client = socket();
    CALLBACKS.connect(client, address, 1000);
    UnixSocket server = CALLBACKS.accept(l, 1000).context();
    opened.add(server);
    return new UnixSocket[] {client, server};
  }

  /** Writes {@code data} from pair[0] in one or more calls while pair[1] reads it all. */
  private void writeAndDrain(UnixSocket[] pair, byte[] data) throws Exception {
    Future<byte[]> got = executor.submit(() -> readFully(pair[1], data.length));
    ByteBuffer b = ByteBuffer.wrap(data);
    while (b.hasRemaining()) {
      CALLBACKS.writev(pair[0], new ByteBuffer[] {b}, 10_000);
    }
    assertArrayEquals(data, got.get(10, TimeUnit.SECONDS));
  }

  private static byte[] readFully(UnixSocket s, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (CALLBACKS.read(s, b, 10_000) < 0) {
        throw new AssertionError("end of stream after " + b.position() + " bytes");
      }
    }
    return b.array();
  }
}
