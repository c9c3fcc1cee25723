package io.ei4j.node;

import io.ei4j.api.ErrnoException;
import io.ei4j.connect.EiHandshakeException;
import io.ei4j.connect.EiAuthenticationException;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.HandshakeSlots;
import io.ei4j.connect.HandshakeStatus;
import io.ei4j.internal.node.AcceptFailures;
import io.ei4j.internal.node.RateLimitedLog;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts on every listening transport: one {@code ei4j-accept} thread per listener that
 * only accepts and hands each socket at once to an {@code ei4j-handshake} thread, at most
 * {@link Node.Builder#maxPendingHandshakes} for all listeners together ({@link HandshakeSlots}):
 * a socket accepted while all are taken evicts the pending handshake that has made the
 * least progress, so silent or dripping strangers never lock an honest peer out. See
 * {@code CONCURRENCY.md}, "Accepting".
 *
 * <p>What strangers cause (evictions, failed and timed-out handshakes) is logged at WARN
 * through {@link RateLimitedLog}s, per source address: the first of a minute in full, then
 * one summary line. A failed accept is logged at WARN, rate-limited in the same way when it
 * is the failure of one incoming connection.
 */
final class Acceptor {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);
  /** How long one accept of the accepting thread waits before it looks at {@code closed}. */
  private static final long ACCEPT_WAIT_MILLIS = 5_000;
  /**
   * How long a newcomer waits for the handshake it evicted to give back its slot: over
   * TCP microseconds; a polled transport notices a close within its 500 ms poll slice.
   */
  private static final long EVICT_WAIT_MILLIS = 1_000;
  /**
   * How many evicted sockets may stay open without a thread per handshake slot (see
   * {@link HandshakeSlots}): 1,024 with the default 64 slots, so that an attacker needs
   * more than 1,088 sockets open at once before evictions turn into reconnect churn.
   */
  private static final int PARKED_PER_SLOT = 16;

  private final Node node;
  private final String nodeName;
  private final Connections connections;
  /** Runs the acceptor's side of every incoming handshake, off the accepting threads. */
  private final ExecutorService handshakes;
  /** One slot per handshake that may run at once ({@link Node.Builder#maxPendingHandshakes}). */
  private final HandshakeSlots slots;
  private final int maxPendingHandshakes;
  private final long handshakeTimeoutMillis;
  private final AtomicLong refusedHandshakes = new AtomicLong();
  private final RateLimitedLog evictedLog = RateLimitedLog.perMinute(LOG, "evicted", "pending handshake");
  private final RateLimitedLog refusedLog = RateLimitedLog.perMinute(LOG, "refused", "connection");
  private final RateLimitedLog failedLog = RateLimitedLog.perMinute(LOG, "dropped", "failed handshake");
  private final RateLimitedLog failedAcceptLog = RateLimitedLog.perMinute(LOG, "dropped", "failed accept");
  private final RateLimitedLog timedOutLog = RateLimitedLog.perMinute(LOG, "closed", "silent connection");

  Acceptor(Node node, Connections connections, int maxPendingHandshakes, long handshakeTimeoutMillis) {
    this.node = node;
    this.nodeName = node.nodeName();
    this.connections = connections;
    this.maxPendingHandshakes = maxPendingHandshakes;
    this.slots = new HandshakeSlots(maxPendingHandshakes, PARKED_PER_SLOT * maxPendingHandshakes, handshakeTimeoutMillis);
    this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    // Threads are bounded by the slots (plus the few that are finishing a task); idle
    // ones go away after a while, so a quiet node holds none.
    this.handshakes = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 10, TimeUnit.SECONDS, new SynchronousQueue<>(),
        node.daemon("ei4j-handshake-" + nodeName));
  }

  /** Starts the accepting thread of every slot that listens. */
  void start(List<Transports.Slot> slots) {
    for (Transports.Slot s : slots) {
      if (s.listener != null) {
        String threadName = "ei4j-accept-" + nodeName + (slots.size() == 1 ? "" : "-" + s.name());
        s.acceptor = new Thread(node.guard(() -> acceptLoop(s)), threadName);
        s.acceptor.setDaemon(true);
        s.acceptor.start();
      }
    }
  }

  /**
   * Accepts sockets and hands each to a handshake thread at once, so that a peer that
   * connects and says nothing never delays the next one. At most
   * {@link Node.Builder#maxPendingHandshakes} handshakes run at a time; a socket accepted
   * beyond that takes the slot of the pending handshake that has made the least progress,
   * which is closed and counted in {@link #refusedHandshakes()}.
   */
  private void acceptLoop(Transports.Slot s) {
    while (!node.isClosed()) {
      flushLogs(false);
      slots.reap();
      EiListener.Incoming in;
      try {
        // The wait bounds how late the loop notices close() on a transport whose accept a
        // closed listener does not wake. It is not short: a transport that runs work of its
        // own inside accept (TLS runs its handshake there) gets what is left of it.
        in = s.listener.acceptSocket(ACCEPT_WAIT_MILLIS);
      } catch (IOException | RuntimeException e) {
        acceptFailed(s, e);
        continue;
      }
      if (!admit(in)) {
        continue;
      }
      try {
        handshakes.execute(() -> handshake(s, in));
      } catch (RejectedExecutionException e) {
        // Only after close(): the executor is shut down.
        slots.release(in);
        in.close();
      }
    }
  }

  /** Takes a slot for {@code in}, evicting the least advanced handshake when all are taken. */
  private boolean admit(EiListener.Incoming in) {
    HandshakeSlots.Admission a;
    try {
      a = slots.admit(in, EVICT_WAIT_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      in.close();
      return false;
    }
    if (a.evicted() != null) {
      // Counted before the log line: the evicted peer, seeing the close, may ask at once.
      long n = refusedHandshakes.incrementAndGet();
      EiListener.Incoming v = a.evicted();
      evictedLog.record(v.source(), String.format("%s %s the handshake from %s after %d ms with %d of its messages"
          + " to make room for one from %s: all %d slots were taken (maxPendingHandshakes); %d refused or evicted so far%s",
          nodeName, a.parked() ? "parked (socket kept open without a thread until handshakeTimeoutMillis)" : "closed",
          v.peerAddress(), (System.nanoTime() - v.acceptedNanos()) / 1_000_000, v.messagesReceived(), in.peerAddress(),
          maxPendingHandshakes, n, a.parkOverflow() == 0 ? "" : "; closed " + a.parkOverflow()
              + " parked sockets early: more than " + PARKED_PER_SLOT * maxPendingHandshakes + " were parked"));
    }
    if (!a.admitted()) {
      long n = refusedHandshakes.incrementAndGet();
      in.close();
      refusedLog.record(in.source(), String.format("%s closed the connection from %s at once: all %d handshake slots stayed taken"
          + " (maxPendingHandshakes); %d refused or evicted so far", nodeName, in.peerAddress(), maxPendingHandshakes, n));
      return false;
    }
    return true;
  }

  /** Runs on a handshake thread: the acceptor's handshake, then the connection is installed. */
  private void handshake(Transports.Slot s, EiListener.Incoming in) {
    try {
      connections.install(in.handshake(handshakeTimeoutMillis), false);
    } catch (IOException | RuntimeException e) {
      String peer = connections.acceptFailed(e);
      if (Trace.on() && peer != null) {
        Trace.refused(nodeName, s.name(), peer, e instanceof EiHandshakeException he && he.statusText() != null ? he.statusText() : e.toString());
      }
      if (!node.isClosed() && !in.isEvicted()) {
        handshakeFailed(in, peer, e);
      }
    } finally {
      connections.acceptDone();
      slots.release(in);
    }
  }

  /**
   * Logs a failed incoming handshake at WARN, rate-limited per source address: the peer
   * is not authenticated, so anybody can cause these at will. A status this node chose
   * ({@code nok} for a simultaneous connect, {@code alive} withdrawn) is the protocol at
   * work and logged at debug. The exceptions never hold the cookie.
   */
  private void handshakeFailed(EiListener.Incoming in, String peer, Exception e) {
    String who = (peer != null ? peer + " at " : "") + in.peerAddress();
    if (e instanceof EiHandshakeException he && (he.status() == HandshakeStatus.NOK || he.status() == HandshakeStatus.ALIVE)) {
      LOG.debug("{}: handshake with {} ended by the protocol: {}", nodeName, who, e.getMessage());
    } else if (e instanceof ErrnoException ee && ee.isTimeout()) {
      timedOutLog.record(in.source(), String.format("%s: no complete handshake from %s within %d ms (handshakeTimeoutMillis), %d messages received: %s",
          nodeName, who, handshakeTimeoutMillis, in.messagesReceived(), e.getMessage()));
    } else {
      String what = e instanceof EiAuthenticationException ? "authentication failed" : "handshake failed";
      failedLog.record(in.source(), String.format("%s: %s with %s: %s", nodeName, what, who, e.getMessage()));
    }
  }

  /** Writes the rate-limited logs' summaries: those whose window is over, or all. */
  private void flushLogs(boolean all) {
    for (RateLimitedLog l : new RateLimitedLog[] {evictedLog, refusedLog, failedLog, timedOutLog, failedAcceptLog}) {
      if (all) {
        l.flushAll();
      } else {
        l.flush();
      }
    }
  }

  /** See {@link Node#pendingHandshakes()}. */
  int pendingHandshakes() {
    return slots.inUse();
  }

  /** See {@link Node#refusedHandshakes()}. */
  long refusedHandshakes() {
    return refusedHandshakes.get();
  }

  /**
   * A failed accept: a timeout means nobody came; the failure of one incoming connection
   * (a TLS handshake) is logged rate-limited and the loop goes on at once; a shortage of
   * descriptors or memory is logged and slows the loop down ({@link AcceptFailures}).
   */
  private void acceptFailed(Transports.Slot s, Exception e) {
    if (node.isClosed()) {
      return;
    }
    if (e instanceof ErrnoException ee && ee.isTimeout()) {
      return;
    }
    if (AcceptFailures.shouldPause(e)) {
      LOG.warn("accept on {} failed: {}", nodeName, e.toString());
      pause();
    } else {
      failedAcceptLog.record("the " + s.name() + " listener", String.format("%s: accept failed: %s", nodeName, e.getMessage()));
    }
  }

  private static void pause() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the handshake threads (the node is closing, or failed to start). */
  void shutdown() {
    handshakes.shutdownNow();
    slots.closeParked();
    flushLogs(true);
  }
}
