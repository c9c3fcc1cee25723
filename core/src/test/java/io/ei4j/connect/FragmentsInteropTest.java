package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.testkit.ForwardingSocketCallbacks;
import io.ei4j.transport.tcp.TcpTransport;
import io.ei4j.transport.tcp.TcpSocket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code DFLAG_FRAGMENTS} against a real Erlang node: 24 MiB binaries both ways (Erlang
 * fragments what it sends to a node that advertises the flag, and accepts our fragments),
 * and a small message that goes and comes back while a 48 MiB one is in flight over a
 * throttled link, with a 2-second {@code net_ticktime} on both sides that the transfer
 * outlasts; with distribution headers turned off, the same small send has to wait for the
 * whole big one.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FragmentsInteropTest {
  private static final String COOKIE = "ei4j_fragments";
  private static final int BIG = 24 << 20;
  private static final String MODULE = """
      -module(ei4j_frag).
      -export([start/0]).
      start() ->
          register(big, spawn(fun big/0)),
          register(small, spawn(fun small/0)),
          io:format("ready~n").
      big() ->
          receive
              {From, make, N} ->
                  Bin = pattern(N),
                  From ! {big, Bin, erlang:md5(Bin)},
                  big();
              {From, Bin} when is_binary(Bin) ->
                  From ! {got, byte_size(Bin), erlang:md5(Bin)},
                  big()
          end.
      small() ->
          receive {From, Msg} -> From ! {small, Msg}, small() end.
      pattern(N) ->
          binary:part(binary:copy(<<"0123456789abcdef">>, N div 16 + 1), 0, N).
      """;

  private static ErlangPeer start(Path dir, String ticktime) {
    Path ebin = ErlangPeer.compile(dir, "ei4j_frag", MODULE);
    return ErlangPeer.builder().sname(ErlangPeer.uniqueName("frag")).cookie(COOKIE).codePath(ebin)
        .args("-kernel", "net_ticktime", ticktime).eval("ei4j_frag:start()").readyLine("^ready").start();
  }

  private static byte[] pattern(int n) {
    byte[] a = new byte[n];
    byte[] p = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    for (int i = 0; i < n; i++) {
      a[i] = p[i & 15];
    }
    return a;
  }

  private static byte[] md5(byte[] a) throws Exception {
    return MessageDigest.getInstance("MD5").digest(a);
  }

  @Test
  void bigBinariesBothWaysTravelAsFragments(@TempDir Path dir) throws Exception {
    try (ErlangPeer peer = start(dir, "60");
         EiNode node = EiNode.builder(ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName())
             .cookie(COOKIE).transport(TcpTransport.create()).build();
         EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      assertTrue(c.usesDistributionHeaders() && c.sendsFragments(), "Erlang negotiates headers and fragments");
      ErlPid me = c.self();

      c.regSend(me, "big", ErlTuple.of(me, ErlAtom.of("make"), ErlInteger.of(BIG)));
      ErlTuple got = (ErlTuple) assertInstanceOf(EiMessage.Send.class, c.receive(60_000)).message();
      byte[] bytes = ((ErlBinary) got.get(1)).toByteArray();
      assertEquals(BIG, bytes.length);
      assertArrayEquals(pattern(BIG), bytes);
      assertArrayEquals(((ErlBinary) got.get(2)).toByteArray(), md5(bytes));
      assertEquals(1, c.frameDecoder().reassembledMessages(), "Erlang sent the 24 MiB binary in fragments");
      assertEquals(0, c.frameDecoder().sequencesInProgress());

      byte[] out = pattern(BIG + 12345);
      c.regSend(me, "big", ErlTuple.of(me, ErlBinary.of(out)));
      ErlTuple ack = (ErlTuple) assertInstanceOf(EiMessage.Send.class, c.receive(60_000)).message();
      assertEquals(ErlAtom.of("got"), ack.get(0));
      assertEquals(ErlInteger.of(out.length), ack.get(1));
      assertArrayEquals(md5(out), ((ErlBinary) ack.get(2)).toByteArray());

      // The connection still carries ordinary messages afterwards.
      c.regSend(me, "small", ErlTuple.of(me, ErlAtom.of("after")));
      ErlTuple small = (ErlTuple) ((EiMessage.Send) c.receive(10_000)).message();
      assertEquals(ErlTuple.of(ErlAtom.of("small"), ErlAtom.of("after")), small);
    }
  }

  @Test
  void aSmallMessageOvertakesABigOneAndTicksGoOn(@TempDir Path dir) throws Exception {
    Overtaking r = overtake(dir, true, 2);
    assertTrue(r.smallReplyAt < r.bigSentAt, "the small message went and came back while the big one was in flight: " + r);
    assertTrue(r.smallSentAt - r.bigStartedAt < 1_000, "the small send did not wait for the big one: " + r);
    assertTrue(r.bigSentAt > 2_500, "the transfer outlasted the 2 s tick time: " + r);
    assertTrue(r.stillOpen, "the connection survived: " + r);
  }

  @Test
  void withoutFragmentsTheSmallMessageWaitsForTheBigOne(@TempDir Path dir) throws Exception {
    // A long tick time: Erlang counts whole frames received, so a 3 s unfragmented frame
    // would outlast a 2 s net_ticktime and Erlang would drop the connection.
    Overtaking r = overtake(dir, false, 60);
    assertTrue(r.bigSentAt > 1_000, "the throttled transfer took a while: " + r);
    // The small send returns once its frame is queued (as Erlang's ! does); on the wire it
    // waits behind the big frame, so its reply comes only after the big one went out.
    assertTrue(r.smallReplyAt >= r.bigSentAt - 200, "without fragments the small message queues behind the big one: " + r);
  }

  /** Milliseconds from the start of the big send to each event. */
  private record Overtaking(long bigStartedAt, long smallSentAt, long smallReplyAt, long bigSentAt, long bigReplyAt, boolean stillOpen) {}

  /**
   * A 48 MiB message to {@code big} from one thread over a link throttled to about 16 MB/s,
   * then, once its first bytes went out (encoding 48 MiB takes a while on a loaded machine)
   * and 300 ms more, a small one to {@code small} from this thread; both nodes use a tick
   * time of {@code tickSeconds}.
   */
  private static Overtaking overtake(Path dir, boolean headers, int tickSeconds) throws Exception {
    int size = 48 << 20;
    Throttled throttled = new Throttled();
    try (ErlangPeer peer = start(dir, Integer.toString(tickSeconds));
         EiNode node = EiNode.builder(ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName())
             .cookie(COOKIE).transport(throttled).tickTimeMillis(tickSeconds * 1_000L).distributionHeaders(headers).build();
         EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      assertEquals(headers, c.sendsFragments());
      ErlPid me = c.self();
      ErlPid bigSender = node.makePid();
      byte[] out = pattern(size);
      long t0 = System.nanoTime();
      CompletableFuture<Long> big = CompletableFuture.supplyAsync(() -> {
        try {
          c.regSend(bigSender, "big", ErlTuple.of(me, ErlBinary.of(out)));
          return (System.nanoTime() - t0) / 1_000_000;
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      assertTrue(throttled.bigWrite.await(30, TimeUnit.SECONDS), "the big send started writing");
      long bigStartedAt = (System.nanoTime() - t0) / 1_000_000;
      Thread.sleep(300);
      c.regSend(me, "small", ErlTuple.of(me, ErlAtom.of("ping")));
      long smallSentAt = (System.nanoTime() - t0) / 1_000_000;
      long smallReplyAt = -1;
      long bigReplyAt = -1;
      while (smallReplyAt < 0 || bigReplyAt < 0) {
        ErlTuple t = (ErlTuple) ((EiMessage.Send) c.receive(60_000)).message();
        long at = (System.nanoTime() - t0) / 1_000_000;
        if (t.get(0).equals(ErlAtom.of("small"))) {
          smallReplyAt = at;
        } else {
          assertEquals(ErlInteger.of(size), t.get(1));
          assertArrayEquals(md5(out), ((ErlBinary) t.get(2)).toByteArray());
          bigReplyAt = at;
        }
      }
      long bigSentAt = big.get(30, TimeUnit.SECONDS);
      return new Overtaking(bigStartedAt, smallSentAt, smallReplyAt, bigSentAt, bigReplyAt, c.isOpen());
    }
  }

  /**
   * TCP that sleeps after every write of 32 KiB or more, 1 ms per 16 KiB written: about
   * 16 MB/s for large frames, no delay at all for small frames and ticks.
   */
  private static final class Throttled extends ForwardingSocketCallbacks<TcpSocket> {
    /** Counted down at the first write of 32 KiB or more. */
    final CountDownLatch bigWrite = new CountDownLatch(1);

    Throttled() {
      super(TcpTransport.create());
    }

    private void pause(long written) throws IOException {
      if (written >= 32 << 10) {
        bigWrite.countDown();
        try {
          Thread.sleep(written >> 14);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("throttled write interrupted");
        }
      }
    }

    @Override
    public long writev(TcpSocket ctx, ByteBuffer[] buffers, long timeoutMillis) throws IOException {
      long n = super.writev(ctx, buffers, timeoutMillis);
      pause(n);
      return n;
    }

    @Override
    public int write(TcpSocket ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
      int n = super.write(ctx, buffer, timeoutMillis);
      pause(n);
      return n;
    }
  }
}
