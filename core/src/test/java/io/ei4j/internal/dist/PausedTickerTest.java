package io.ei4j.internal.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.BudgetPolicy;
import io.ei4j.connect.EiConnectionLostException;
import io.ei4j.fuzz.MemoryTransport;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.TermDecoder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The ticker against a reader that pauses for the receive budget: a pause is never taken
 * for the peer's silence, not even by a tick that runs just as the pause ends, and ticks
 * reach the peer in every quarter tick time while the pause lasts.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PausedTickerTest {
  private static final long MIB = 1 << 20;
  /** Each frame is larger than a connection's reserve, so it waits whenever the budget is full. */
  private static final int FRAME_BYTES = 100 << 10;
  private static final long TICK_MILLIS = 150;
  /** Each pause lasts longer than the tick time: a pause taken for silence is a tick timeout. */
  private static final long PAUSE_MILLIS = 250;
  private static final int PAUSES = 24;

  @Test
  void aTickThatRunsAsAPauseEndsDoesNotTakeThePauseForSilence() throws Exception {
    MessageBudget budget = new MessageBudget(MIB, BudgetPolicy.PAUSE);
    MessageBudget.Account hog = budget.account(); // another connection's messages, filling the budget
    AtomicReference<EiConnectionLostException> down = new AtomicReference<>();
    Liveness liveness = new Liveness(down::set);
    SocketIo<MemoryTransport.Conn> io = new SocketIo<>(new MemoryTransport(4), script(frames(PAUSES), new ArrayList<>()), null);
    FrameReader reader = new FrameReader(io, "peer@host", Integer.MAX_VALUE, false, budget.account(),
        () -> liveness.failure() != null, new DistFrameDecoder(false, Integer.MAX_VALUE, new TermDecoder()), () -> {});
    Ticker ticker = new Ticker(liveness, reader, new SendQueue(io, liveness, "peer@host", "flusher", TICK_MILLIS), "peer@host",
        TICK_MILLIS);

    AtomicInteger read = new AtomicInteger();
    AtomicReference<Throwable> readFailed = new AtomicReference<>();
    Thread readerThread = new Thread(() -> {
      try {
        for (int i = 0; i < PAUSES && liveness.failure() == null; i++) {
          assertTrue(hog.tryCharge(MIB - (16 << 10)));
          DistFrameDecoder.Message m = reader.read(Deadline.after(SocketCallbacks.INFINITE), false);
          reader.account().release(reader.takeCharge()); // consumed at once
          assertEquals(FRAME_BYTES - 7, ((ErlBinary) m.control()).size());
          read.incrementAndGet();
        }
      } catch (Throwable t) {
        readFailed.set(t);
      }
    }, "reader");
    // The ticker runs back to back rather than every quarter tick time, so that some run
    // falls on the moment each pause ends.
    Thread tickerThread = new Thread(() -> {
      while (liveness.failure() == null && read.get() < PAUSES && readFailed.get() == null) {
        ticker.run();
      }
    }, "ticker");
    readerThread.start();
    for (int i = 0; i < PAUSES && liveness.failure() == null && readFailed.get() == null; i++) {
      while (!reader.paused() && liveness.failure() == null && readFailed.get() == null) {
        Thread.sleep(1);
      }
      if (i == 0) {
        tickerThread.start(); // once reading has begun: the reader thread's start is no silence of the peer
      }
      Thread.sleep(PAUSE_MILLIS);
      hog.release(hog.heldBytes()); // the consumer catches up: the pause ends
      while (read.get() <= i && liveness.failure() == null && readFailed.get() == null) {
        Thread.sleep(1);
      }
    }
    readerThread.join(10_000);
    tickerThread.join(10_000);
    assertNull(readFailed.get(), () -> "the reader failed: " + readFailed.get());
    assertNull(down.get(), () -> "the connection went down after " + read.get() + " pauses: " + down.get().getMessage());
    assertEquals(PAUSES, read.get());
  }

  @Test
  void whileReadsArePausedATickGoesOutInEveryQuarterTickTimeEvenWhenTheSchedulerRunsLate() throws Exception {
    long tickMillis = 1_600;
    MessageBudget budget = new MessageBudget(MIB, BudgetPolicy.PAUSE);
    MessageBudget.Account hog = budget.account();
    assertTrue(hog.tryCharge(MIB - (16 << 10)));
    Liveness liveness = new Liveness(why -> {});
    List<Long> writes = new CopyOnWriteArrayList<>();
    SocketIo<MemoryTransport.Conn> io = new SocketIo<>(new MemoryTransport(4), script(frames(1), writes), null);
    FrameReader reader = new FrameReader(io, "peer@host", Integer.MAX_VALUE, false, budget.account(),
        () -> liveness.failure() != null, new DistFrameDecoder(false, Integer.MAX_VALUE, new TermDecoder()), () -> {});
    Ticker ticker = new Ticker(liveness, reader, new SendQueue(io, liveness, "peer@host", "flusher", tickMillis), "peer@host",
        tickMillis);
    Thread readerThread = new Thread(() -> {
      try {
        reader.read(Deadline.after(SocketCallbacks.INFINITE), false);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    }, "reader");
    readerThread.start();
    while (!reader.paused()) {
      Thread.sleep(1);
    }
    // The scheduler as a loaded machine runs it: every other run 40% of an interval late.
    long interval = ticker.intervalMillis();
    long start = System.nanoTime();
    for (int k = 0; k < 3 * tickMillis / interval; k++) {
      long at = start + TimeUnit.MILLISECONDS.toNanos(k * interval + (k % 2 == 1 ? interval * 2 / 5 : 0));
      long wait = at - System.nanoTime();
      if (wait > 0) {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      }
      ticker.run();
    }
    long end = System.nanoTime();
    assertTrue(reader.paused(), "paused throughout");
    hog.release(hog.heldBytes());
    readerThread.join(10_000);
    assertNull(liveness.failure());
    // Erlang looks every quarter tick time, and ticks a hidden node that sent nothing since.
    long longest = 0;
    long last = start;
    for (long w : writes) {
      if (w <= end) {
        longest = Math.max(longest, w - last);
        last = w;
      }
    }
    longest = Math.max(longest, end - last);
    assertTrue(longest < TimeUnit.MILLISECONDS.toNanos(tickMillis / 4),
        "the longest time without a tick while paused: " + longest / 1_000_000 + " ms (tick time " + tickMillis + " ms)");
  }

  /** {@code n} pass-through frames whose control message is a binary, {@link #FRAME_BYTES} long each. */
  private static byte[] frames(int n) {
    ByteBuffer b = ByteBuffer.allocate(n * (4 + FRAME_BYTES));
    for (int i = 0; i < n; i++) {
      b.putInt(FRAME_BYTES).put((byte) 'p').put((byte) 131).put((byte) 109).putInt(FRAME_BYTES - 7);
      b.position(b.position() + FRAME_BYTES - 7);
    }
    return b.array();
  }

  /** A scripted socket (its reads, then end of stream) that notes when each write (here: each tick) was made. */
  private static MemoryTransport.Conn script(byte[] bytes, List<Long> writes) {
    return new MemoryTransport.Conn(bytes).responder(c -> writes.add(System.nanoTime()));
  }
}
