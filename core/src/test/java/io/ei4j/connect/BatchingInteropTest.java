package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Small frames are batched under load, against a real Erlang node: while one send is held
 * inside the transport's {@code writev}, 100 other threads send; their frames are copied
 * into the send queue and the senders return at once, and the next write carries all of
 * them in one gathering call. Erlang receives every message, each sender's in order. A
 * lone send afterwards is one call of its own.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BatchingInteropTest {
  private static final String COOKIE = "ei4j_batching";
  private static final int SENDERS = 100;
  private static final String MODULE = """
      -module(ei4j_batch).
      -export([start/0]).
      start() -> register(sink, spawn(fun() -> loop(#{}) end)), io:format("ready~n").
      loop(Last) ->
          receive
              {msg, Sender, Seq} ->
                  case maps:get(Sender, Last, 0) of
                      Prev when Prev + 1 =:= Seq -> loop(Last#{Sender => Seq});
                      Prev -> exit({out_of_order, Sender, Prev, Seq})
                  end;
              {report, From} ->
                  From ! {report, lists:sum(maps:values(Last)), map_size(Last)},
                  loop(Last)
          end.
      """;

  @Test
  void framesQueuedBehindABusyWriteGoOutInOneCall(@TempDir Path dir) throws Exception {
    Path ebin = ErlangPeer.compile(dir, "ei4j_batch", MODULE);
    Gated transport = new Gated();
    try (ErlangPeer peer = ErlangPeer.builder().sname(ErlangPeer.uniqueName("batch")).cookie(COOKIE)
            .codePath(ebin).eval("ei4j_batch:start()").readyLine("^ready").start();
         EiNode node = EiNode.builder(ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName())
             .cookie(COOKIE).transport(transport).build();
         EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid me = c.self();
      transport.arm();
      CompletableFuture<Void> held = send(c, me, 0, 1);
      assertTrue(transport.entered.await(10, TimeUnit.SECONDS), "the first send reached writev");
      List<CompletableFuture<Void>> senders = new ArrayList<>();
      for (int i = 1; i <= SENDERS; i++) {
        senders.add(send(c, me, i, 1));
      }
      // The senders return while the first write is still held: their frames were accepted.
      for (CompletableFuture<Void> f : senders) {
        f.get(10, TimeUnit.SECONDS);
      }
      int queued = c.queuedBytes();
      assertTrue(queued >= SENDERS * 20, "every sender's frame is in the send queue: " + queued + " bytes");
      transport.bytes.clear();
      transport.release.countDown();
      held.get(10, TimeUnit.SECONDS);
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (c.queuedBytes() > 0 && System.nanoTime() < until) {
        Thread.sleep(5);
      }
      long most = transport.bytes.stream().mapToLong(Long::longValue).max().orElse(0);
      assertTrue(most >= queued, "one writev carried all " + queued + " queued bytes: " + transport.bytes);

      transport.calls.clear();
      send(c, me, 1, 2).get(10, TimeUnit.SECONDS);
      assertEquals(List.of(2), transport.calls, "a lone send is one writev of its own two buffers");

      c.regSend(me, "sink", ErlTuple.of(ErlAtom.of("report"), me));
      ErlTuple report = (ErlTuple) ((EiMessage.Send) c.receive(10_000)).message();
      assertEquals(ErlTuple.of(ErlAtom.of("report"), ErlInteger.of(SENDERS + 2), ErlInteger.of(SENDERS + 1)), report,
          "Erlang got every message, each sender's in order");
    }
  }

  private static CompletableFuture<Void> send(EiConnection c, ErlPid me, int sender, int seq) {
    return CompletableFuture.runAsync(() -> {
      try {
        c.regSend(me, "sink", ErlTuple.of(ErlAtom.of("msg"), ErlInteger.of(sender), ErlInteger.of(seq)));
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    }, r -> new Thread(r, "sender-" + sender).start());
  }

  /** TCP whose next {@code writev} after {@link #arm()} waits for {@link #release}; records buffers per call. */
  private static final class Gated extends ForwardingSocketCallbacks<TcpSocket> {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    /** Non-empty buffers per call that had bytes to write. */
    final List<Integer> calls = new CopyOnWriteArrayList<>();
    /** Bytes offered per call that had bytes to write. */
    final List<Long> bytes = new CopyOnWriteArrayList<>();
    private volatile boolean armed;

    Gated() {
      super(TcpTransport.create());
    }

    void arm() {
      armed = true;
    }

    @Override
    public long writev(TcpSocket ctx, ByteBuffer[] buffers, long timeoutMillis) throws IOException {
      if (armed) {
        armed = false;
        entered.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("gate interrupted");
        }
      }
      int n = 0;
      long offered = 0;
      for (ByteBuffer b : buffers) {
        if (b.hasRemaining()) {
          n++;
          offered += b.remaining();
        }
      }
      if (n > 0) { // a write of no bytes only asks the transport to flush what it holds
        calls.add(n);
        bytes.add(offered);
      }
      return super.writev(ctx, buffers, timeoutMillis);
    }

    @Override
    public boolean hasWritev() {
      return true;
    }
  }
}
