package io.ei4j.internal.dist;

import io.ei4j.connect.EiConnectionLostException;

/**
 * A connection's ticks, run by the node's scheduler every sixteenth of the tick time: sends
 * an empty frame when nothing was written for a quarter tick time, and takes the connection
 * down when nothing was read for the whole tick time, as Erlang's {@code net_ticktime}
 * does. It never waits for a busy writer ({@link SendQueue#sendTick}): a send in progress
 * keeps the peer informed anyway. While the connection's reads wait for the receive budget
 * ({@link FrameReader#paused()}), the peer's silence is our doing, so it is not held against
 * the peer; ticks keep going out, so the peer does not see us silent either.
 *
 * <p>While paused, a tick goes out at every run, not once a quarter tick time. Erlang looks
 * at a connection every quarter tick time, and when it read nothing from a hidden node (as
 * we are) since its last look, it sends that node a tick of its own. While we do not read,
 * its distribution port is busy, and that tick's send blocks the connection's process until
 * we read again; Erlang's later looks queue up behind it and then run back to back, with
 * nothing read in between, and four in a row declare us down. Ticks every sixteenth of the
 * tick time reach it in every quarter even when the scheduler runs late, so it never sends
 * one. Takes no lock of its own.
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

  /** How often {@link #run} should be called, in milliseconds: a sixteenth of the tick time. */
  public long intervalMillis() {
    return Math.max(10, tickTimeMillis / 16);
  }

  @Override
  public void run() {
    if (liveness.failure() != null) {
      return;
    }
    long now = System.nanoTime();
    // paused() first: a pause that ends after it has stamped lastReadNanos() by then.
    boolean paused = reader.paused();
    if (!paused) {
      long silentMillis = (now - reader.lastReadNanos()) / 1_000_000L;
      if (silentMillis >= tickTimeMillis) {
        liveness.fail(new EiConnectionLostException("net_tick_timeout: " + peerName + " sent nothing for " + silentMillis + " ms (tick time " + tickTimeMillis + " ms)"));
        return;
      }
    }
    long quiet = paused ? tickTimeMillis / 32 : tickTimeMillis / 4 - tickTimeMillis / 40;
    if ((now - sendQueue.lastWriteNanos()) / 1_000_000L >= quiet) {
      sendQueue.sendTick();
    }
  }
}
