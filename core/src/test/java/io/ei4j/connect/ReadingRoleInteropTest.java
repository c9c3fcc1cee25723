package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.ErrnoException;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.testkit.ForwardingSocketCallbacks;
import io.ei4j.transport.tcp.TcpTransport;
import io.ei4j.transport.tcp.TcpSocket;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reading role of {@link EiConnection#receive}, against a real Erlang node: a receiver
 * reads the socket on its own thread; the reader thread takes the role back when nobody
 * receives (ticks still answered); an interrupted or timed-out receive loses nothing, not
 * even a frame it read halfway (or a fragment, read straight into its message's buffer);
 * a peer that vanishes halfway through a fragment ends the connection and gives back the
 * receive budget; concurrent receivers get every message once, in order.
 */
// Timing-sensitive: runs in core's "alone" execution, with no other test JVM beside it.
@Tag("alone")
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ReadingRoleInteropTest {
  private static final String COOKIE = "ei4j_reading_role";
  private static final String MODULE = """
      -module(ei4j_role).
      -export([start/0]).
      start() -> register(echo, spawn(fun loop/0)), io:format("ready~n").
      loop() ->
          receive
              {echo, From, X} -> From ! X, loop();
              {burst, From, N} -> [From ! {seq, I} || I <- lists:seq(1, N)], loop();
              {big, From, Bytes} -> From ! {big, binary:copy(<<7>>, Bytes)}, loop();
              {patterns, From, Seeds, Bytes} ->
                  [spawn(fun() -> From ! {pattern, S, pattern(S, Bytes)} end) || S <- Seeds], loop();
              {later, From, Millis, X} -> timer:send_after(Millis, From, X), loop()
          end.
      pattern(Seed, N) -> << <<((I * 31 + Seed) rem 251)>> || I <- lists:seq(0, N - 1) >>.
      """;

  @Test
  void receiveReadsOnItsOwnThreadAndTheReaderTakesOverWhenNobodyReceives(@TempDir Path dir) throws Exception {
    Recording transport = new Recording();
    try (ErlangPeer peer = start(dir, "-kernel", "net_ticktime", "2");
         EiNode node = javaNode(transport).tickTimeMillis(2_000).build();
         EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid me = c.self();
      transport.readers.clear();
      for (int i = 0; i < 200; i++) {
        c.regSend(me, "echo", ErlTuple.of(ErlAtom.of("echo"), me, ErlInteger.of(i)));
        assertEquals(ErlInteger.of(i), ((EiMessage.Send) c.receive(10_000)).message());
      }
      String self = Thread.currentThread().getName();
      long own = transport.readers.stream().filter(self::equals).count();
      assertTrue(own >= 40, "a receiver with nothing queued reads the socket itself: " + own + " of "
          + transport.readers.size() + " reads in 200 round trips were on the receiving thread");

      // Nobody receives for three tick times: the reader thread must read (and answer ticks).
      transport.readers.clear();
      c.regSend(me, "echo", ErlTuple.of(ErlAtom.of("later"), me, ErlInteger.of(3_000), ErlAtom.of("queued")));
      Thread.sleep(6_500);
      if (!c.isOpen()) {
        try {
          c.receive(0);
        } catch (IOException e) {
          throw new AssertionError("the connection did not outlive three tick times without a receive", e);
        }
      }
      assertTrue(transport.readers.stream().anyMatch(t -> t.startsWith("ei4j-reader-")),
          "the reader thread read while nobody received: " + transport.readers);
      assertEquals(ErlAtom.of("queued"), ((EiMessage.Send) c.receive(0)).message(),
          "what the reader thread queued meanwhile is there at once");
      ErlTerm r = c.rpc("erlang", "node", ErlList.of(), 10_000);
      assertEquals(ErlAtom.of(peer.nodeName()), r, "an rpc is answered with nobody in receive");
    }
  }

  @Test
  void anInterruptedOrTimedOutReceiveLosesNothingEvenHalfwayThroughAFrame(@TempDir Path dir) throws Exception {
    Recording transport = new Recording();
    // Without distribution headers Erlang sends the big message as one frame, not fragments.
    try (ErlangPeer peer = start(dir);
         EiNode node = javaNode(transport).distributionHeaders(false).build();
         EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid me = c.self();
      echoes(c, "warm");

      // Interrupted while reading the socket itself.
      AtomicReference<Throwable> outcome = new AtomicReference<>();
      Thread receiver = new Thread(() -> {
        try {
          for (int i = 0; i < 50; i++) {
            c.regSend(me, "echo", ErlTuple.of(ErlAtom.of("echo"), me, ErlInteger.of(i)));
            assertEquals(ErlInteger.of(i), ((EiMessage.Send) c.receive(10_000)).message());
          }
          c.receive(-1);
          outcome.set(new AssertionError("receive returned"));
        } catch (IOException e) {
          outcome.set(Thread.currentThread().isInterrupted() ? e : new AssertionError("interrupt status lost", e));
        }
      }, "interrupted-receiver");
      receiver.start();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!transport.readers.contains("interrupted-receiver") && System.nanoTime() < until) {
        Thread.sleep(5);
      }
      assertTrue(transport.readers.contains("interrupted-receiver"), "the receiver read the socket itself");
      Thread.sleep(200); // into its last receive, most likely reading the socket itself
      receiver.interrupt();
      receiver.join(10_000);
      assertInstanceOf(InterruptedIOException.class, outcome.get());
      assertTrue(c.isOpen(), "an interrupted receive leaves the connection up");

      // A 1 MiB frame arriving 16 KiB per read, 40 ms apart: receive(50) times out halfway,
      // again and again, then returns the whole message.
      int size = 1 << 20;
      transport.throttle = true;
      c.regSend(me, "echo", ErlTuple.of(ErlAtom.of("big"), me, ErlInteger.of(size)));
      Received r = receiveThroughTimeouts(c, 1, 50);
      transport.throttle = false;
      assertTrue(r.timeouts() >= 5, "receive timed out halfway through the frame " + r.timeouts() + " times");
      ErlTuple big = r.messages().get(0);
      byte[] expected = new byte[size];
      java.util.Arrays.fill(expected, (byte) 7);
      assertArrayEquals(expected, ((ErlBinary) big.get(1)).toByteArray(), "the frame read across timeouts is intact");
      echoes(c, "after");
    }
  }

  @Test
  void fragmentsReadInSmallPiecesAcrossTimeoutsArriveWhole(@TempDir Path dir) throws Exception {
    Recording transport = new Recording();
    // With distribution headers (the default) Erlang sends big messages as fragments of 64 KiB.
    try (ErlangPeer peer = start(dir);
         EiNode node = javaNode(transport).build();
         EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid me = c.self();
      echoes(c, "warm");

      // Two messages of 2 MiB from two processes (their fragments may interleave), arriving
      // 7001 bytes per read, so that reads end anywhere in a fragment's header or bytes;
      // receive(20) times out halfway, again and again.
      int size = 2 << 20;
      transport.piece = 7001;
      transport.pauseMillis = 2;
      transport.throttle = true;
      c.regSend(me, "echo", ErlTuple.of(ErlAtom.of("patterns"), me, ErlList.of(ErlInteger.of(1), ErlInteger.of(2)), ErlInteger.of(size)));
      Received r = receiveThroughTimeouts(c, 2, 20);
      transport.throttle = false;
      assertTrue(r.timeouts() >= 5, "receive timed out halfway through the fragments " + r.timeouts() + " times");
      for (ErlTuple t : r.messages()) {
        int seed = ((ErlInteger) t.get(1)).intValue();
        assertArrayEquals(pattern(seed, size), ((ErlBinary) t.get(2)).toByteArray(), "message " + seed + " is intact");
      }
      assertEquals(2, c.frameDecoder().reassembledMessages(), "both messages came as fragments");
      echoes(c, "after");
    }
  }

  @Test
  void aPeerVanishingHalfwayThroughAFragmentEndsTheConnectionAndFreesTheBudget(@TempDir Path dir) throws Exception {
    Recording transport = new Recording();
    try (ErlangPeer peer = start(dir);
         EiNode node = javaNode(transport).build();
         EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid me = c.self();
      echoes(c, "warm");
      // The stream ends 300,001 bytes into a message of 2 MiB: in the middle of its fifth fragment.
      transport.piece = 5000;
      transport.pauseMillis = 0;
      transport.eofAfter = 300_001;
      transport.throttle = true;
      c.regSend(me, "echo", ErlTuple.of(ErlAtom.of("patterns"), me, ErlList.of(ErlInteger.of(1)), ErlInteger.of(2 << 20)));
      assertThrows(EiConnectionLostException.class, () -> c.receive(10_000));
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (node.receiveBudgetUsedBytes() != 0 && System.nanoTime() < until) {
        Thread.sleep(5);
      }
      assertEquals(0, node.receiveBudgetUsedBytes(), "the fragments read so far gave back their receive budget");
    }
  }

  /** Has the peer's {@code echo} process send {@code word} back, and checks that it comes. */
  private static void echoes(EiConnection c, String word) throws IOException {
    c.regSend(c.self(), "echo", ErlTuple.of(ErlAtom.of("echo"), c.self(), ErlAtom.of(word)));
    assertEquals(ErlAtom.of(word), ((EiMessage.Send) c.receive(10_000)).message());
  }

  /** The messages {@link #receiveThroughTimeouts} received, and how often a receive timed out. */
  private record Received(List<ErlTuple> messages, int timeouts) {}

  /** Receives {@code n} messages with receives of {@code timeoutMillis}, counting those that time out. */
  private static Received receiveThroughTimeouts(EiConnection c, int n, long timeoutMillis) throws IOException {
    int timeouts = 0;
    List<ErlTuple> got = new ArrayList<>();
    while (got.size() < n) {
      try {
        got.add((ErlTuple) ((EiMessage.Send) c.receive(timeoutMillis)).message());
      } catch (ErrnoException e) {
        assertTrue(e.isTimeout(), e.toString());
        timeouts++;
      }
    }
    return new Received(got, timeouts);
  }

  private static byte[] pattern(int seed, int n) {
    byte[] a = new byte[n];
    for (int i = 0; i < n; i++) {
      a[i] = (byte) ((i * 31L + seed) % 251);
    }
    return a;
  }

  @Test
  void concurrentReceiversGetEveryMessageOnceAndInOrder(@TempDir Path dir) throws Exception {
    int n = 20_000;
    try (ErlangPeer peer = start(dir);
         EiNode node = javaNode(TcpTransport.create()).build();
         EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid me = c.self();
      ConcurrentLinkedQueue<Long> all = new ConcurrentLinkedQueue<>();
      List<CompletableFuture<List<Long>>> receivers = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        receivers.add(CompletableFuture.supplyAsync(() -> {
          List<Long> mine = new ArrayList<>();
          try {
            while (all.size() < n) {
              EiMessage m;
              try {
                m = c.receive(200);
              } catch (ErrnoException e) {
                continue;
              }
              long seq = ((ErlInteger) ((ErlTuple) ((EiMessage.Send) m).message()).get(1)).longValue();
              mine.add(seq);
              all.add(seq);
            }
          } catch (IOException e) {
            throw new RuntimeException(e);
          }
          return mine;
        }, r -> new Thread(r, "receiver").start()));
      }
      c.regSend(me, "echo", ErlTuple.of(ErlAtom.of("burst"), me, ErlInteger.of(n)));
      long total = 0;
      for (CompletableFuture<List<Long>> f : receivers) {
        List<Long> mine = f.get(60, TimeUnit.SECONDS);
        for (int i = 1; i < mine.size(); i++) {
          assertTrue(mine.get(i - 1) < mine.get(i), "each receiver sees messages in arrival order");
        }
        total += mine.size();
      }
      assertEquals(n, total, "every message received once");
      assertEquals(n, all.stream().distinct().count(), "no message received twice");
      assertThrows(ErrnoException.class, () -> c.receive(100), "nothing left over");
    }
  }

  private static ErlangPeer start(Path dir, String... args) throws IOException {
    Path ebin = ErlangPeer.compile(dir, "ei4j_role", MODULE);
    ErlangPeer.Builder b = ErlangPeer.builder().sname(ErlangPeer.uniqueName("role")).cookie(COOKIE)
        .codePath(ebin).eval("ei4j_role:start()").readyLine("^ready");
    if (args.length > 0) {
      b.args(args);
    }
    return b.start();
  }

  private static EiNode.Builder javaNode(io.ei4j.api.SocketCallbacks<?> transport) {
    return EiNode.builder(ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName())
        .cookie(COOKIE).transport(transport);
  }

  /** TCP that records the threads that read, and can deliver at most 16 KiB per read, 40 ms apart. */
  private static final class Recording extends ForwardingSocketCallbacks<TcpSocket> {
    final ConcurrentLinkedQueue<String> readers = new ConcurrentLinkedQueue<>();
    volatile boolean throttle;
    /** While throttled: the most bytes a read returns, and the pause before each. */
    volatile int piece = 16 << 10;
    volatile long pauseMillis = 40;
    /** While throttled: after this many bytes, reads report the end of the stream. */
    volatile long eofAfter = Long.MAX_VALUE;
    private long throttledBytes;

    Recording() {
      super(TcpTransport.create());
    }

    @Override
    public int read(TcpSocket ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
      String name = Thread.currentThread().getName();
      if (readers.size() < 10_000) {
        readers.add(name);
      }
      if (!throttle) {
        return super.read(ctx, buffer, timeoutMillis);
      }
      try {
        Thread.sleep(pauseMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("throttled read interrupted");
      }
      long left = eofAfter - throttledBytes;
      if (left <= 0) {
        return -1;
      }
      ByteBuffer part = buffer.slice(buffer.position(), (int) Math.min(Math.min(buffer.remaining(), piece), left));
      int n = super.read(ctx, part, timeoutMillis);
      if (n > 0) {
        buffer.position(buffer.position() + n);
        throttledBytes += n;
      }
      return n;
    }
  }
}
