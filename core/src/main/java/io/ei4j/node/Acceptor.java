package io.ei4j.node;

import io.ei4j.api.ErrnoException;
import io.ei4j.connect.EiHandshakeException;
import io.ei4j.connect.EiListener;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts on every listening transport: one {@code ei4j-accept} thread per listener that
 * only accepts and hands each socket at once to an {@code ei4j-handshake} thread, at most
 * {@link Node.Builder#maxPendingHandshakes} for all listeners together; a socket accepted
 * beyond that is closed before a byte is read and counted. See {@code CONCURRENCY.md},
 * "Accepting".
 */
final class Acceptor {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);
  /** How long one accept of the accepting thread waits before it looks at {@code closed}. */
  private static final long ACCEPT_WAIT_MILLIS = 5_000;

  private final Node node;
  private final String nodeName;
  private final Connections connections;
  /** Runs the acceptor's side of every incoming handshake, off the accepting threads. */
  private final ExecutorService handshakes;
  /** One permit per handshake that may run at once ({@link Node.Builder#maxPendingHandshakes}). */
  private final Semaphore handshakePermits;
  private final int maxPendingHandshakes;
  private final long handshakeTimeoutMillis;
  private final AtomicLong refusedHandshakes = new AtomicLong();

  Acceptor(Node node, Connections connections, int maxPendingHandshakes, long handshakeTimeoutMillis) {
    this.node = node;
    this.nodeName = node.nodeName();
    this.connections = connections;
    this.maxPendingHandshakes = maxPendingHandshakes;
    this.handshakePermits = new Semaphore(maxPendingHandshakes);
    this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    // Threads are bounded by the permits (plus the few that are finishing a task); idle
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
   * beyond that is closed at once and counted in {@link #refusedHandshakes()}.
   */
  private void acceptLoop(Transports.Slot s) {
    while (!node.isClosed()) {
      EiListener.Incoming in;
      try {
        // The wait bounds how late the loop notices close() on a transport whose accept a
        // closed listener does not wake. It is not short: a transport that runs work of its
        // own inside accept (TLS runs its handshake there) gets what is left of it.
        in = s.listener.acceptSocket(ACCEPT_WAIT_MILLIS);
      } catch (IOException | RuntimeException e) {
        acceptFailed(e);
        continue;
      }
      if (!handshakePermits.tryAcquire()) {
        // Counted before the close: the peer that sees the close may ask at once.
        long n = refusedHandshakes.incrementAndGet();
        in.close();
        LOG.debug("{}: closed a connection from {} at once: {} handshakes are already under way (maxPendingHandshakes); {} refused so far",
            nodeName, in.peerAddress(), maxPendingHandshakes, n);
        continue;
      }
      try {
        handshakes.execute(() -> handshake(s, in));
      } catch (RejectedExecutionException e) {
        // Only after close(): the executor is shut down.
        handshakePermits.release();
        in.close();
      }
    }
  }

  /** Runs on a handshake thread: the acceptor's handshake, then the connection is installed. */
  private void handshake(Transports.Slot s, EiListener.Incoming in) {
    try {
      connections.install(in.handshake(handshakeTimeoutMillis), false);
    } catch (IOException | RuntimeException e) {
      String peer = connections.acceptFailed(e);
      if (Trace.on() && peer != null) {
        Trace.refused(nodeName, s.name(), peer, e instanceof EiHandshakeException he && he.status() != null ? he.status() : e.toString());
      }
      if (!node.isClosed()) {
        LOG.debug("handshake on {} with {} failed: {}", nodeName, peer != null ? peer : in.peerAddress(), e.toString());
      }
    } finally {
      connections.acceptDone();
      handshakePermits.release();
    }
  }

  /** See {@link Node#pendingHandshakes()}. */
  int pendingHandshakes() {
    return maxPendingHandshakes - handshakePermits.availablePermits();
  }

  /** See {@link Node#refusedHandshakes()}. */
  long refusedHandshakes() {
    return refusedHandshakes.get();
  }

  /** A failed accept: a timeout means nobody came; anything else is logged, and errors of the listener slow the loop down. */
  private void acceptFailed(Exception e) {
    if (node.isClosed()) {
      return;
    }
    if (e instanceof ErrnoException ee && ee.isTimeout()) {
      return;
    }
    LOG.debug("accept on {}: {}", nodeName, e.toString());
    if (e instanceof ErrnoException) {
      pause();
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
  }
}
