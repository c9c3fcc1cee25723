package io.ei4j.internal.dist;

import io.ei4j.connect.EiConnectionLostException;

/**
 * A connection's ticks, run by the node's scheduler every quarter tick time: sends an empty
 * frame when nothing was written for a quarter tick time, and takes the connection down
 * when nothing was read for the whole tick time, as Erlang's {@code net_ticktime} does. It
 * never waits for a busy writer ({@link SendQueue#sendTick}): a send in progress keeps the
 * peer informed anyway. While the connection's reads wait for the receive budget
 * ({@link FrameReader#paused()}), the peer's silence is our doing, so it is not held against
 * the peer; ticks keep going out, so the peer does not see us silent either. Takes no lock
 * of its own.
 */
public final class Ticker implements Runnable {
  private final Liveness liveness;
  private final FrameReader reader;
  private final SendQueue sendQueue;
  private final String peerName;
  private final long tickTimeMillis;

  public Ticker(Liveness liveness, FrameReader reader, SendQueue sendQueue, String peerName, long tickTimeMillis) {
    this.liveness = liveness;
    this.reader = reader;
    this.sendQueue = sendQueue;
    this.peerName = peerName;
    this.tickTimeMillis = tickTimeMillis;
  }

  /** How often {@link #run} should be called, in milliseconds. */
  public long intervalMillis() {
    return Math.max(10, tickTimeMillis / 4);
  }

  @Override
  public void run() {
    if (liveness.failure() != null) {
      return;
    }
    long now = System.nanoTime();
    // paused() first: a pause that ends after it has stamped lastReadNanos() by then.
    if (!reader.paused()) {
      long silentMillis = (now - reader.lastReadNanos()) / 1_000_000L;
      if (silentMillis >= tickTimeMillis) {
        liveness.fail(new EiConnectionLostException("net_tick_timeout: " + peerName + " sent nothing for " + silentMillis + " ms (tick time " + tickTimeMillis + " ms)"));
        return;
      }
    }
    if ((now - sendQueue.lastWriteNanos()) / 1_000_000L >= tickTimeMillis / 4 - tickTimeMillis / 40) {
      sendQueue.sendTick();
    }
  }
}
