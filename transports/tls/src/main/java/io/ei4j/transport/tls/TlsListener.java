package io.ei4j.transport.tls;

import io.ei4j.api.Accepted;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * The listening side of the {@link TlsTransport}: a non-blocking server channel, one
 * selector, and the accepted connections whose TLS handshakes are under way
 * ({@link TlsPendingHandshake}s, oldest first, at most {@link TlsConfig#maxPendingHandshakes()}).
 *
 * <p>Every pending handshake is driven without blocking through the one selector, so a
 * silent peer delays no other. When the cap is reached, a newcomer evicts the pending
 * handshake least likely to be an honest peer's, as the core's {@code HandshakeSlots} do
 * for the distribution handshake: one from the address that holds the most pending
 * handshakes, among those the one that has sent the fewest whole TLS records (an honest
 * client sends its ClientHello at once), among those the oldest. An evicted connection
 * that never sent a whole record is <em>parked</em>: its TLS state is dropped but its
 * channel stays open, unread, until its handshake deadline, at most
 * {@link #PARKED_PER_SLOT} per slot (beyond that the oldest parked one is closed). Closing
 * it at once would invite its owner to reconnect at once, and a storm of reconnects fills
 * the accept queue, where the kernel then drops an honest client's connection requests.
 * A parked connection that had sent nothing at all is watched: when its first bytes come
 * (an honest client that was merely slow to send its ClientHello, evicted by a storm of
 * newcomers), it is admitted again, as if just accepted, with its original deadline.
 * Evictions are logged at WARN, the first one and then a summary at most once a minute.
 * A listening {@link TlsSocket} delegates all its work here; {@link #accept} is serialized
 * by that socket's read lock.
 */
final class TlsListener {
  private static final System.Logger LOG = System.getLogger(TlsListener.class.getName());
  /** Evicted silent connections kept open per pending-handshake slot; see the class doc. */
  static final int PARKED_PER_SLOT = 16;
  /** How often evictions are summed up in the log. */
  private static final long EVICTION_LOG_NANOS = TimeUnit.SECONDS.toNanos(60);

  private final TlsConfig config;
  private final ServerSocketChannel server;
  private final Selector selector;
  private volatile boolean closed;

  /** Accepted connections in their TLS handshake, oldest first. Guarded by itself. */
  private final ArrayDeque<TlsPendingHandshake> pending = new ArrayDeque<>();
  /** Connections whose handshake completed, not yet returned by accept. */
  private final ConcurrentLinkedQueue<Accepted<TlsSocket>> completed = new ConcurrentLinkedQueue<>();
  /** Set when accept closed a pending handshake, until its selector let it go. */
  private boolean discarded;
  /** Evicted connections kept open until {@link Parked#closeAt}, parked first first. Guarded by {@code pending}. */
  private final ArrayDeque<Parked> parked = new ArrayDeque<>();
  /** Evictions since the last WARN line about them, and when that was. Accept thread only. */
  private long evictionsUnlogged;
  private long evictionsLoggedAt;
  private boolean evictionsLogged;

  /**
   * An evicted connection's channel, without TLS state, and when it is closed; for one that
   * had read nothing, the peer's address, kept to admit it again should it send its first
   * bytes (the channel's selection key then carries this record), else null.
   */
  private record Parked(SocketChannel channel, long closeAt, SocketAddress watchedRemote) {}

  private TlsListener(TlsConfig config, ServerSocketChannel server, Selector selector) {
    this.config = config;
    this.server = server;
    this.selector = selector;
  }

  /** Binds and listens on {@code address}; failures are mapped to their errno. */
  static TlsListener open(TlsConfig config, InetSocketAddress address, int backlog) throws IOException {
    ServerSocketChannel s = null;
    Selector sel = null;
    try {
      s = ServerSocketChannel.open();
      s.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      s.bind(address, backlog);
      s.configureBlocking(false);
      sel = Selector.open();
      s.register(sel, SelectionKey.OP_ACCEPT);
      return new TlsListener(config, s, sel);
    } catch (IOException e) {
      for (java.io.Closeable c : new java.io.Closeable[] {s, sel}) {
        if (c != null) {
          try {
            c.close();
          } catch (IOException ignored) {
            // the listen failure is what the caller needs to see
          }
        }
      }
      throw Errors.map(e, "listen on " + address);
    }
  }

  ServerSocketChannel channel() {
    return server;
  }

  SocketAddress localAddress() throws IOException {
    try {
      return server.getLocalAddress();
    } catch (IOException e) {
      throw Errors.map(e, "getsockname");
    }
  }

  /**
   * Returns the first accepted connection whose TLS handshake completes before
   * {@code deadline} (a {@link System#nanoTime} value, or {@link TlsSocket#NO_DEADLINE}).
   * Handshakes that do not complete during this call carry on in the next one, each until
   * its own deadline ({@link TlsConfig#handshakeTimeout()} from when it was accepted). A
   * handshake that fails or runs out is closed and logged at debug; when this call has no
   * completed connection to return, it fails with that handshake's error (the first one it
   * saw), as a blocking accept of that one connection would have.
   *
   * @param timeoutMillis the caller's timeout, 0 for a poll
   */
  Accepted<TlsSocket> accept(long timeoutMillis, long deadline) throws IOException {
    try {
      boolean polled = false;
      while (true) {
        Accepted<TlsSocket> done = completed.poll();
        if (done != null) {
          return done;
        }
        IOException failure = null;
        // at most a cap's worth per round, so that a flood of connections cannot keep this
        // loop from driving the handshakes already under way
        SocketChannel c;
        for (int n = 0; n < config.maxPendingHandshakes() && (c = server.accept()) != null; n++) {
          failure = first(failure, admit(c));
        }
        for (SelectionKey key : selector.selectedKeys()) {
          if (key.attachment() instanceof TlsPendingHandshake child) {
            failure = first(failure, drive(child));
          } else if (key.attachment() instanceof Parked p) {
            failure = first(failure, unpark(p, key));
          }
        }
        selector.selectedKeys().clear();
        failure = first(failure, expire());
        if (discarded) {
          // a closed channel's descriptor is released when the selector drops its key
          discarded = false;
          selector.selectNow();
        }
        done = completed.poll();
        if (done != null) {
          return done;
        }
        if (closed) {
          throw Errors.closed("accept");
        }
        if (failure != null) {
          throw failure;
        }
        if (timeoutMillis == 0) {
          // a poll: one more round for what is ready now, then nothing more to wait for
          selector.selectNow();
          if (polled || selector.selectedKeys().isEmpty()) {
            throw Errors.timeout("accept");
          }
          polled = true;
          continue;
        }
        long wake = Math.min(deadline, earliestHandshakeDeadline());
        if (wake == deadline && deadline != TlsSocket.NO_DEADLINE && deadline - System.nanoTime() <= 0) {
          throw Errors.timeout("accept");
        }
        if (!selector.selectedKeys().isEmpty()) {
          continue; // found by the selectNow above
        }
        if (wake == TlsSocket.NO_DEADLINE) {
          selector.select();
        } else {
          long remaining = wake - System.nanoTime();
          if (remaining > 0) {
            selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining + 999_999)));
          }
        }
        if (closed) {
          throw Errors.closed("accept");
        }
      }
    } catch (ClosedSelectorException e) {
      throw Errors.closed("accept");
    } catch (ErrnoException e) {
      throw e;
    } catch (IOException e) {
      throw Errors.map(e, "accept");
    }
  }

  private static IOException first(IOException seen, IOException next) {
    return seen != null ? seen : next;
  }

  /**
   * Takes a freshly accepted TCP connection into the pending handshakes (closing the oldest
   * one when the cap is reached) and starts its handshake. Returns its failure, if any.
   */
  private IOException admit(SocketChannel c) {
    long now = System.nanoTime();
    return admit(c, null, null, now, now + config.handshakeTimeout().toNanos());
  }

  /**
   * Admits a parked connection again: it had read nothing when it was evicted, and its first
   * bytes have come. It keeps its deadline and its selection key.
   */
  private IOException unpark(Parked p, SelectionKey key) {
    synchronized (pending) {
      if (!parked.remove(p)) {
        return null; // closed meanwhile, at its time or to make room
      }
    }
    return admit(p.channel(), key, p.watchedRemote(), System.nanoTime(), p.closeAt());
  }

  /**
   * Admits {@code c} with {@code deadline}, reusing its selection {@code key} when it has
   * one, as a pending handshake.
   */
  private IOException admit(SocketChannel c, SelectionKey key, SocketAddress knownRemote, long now, long deadline) {
    TlsPendingHandshake child;
    SocketAddress remote = knownRemote;
    try {
      if (remote == null) {
        remote = c.getRemoteAddress();
      }
      TlsSocket socket = TlsSocket.accepted(config, c, remote);
      child = new TlsPendingHandshake(socket, remote, now, deadline);
      if (key != null) {
        child.key = key;
        key.attach(child);
      }
    } catch (IOException | RuntimeException e) {
      try {
        c.close();
      } catch (IOException ignored) {
        // the accept failure is the error worth reporting
      }
      IOException failure = e instanceof IOException io ? Errors.map(io, "accept")
          : new ErrnoException(Errno.EIO, "accept: " + e);
      LOG.log(System.Logger.Level.DEBUG, "TLS listener: closed {0}: {1}", String.valueOf(remote),
          failure.getMessage());
      return failure;
    }
    TlsPendingHandshake evicted = null;
    synchronized (pending) {
      if (pending.size() >= config.maxPendingHandshakes()) {
        evicted = leastAdvanced();
        pending.remove(evicted);
      }
      pending.addLast(child);
    }
    if (evicted != null) {
      evict(evicted);
    }
    if (closed) {
      closePending(); // a close that ran meanwhile may have missed this one
      return null;
    }
    return drive(child);
  }

  /**
   * Advances one pending handshake as far as it goes without blocking: registers it for
   * the I/O it waits for, or moves it to {@link #completed}, or closes it and returns why.
   */
  private IOException drive(TlsPendingHandshake child) {
    if (child.socket.isClosed()) {
      return null; // evicted, or the listener is closing
    }
    try {
      int op = child.socket.stepHandshake();
      if (op != 0) {
        if (child.key == null) {
          child.key = child.socket.channel().register(selector, op, child);
        } else {
          child.key.interestOps(op);
        }
        return null;
      }
      if (!withdraw(child)) {
        return null; // evicted or closed meanwhile
      }
      child.socket.openSelectors();
      completed.add(new Accepted<>(child.socket, child.remote));
      return null;
    } catch (IOException | RuntimeException e) {
      discard(child);
      IOException failure = e instanceof IOException io ? Errors.map(io, "accept")
          : new ErrnoException(Errno.EIO, "TLS handshake with " + child.peerName() + " failed: " + e);
      LOG.log(System.Logger.Level.DEBUG, "TLS listener: closed {0}: {1}", child.peerName(), failure.getMessage());
      return failure;
    }
  }

  /**
   * The pending handshake a newcomer evicts: from the address with the most pending, then
   * the fewest TLS records received, then the oldest. Called with {@code pending} held.
   */
  private TlsPendingHandshake leastAdvanced() {
    Map<InetAddress, Integer> perSource = new HashMap<>();
    for (TlsPendingHandshake p : pending) {
      perSource.merge(p.source(), 1, Integer::sum);
    }
    TlsPendingHandshake victim = null;
    int victimSources = 0;
    int victimRecords = 0;
    for (TlsPendingHandshake p : pending) { // oldest first: ties keep the oldest
      int sources = perSource.get(p.source());
      int records = p.socket.handshakeRecordsIn();
      if (victim == null || sources > victimSources || (sources == victimSources && records < victimRecords)) {
        victim = p;
        victimSources = sources;
        victimRecords = records;
      }
    }
    return victim;
  }

  /** Withdraws an evicted handshake and parks or closes it, and logs the eviction. */
  private void evict(TlsPendingHandshake victim) {
    boolean silent = victim.socket.handshakeRecordsIn() == 0;
    if (!silent) {
      discard(victim);
      logEviction(victim, false);
      return;
    }
    boolean watched = victim.socket.readNothing();
    if (watched) {
      synchronized (pending) {
        pending.remove(victim);
      }
    } else {
      withdraw(victim);
    }
    SocketChannel channel = victim.socket.detachChannel();
    Parked park = new Parked(channel, victim.deadline, watched ? victim.remote : null);
    if (watched) {
      try {
        if (victim.key != null) {
          victim.key.interestOps(SelectionKey.OP_READ);
          victim.key.attach(park);
        } else {
          channel.register(selector, SelectionKey.OP_READ, park);
        }
      } catch (IOException | RuntimeException e) {
        closeQuietly(channel); // a channel that cannot be watched any more is of no use to anyone
        discarded = true;
        logEviction(victim, true);
        return;
      }
    } else {
      discarded = true; // its key goes at the next select
    }
    SocketChannel overflow = null;
    synchronized (pending) {
      parked.addLast(park);
      if (parked.size() > PARKED_PER_SLOT * config.maxPendingHandshakes()) {
        overflow = parked.pollFirst().channel();
      }
    }
    if (overflow != null) {
      closeQuietly(overflow);
      discarded = true;
    }
    logEviction(victim, true);
  }

  private void logEviction(TlsPendingHandshake victim, boolean silent) {
    long now = System.nanoTime();
    if (!evictionsLogged) {
      evictionsLogged = true;
      evictionsLoggedAt = now;
      LOG.log(System.Logger.Level.WARNING, "TLS listener on {0}: {1} TLS handshakes pending (maxPendingHandshakes), "
          + "evicted the least advanced, from {2} ({3}); further evictions are summed up once a minute",
          portName(), config.maxPendingHandshakes(), victim.peerName(),
          silent ? "no TLS record received, kept open until its handshake timeout" : "closed");
      return;
    }
    evictionsUnlogged++;
    if (now - evictionsLoggedAt >= EVICTION_LOG_NANOS) {
      LOG.log(System.Logger.Level.WARNING, "TLS listener on {0}: evicted {1} pending TLS handshakes in the last {2} s "
          + "(maxPendingHandshakes = {3})", portName(), evictionsUnlogged,
          TimeUnit.NANOSECONDS.toSeconds(now - evictionsLoggedAt), config.maxPendingHandshakes());
      evictionsUnlogged = 0;
      evictionsLoggedAt = now;
    }
  }

  private String portName() {
    try {
      return String.valueOf(server.getLocalAddress());
    } catch (IOException e) {
      return "a closed port";
    }
  }

  private static void closeQuietly(SocketChannel c) {
    try {
      c.close();
    } catch (IOException e) {
      // an evicted connection: nothing to report
    }
  }

  /** Removes a child from the pending handshakes and the selector; false if it was not there. */
  private boolean withdraw(TlsPendingHandshake child) {
    boolean was;
    synchronized (pending) {
      was = pending.remove(child);
    }
    if (child.key != null) {
      child.key.cancel();
    }
    return was;
  }

  /** Withdraws and closes a pending handshake; its descriptor goes at the next select. */
  private void discard(TlsPendingHandshake child) {
    withdraw(child);
    TlsSocket.closeQuietly(child.socket);
    discarded = true;
  }

  /**
   * Closes the handshakes whose deadline passed, and the parked connections whose time
   * came; returns the first handshake's timeout.
   */
  private IOException expire() {
    long now = System.nanoTime();
    List<TlsPendingHandshake> late = new ArrayList<>();
    List<SocketChannel> unparked = new ArrayList<>();
    synchronized (pending) {
      while (!parked.isEmpty() && now - parked.peekFirst().closeAt() >= 0) {
        unparked.add(parked.pollFirst().channel());
      }
      for (TlsPendingHandshake child : pending) {
        if (now - child.deadline >= 0) {
          late.add(child);
        }
      }
    }
    for (SocketChannel c : unparked) {
      closeQuietly(c);
      discarded = true;
    }
    IOException failure = null;
    for (TlsPendingHandshake child : late) {
      discard(child);
      IOException e = Errors.timeout("TLS handshake with " + child.peerName());
      LOG.log(System.Logger.Level.DEBUG, "TLS listener: closed {0}: {1}", child.peerName(), e.getMessage());
      failure = first(failure, e);
    }
    return failure;
  }

  /** The earliest deadline of a pending handshake or of the first parked connection. */
  private long earliestHandshakeDeadline() {
    synchronized (pending) {
      // not in accept order: a connection admitted again from the parked ones keeps its deadline
      long earliest = TlsSocket.NO_DEADLINE;
      for (TlsPendingHandshake p : pending) {
        if (earliest == TlsSocket.NO_DEADLINE || p.deadline - earliest < 0) {
          earliest = p.deadline;
        }
      }
      Parked first = parked.peekFirst();
      if (first != null && (earliest == TlsSocket.NO_DEADLINE || first.closeAt() - earliest < 0)) {
        earliest = first.closeAt();
      }
      return earliest;
    }
  }

  /** Closes every pending handshake and every completed one not yet returned. */
  private void closePending() {
    List<TlsSocket> all = new ArrayList<>();
    List<SocketChannel> unparked = new ArrayList<>();
    synchronized (pending) {
      for (TlsPendingHandshake p : pending) {
        all.add(p.socket);
      }
      pending.clear();
      for (Parked p : parked) {
        unparked.add(p.channel());
      }
      parked.clear();
    }
    for (SocketChannel c : unparked) {
      closeQuietly(c);
    }
    Accepted<TlsSocket> a;
    while ((a = completed.poll()) != null) {
      all.add(a.context());
    }
    for (TlsSocket child : all) {
      TlsSocket.closeQuietly(child);
    }
  }

  /**
   * Closes the server channel and the selector (waking an accept under way, which then
   * fails with {@link Errno#EBADF}) and every connection not yet returned by accept.
   * Idempotent. Returns the first failure to close, or null.
   */
  IOException close() {
    closed = true;
    IOException failure = null;
    for (java.io.Closeable c : new java.io.Closeable[] {server, selector}) {
      try {
        c.close();
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        }
      }
    }
    closePending();
    return failure;
  }
}
