package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.Errno;
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
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The send queue against a real Erlang node, with a TCP transport that can hold a write,
 * pretend the socket is full (a write that may not wait takes nothing) and hold the
 * flusher thread's write: sends that find the socket busy return at once and their frames arrive later, all
 * of them, in order, many per write; a full queue makes a sender time out without taking
 * the connection down; a write failure with frames queued takes it down, and the next send
 * says so.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SendQueueInteropTest {
  private static final String COOKIE = "ei4j_send_queue";
  private static final String MODULE = """
      -module(ei4j_sendq).
      -export([start/0]).
      start() -> register(sink, spawn(fun() -> loop([]) end)), io:format("ready~n").
      loop(Seqs) ->
          receive
              {msg, Seq, _Pad} -> loop([Seq | Seqs]);
              {report, From} -> From ! {report, lists:reverse(Seqs)}, loop(Seqs)
          end.
      """;

  @Test
  void framesSentWhileTheSocketIsBusyArriveInOrderManyPerWrite(@TempDir Path dir) throws Exception {
    Jammed transport = new Jammed();
    try (ErlangPeer peer = peer(dir);
         EiNode node = node(transport);
         EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid me = c.self();
      long t0 = System.nanoTime();
      transport.jam(() -> {
        for (int seq = 2; seq <= 100; seq++) {
          send(c, me, seq, 10, 10_000);
        }
      }, () -> send(c, me, 1, 10, 10_000));
      assertTrue(transport.flusherHeld.await(10, TimeUnit.SECONDS), "the flusher thread took over the write");
      for (int seq = 101; seq <= 200; seq++) {
        send(c, me, seq, 10, 10_000);
      }
      long tookMillis = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(c.queuedBytes() > 0, "frames sent while the flusher's write is held wait in the send queue");
      assertTrue(tookMillis < 5_000, "200 sends returned while the socket was busy: " + tookMillis + " ms");

      transport.writes.clear();
      transport.release.countDown();
      assertEquals(LongStream.rangeClosed(1, 200).boxed().toList(), report(c, me), "Erlang got every frame, in order");
      long flusherWrites = transport.writes.stream().filter(w -> w.thread().startsWith("ei4j-flusher-")).count();
      assertTrue(flusherWrites >= 1 && flusherWrites <= 3, "the flusher wrote the 199 frames left to it in one or few writes: " + transport.writes);

      // Once the flusher handed the socket back, a lone send writes from its own thread again.
      long idleBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!c.writerIdle()) {
        assertTrue(System.nanoTime() < idleBy, "the flusher kept the socket for 10 s after the queue emptied");
        Thread.sleep(1);
      }
      transport.writes.clear();
      send(c, me, 201, 10, 10_000);
      assertEquals(Thread.currentThread().getName(), transport.writes.get(0).thread(), "a lone send is written by its sender: " + transport.writes);
      assertEquals(201, report(c, me).size());
    }
  }

  @Test
  void aSenderThatFindsTheQueueFullTimesOutAndTheConnectionStaysUp(@TempDir Path dir) throws Exception {
    Jammed transport = new Jammed();
    try (ErlangPeer peer = peer(dir);
         EiNode node = node(transport);
         EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid me = c.self();
      transport.jam(() -> send(c, me, 2, 10, 10_000), () -> send(c, me, 1, 10, 10_000));
      assertTrue(transport.flusherHeld.await(10, TimeUnit.SECONDS), "the flusher thread took over the write");
      for (int seq = 3; seq <= 6; seq++) {
        send(c, me, seq, 60_000, 10_000); // 4 x 60 KB fit in the 256 KiB queue
      }
      long t0 = System.nanoTime();
      ErrnoException e = assertThrows(ErrnoException.class, () -> send(c, me, 7, 60_000, 300));
      long waited = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(Errno.ETIMEDOUT, e.errno(), e.toString());
      assertTrue(waited >= 250 && waited < 5_000, "the sender waited for room about its 300 ms: " + waited + " ms");
      assertTrue(c.isOpen(), "a send that timed out waiting for room leaves the connection up");

      transport.release.countDown();
      send(c, me, 8, 10, 10_000);
      assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 8L), report(c, me), "every accepted frame arrived, in order; the one that timed out never went");
    }
  }

  @Test
  void aWriteFailureWithFramesQueuedEndsTheConnectionAndTheNextSendSaysSo(@TempDir Path dir) throws Exception {
    Jammed transport = new Jammed();
    try (ErlangPeer peer = peer(dir);
         EiNode node = node(transport);
         EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid me = c.self();
      transport.failOnRelease = true;
      transport.jam(() -> {
        for (int seq = 2; seq <= 10; seq++) {
          send(c, me, seq, 10, 10_000);
        }
      }, () -> send(c, me, 1, 10, 10_000));
      assertTrue(transport.flusherHeld.await(10, TimeUnit.SECONDS), "the flusher thread took over the write");
      assertTrue(c.isOpen());

      transport.release.countDown();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (c.isOpen() && System.nanoTime() < until) {
        Thread.sleep(5);
      }
      assertFalse(c.isOpen(), "the failed write of queued frames took the connection down");
      EiConnectionLostException lost = assertThrows(EiConnectionLostException.class, () -> send(c, me, 11, 10, 10_000));
      assertTrue(lost.getMessage().contains("injected write failure"), "the next send reports why: " + lost.getMessage());
    }
  }

  private static ErlangPeer peer(Path dir) throws Exception {
    Path ebin = ErlangPeer.compile(dir, "ei4j_sendq", MODULE);
    return ErlangPeer.builder().sname(ErlangPeer.uniqueName("sendq")).cookie(COOKIE)
        .codePath(ebin).eval("ei4j_sendq:start()").readyLine("^ready").start();
  }

  private static EiNode node(Jammed transport) throws IOException {
    return EiNode.builder(ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName())
        .cookie(COOKIE).transport(transport).build();
  }

  private static void send(EiConnection c, ErlPid me, long seq, int padBytes, long timeoutMillis) throws IOException {
    c.regSend(me, "sink", ErlTuple.of(ErlAtom.of("msg"), ErlInteger.of(seq), ErlBinary.of(new byte[padBytes])), timeoutMillis);
  }

  private static List<Long> report(EiConnection c, ErlPid me) throws IOException {
    c.regSend(me, "sink", ErlTuple.of(ErlAtom.of("report"), me));
    ErlTuple report = (ErlTuple) ((EiMessage.Send) c.receive(10_000)).message();
    List<Long> seqs = new ArrayList<>();
    for (ErlTerm t : ((ErlList) report.get(1)).elements()) {
      seqs.add(((ErlInteger) t).longValue());
    }
    return seqs;
  }

  /** One write that had bytes: the thread that made it and how many bytes it offered. */
  private record Write(String thread, long bytes) {}

  /** Code that may throw, for {@link Jammed#jam}. */
  private interface Step {
    void run() throws Exception;
  }

  /**
   * TCP that can make the socket look busy: {@link #jam} holds one sender's write while
   * other frames queue behind it, then answers the next write that may not wait (the
   * queue, written on the way out of the lock) with "nothing taken", as a full socket
   * would, and holds the flusher thread's first write until {@link #release}, then lets
   * it through or fails it.
   */
  private static final class Jammed extends ForwardingSocketCallbacks<TcpSocket> {
    final CountDownLatch flusherHeld = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final List<Write> writes = new CopyOnWriteArrayList<>();
    volatile boolean failOnRelease;
    private volatile boolean full;
    private volatile boolean holdFlusher;
    private volatile CountDownLatch gate;
    private final CountDownLatch gated = new CountDownLatch(1);

    Jammed() {
      super(TcpTransport.create());
    }

    /**
     * Runs {@code first} (one send) on a thread of its own and holds its write; runs
     * {@code whileHeld} (sends that find the write lock taken, so they queue); then makes
     * the socket look full to the write of the queue and lets the first write go, so that
     * the flusher takes over and is held in its turn.
     */
    void jam(Step whileHeld, Step first) throws Exception {
      CountDownLatch g = new CountDownLatch(1);
      gate = g;
      Thread t = new Thread(() -> {
        try {
          first.run();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, "first-sender");
      t.start();
      assertTrue(gated.await(10, TimeUnit.SECONDS), "the first send reached writev");
      whileHeld.run();
      holdFlusher = true;
      full = true;
      g.countDown();
      t.join(10_000);
    }

    @Override
    public long writev(TcpSocket ctx, ByteBuffer[] buffers, long timeoutMillis) throws IOException {
      long offered = 0;
      for (ByteBuffer b : buffers) {
        offered += b.remaining();
      }
      if (offered == 0) {
        return super.writev(ctx, buffers, timeoutMillis);
      }
      String thread = Thread.currentThread().getName();
      CountDownLatch g = gate;
      if (g != null) {
        gate = null;
        gated.countDown();
        try {
          g.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("held write interrupted");
        }
      }
      if (full && timeoutMillis == 0) {
        full = false;
        throw new ErrnoException(Errno.ETIMEDOUT, "writev: pretending the socket is full");
      }
      if (holdFlusher && thread.startsWith("ei4j-flusher-")) {
        holdFlusher = false;
        flusherHeld.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("held write interrupted");
        }
        if (failOnRelease) {
          throw new IOException("injected write failure");
        }
      }
      writes.add(new Write(thread, offered));
      return super.writev(ctx, buffers, timeoutMillis);
    }

    @Override
    public boolean hasWritev() {
      return true;
    }
  }
}
