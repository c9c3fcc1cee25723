package io.ei4j.node;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiConnectionLostException;
import io.ei4j.connect.EiHandshakeException;
import io.ei4j.connect.HandshakeStatus;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection table: at most one live connection per peer, made on first use; the
 * handshakes under way ({@code pending}), which settle simultaneous connects as Erlang
 * does; the answers the acceptor gives a peer that connects; and, when a connection goes
 * down, the hand-off of the {@code noconnection} fan-out and {@link NodeListener}s' events
 * to the {@code ei4j-signals} thread. See {@code CONCURRENCY.md}, "Connections".
 */
final class Connections {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);
  /** The first pause before connecting again after a {@code nok}; see {@link #attempt}. */
  static final long RETRY_FIRST_MILLIS = 100;
  /** The longest pause before connecting again after a {@code nok}. */
  static final long RETRY_MAX_MILLIS = 1_000;

  /**
   * A connection being made to a peer: by this node ({@code own}) or by the peer, whose
   * handshake the accepting thread is running. Callers that want the peer meanwhile wait
   * for it instead of starting a second connection. {@code yielded} marks an own attempt
   * that gave way: this node answered the peer's attempt {@code ok_simultaneous}.
   */
  private record Pending(boolean own, CompletableFuture<EiConnection> future, AtomicBoolean yielded) {
    Pending(boolean own) {
      this(own, new CompletableFuture<>(), new AtomicBoolean());
    }
  }

  /** The peer-started handshake that a handshake thread registered in {@code pending}. */
  private record Accepting(String peer, Pending pending) {}

  private final Node node;
  private final String nodeName;
  private final Transports transports;
  private final Signals signals;
  private final long connectTimeoutMillis;
  private final Map<String, EiConnection> connections = new ConcurrentHashMap<>();
  private final Map<String, Pending> pending = new ConcurrentHashMap<>();
  private final List<NodeListener> nodeListeners = new CopyOnWriteArrayList<>();
  /** Runs the noconnection fan-out, so the ticker or a reader never does it. */
  private final ExecutorService signalThread;
  /**
   * The peer-started handshake that the current handshake thread registered in
   * {@code pending}, so that a failure can withdraw it. Handshakes run on many threads at
   * once; each sees only its own.
   */
  private final ThreadLocal<Accepting> accepting = new ThreadLocal<>();

  Connections(Node node, Transports transports, Signals signals, long connectTimeoutMillis) {
    this.node = node;
    this.nodeName = node.nodeName();
    this.transports = transports;
    this.signals = signals;
    this.connectTimeoutMillis = connectTimeoutMillis;
    this.signalThread = Executors.newSingleThreadExecutor(node.daemon("ei4j-signals-" + nodeName));
  }

  void addListener(NodeListener l) {
    nodeListeners.add(Objects.requireNonNull(l, "l"));
  }

  void removeListener(NodeListener l) {
    nodeListeners.remove(l);
  }

  /** The connection to {@code peer} in the table, live or not; null when there is none. */
  EiConnection get(String peer) {
    return connections.get(peer);
  }

  Set<String> connectedNodes() {
    Set<String> s = ConcurrentHashMap.newKeySet();
    connections.forEach((k, c) -> {
      if (c.isOpen()) {
        s.add(k);
      }
    });
    return s;
  }

  EiConnection connection(String peer) throws IOException {
    return connection(peer, connectTimeoutMillis, null);
  }

  /**
   * The live connection to {@code peer}, made now if there is none, over {@code transport}
   * when not null, else the one the selector picks. Concurrent callers for the same peer
   * share one attempt, and wait for a handshake the peer started if one is under way; an
   * attempt refused with {@code nok} (the peer's own simultaneous connection wins) waits
   * for the peer's connection to be accepted. When an accepted handshake that a caller
   * waited for fails, the caller tries once by itself.
   */
  EiConnection connection(String peer, long timeoutMillis, String transport) throws IOException {
    for (boolean retried = false; ; retried = true) {
      EiConnection c = connections.get(peer);
      if (c != null && c.isOpen()) {
        return c;
      }
      node.ensureOpen();
      if (peer.equals(nodeName)) {
        throw new IllegalArgumentException("a node does not connect to itself: " + peer);
      }
      Pending mine = new Pending(true);
      Pending other = pending.putIfAbsent(peer, mine);
      if (other != null) {
        try {
          return await(other, peer, timeoutMillis);
        } catch (IOException e) {
          if (other.own() || retried) {
            throw e;
          }
          continue;
        }
      }
      // install() adds the connection before it clears pending: look again.
      c = connections.get(peer);
      if (c != null && c.isOpen()) {
        pending.remove(peer, mine);
        mine.future().complete(c);
        return c;
      }
      return attempt(peer, mine, timeoutMillis, transport);
    }
  }

  /**
   * Makes this node's own connection to {@code peer}, for which {@code mine} is pending.
   * When the peer refuses it with {@code nok}, or this node withdraws it ({@code alive},
   * answered false), the peer's connection is awaited. But {@code nok} also comes when the
   * peer has not yet finished setting up an earlier handshake of ours (a reconnect right
   * after a disconnect, on a busy peer), and the peer's own attempt may fail at its end
   * (this node may not even listen), so when no connection has arrived within a pause,
   * this node tries again, the pauses doubling from {@value #RETRY_FIRST_MILLIS} to
   * {@value #RETRY_MAX_MILLIS} ms, until {@code timeoutMillis} runs out.
   */
  private EiConnection attempt(String peer, Pending mine, long timeoutMillis, String transport) throws IOException {
    long deadline = timeoutMillis < 0 ? Long.MAX_VALUE : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    long pause = RETRY_FIRST_MILLIS;
    while (true) {
      Transports.Slot via = null;
      try {
        via = transports.choose(peer, transport);
        EiConnection nc = via.ei.connect(peer, remainingMillis(deadline, timeoutMillis));
        install(nc, true);
        mine.future().complete(nc);
        return nc;
      } catch (EiHandshakeException e) {
        if (via != null && Trace.on()) {
          Trace.refused(nodeName, via.name(), peer, e.statusText() != null ? e.statusText() : e.getMessage());
        }
        if (e.status() != HandshakeStatus.NOK && e.status() != HandshakeStatus.ALIVE) {
          pending.remove(peer, mine);
          mine.future().completeExceptionally(e);
          throw e;
        }
        // nok: the peer's simultaneous connection wins and should be accepted here (or the
        // peer is still setting up an earlier one of ours); alive (withdrawn): the peer's
        // connection was accepted while ours was under way.
        LOG.debug("simultaneous connect with {}: its connection wins ({})", peer, e.statusText());
        long left = remainingMillis(deadline, timeoutMillis);
        EiConnection theirs = awaitFor(mine, left < 0 ? pause : Math.min(pause, left));
        if (theirs != null) {
          return theirs;
        }
        if (left >= 0 && remainingMillis(deadline, timeoutMillis) == 0) {
          pending.remove(peer, mine);
          throw new ErrnoException(Errno.ETIMEDOUT, "no connection to " + peer + " within " + timeoutMillis + " ms");
        }
        LOG.debug("{}'s own connection did not arrive within {} ms: connecting again", peer, pause);
        pause = Math.min(2 * pause, RETRY_MAX_MILLIS);
      } catch (IOException | RuntimeException e) {
        if (via != null && Trace.on()) {
          Trace.refused(nodeName, via.name(), peer, e.toString());
        }
        pending.remove(peer, mine);
        mine.future().completeExceptionally(e);
        throw e;
      }
    }
  }

  /** Milliseconds left until {@code deadline}, at least 0; -1 (no limit) for a negative {@code timeoutMillis}. */
  private static long remainingMillis(long deadline, long timeoutMillis) {
    if (timeoutMillis < 0) {
      return -1;
    }
    return Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
  }

  /** The connection {@code p} completes with within {@code millis}, or null; pending stays as it is. */
  private static EiConnection awaitFor(Pending p, long millis) throws IOException {
    try {
      return p.future().get(millis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return null;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof IOException io ? new IOException(io.getMessage(), io)
          : new IOException("connecting failed: " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while connecting");
    }
  }

  private EiConnection await(Pending p, String peer, long timeoutMillis) throws IOException {
    CompletableFuture<EiConnection> f = p.future();
    try {
      return timeoutMillis < 0 ? f.get() : f.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      pending.remove(peer, p);
      throw new ErrnoException(Errno.ETIMEDOUT, "no connection to " + peer + " within " + timeoutMillis + " ms");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw new IOException(io.getMessage(), io);
      }
      throw new IOException("connecting to " + peer + " failed: " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while connecting to " + peer);
    }
  }

  /** Puts a connection whose handshake is done in the table, and wakes whoever waited for it. */
  void install(EiConnection c, boolean initiated) {
    String peer = c.peerNodeName();
    EiConnection old = connections.put(peer, c);
    if (old != null && old != c) {
      // A new connection from a restarted or reconnecting peer replaces the old one.
      connections.remove(peer, old);
      old.close();
      down(old, "replaced by a new connection");
      connections.put(peer, c);
    }
    if (Trace.on()) {
      // Traced once the connection is in the table: whoever reads "up" can find it.
      Trace.up(nodeName, transports.nameOf(c), peer, initiated, c.peerFlags(), c.peerCreation());
    }
    Pending p = pending.remove(peer);
    if (p != null) {
      p.future().complete(c);
    }
    if (!c.isOpen()) {
      // It died before it was installed, so onDown found nothing to remove: fire the
      // noconnection signals for what its first messages may have linked or monitored.
      if (connections.remove(peer, c) && !node.isClosed()) {
        signalThread.execute(() -> down(c, "the connection was lost while it was being set up"));
      }
      return;
    }
    for (NodeListener l : nodeListeners) {
      try {
        l.nodeUp(peer);
      } catch (RuntimeException e) {
        LOG.warn("node listener failed on nodeUp({})", peer, e);
      }
    }
  }

  /** A connection reported itself down: removed exactly once, the fan-out on the signal thread. */
  void lost(EiConnection c, EiConnectionLostException reason) {
    if (node.isClosed()) {
      return;
    }
    if (connections.remove(c.peerNodeName(), c)) {
      String why = reason.getMessage();
      signalThread.execute(() -> down(c, why));
    }
  }

  /** A connection went down: noconnection to links and monitors that involve its node. */
  private void down(EiConnection c, String why) {
    String peer = c.peerNodeName();
    signals.connectionLost(peer);
    for (NodeListener l : nodeListeners) {
      try {
        l.nodeDown(peer, why);
      } catch (RuntimeException e) {
        LOG.warn("node listener failed on nodeDown({})", peer, e);
      }
    }
  }

  /**
   * Whether a peer's connect that this node answered {@code alive} replaces the connection
   * in the table: only when this node has no live connection to the peer and has not
   * answered the peer's own attempt {@code ok_simultaneous}; otherwise this attempt lost a
   * simultaneous connect and the other connection stays (installed here or about to be).
   */
  boolean replaceExisting(String peer) {
    if (peer == null) {
      return true;
    }
    Pending p = pending.get(peer);
    if (p != null && p.own() && p.yielded().get()) {
      // This node answered the peer's own attempt ok_simultaneous: that connection wins,
      // even when it is not installed here yet while the peer already has it.
      return false;
    }
    EiConnection c = connections.get(peer);
    return c == null || !c.isOpen();
  }

  /** What the acceptor answers a peer that connects (runs on the handshake thread). */
  HandshakeStatus acceptStatus(String peer) {
    if (node.isClosed()) {
      return HandshakeStatus.NOT_ALLOWED;
    }
    Pending p = pending.get(peer);
    if (p == null) {
      EiConnection existing = connections.get(peer);
      if (existing != null && existing.isOpen()) {
        // The peer decides: a restarted peer or one that lost the connection replaces it;
        // an ei4j node whose own simultaneous attempt arrives late withdraws.
        return HandshakeStatus.ALIVE;
      }
      Pending mine = new Pending(false);
      p = pending.putIfAbsent(peer, mine);
      if (p == null) {
        // Senders on this node now wait for this handshake instead of connecting too.
        accepting.set(new Accepting(peer, mine));
        return HandshakeStatus.OK;
      }
    }
    if (p.own()) {
      if (peer.compareTo(nodeName) > 0) {
        // Our own attempt yields: if the peer answers it alive, it withdraws.
        p.yielded().set(true);
        return HandshakeStatus.OK_SIMULTANEOUS;
      }
      return HandshakeStatus.NOK;
    }
    // The peer is already connecting on another listener (or another process with its
    // name is): the handshake under way wins, as this node's own attempt would.
    return HandshakeStatus.NOK;
  }

  /**
   * The handshake on this thread failed: withdraws the entry it made in {@code pending},
   * failing whoever waited for it.
   *
   * @return the peer that the handshake named, or null when it failed before
   */
  String acceptFailed(Exception e) {
    Accepting a = accepting.get();
    if (a != null && pending.remove(a.peer(), a.pending())) {
      a.pending().future().completeExceptionally(new IOException("the connection " + a.peer() + " started failed: " + e.getMessage(), e));
    }
    return a == null ? null : a.peer();
  }

  /** The handshake on this thread is over; forget what it registered. */
  void acceptDone() {
    accepting.remove();
  }

  /** The node is closing: fail whoever waits for a connection, stop the signal thread. */
  void close() {
    for (Pending p : pending.values()) {
      p.future().completeExceptionally(new IOException("node " + nodeName + " closed"));
    }
    signalThread.shutdownNow();
  }

  /**
   * The node failed ({@link Node#fail}): every listener hears it, on the failing thread;
   * what a listener throws is logged (a RuntimeException) or ignored (an Error: the node is
   * failing already).
   */
  void nodeFailed(Throwable cause) {
    for (NodeListener l : nodeListeners) {
      try {
        l.nodeFailed(cause);
      } catch (RuntimeException e) {
        LOG.warn("node listener failed on nodeFailed", e);
      } catch (Error ignored) {
        // nothing more to stop
      }
    }
  }

  /** The EiNode of a transport failed: the whole node fails with it. */
  void transportFailed(Throwable cause) {
    node.fail(cause);
  }

  /** Stops the signal thread of a node that failed to start. */
  void shutdown() {
    signalThread.shutdownNow();
  }
}
