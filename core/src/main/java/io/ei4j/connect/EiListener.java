package io.ei4j.connect;

import io.ei4j.api.Accepted;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.FdPoller;
import io.ei4j.api.SocketCallbacks;
import io.ei4j.internal.dist.Deadline;
import io.ei4j.internal.dist.Handshake;
import io.ei4j.internal.dist.SocketIo;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A listening socket of an {@link EiNode}, from {@link EiNode#listen}: accepts
 * connections from Erlang nodes (or C and Java nodes) and runs the handshake as the
 * acceptor. Thread-safe; {@link #close()} makes a blocked {@link #accept} fail.
 *
 * <p>Two ways to accept:
 *
 * <ul>
 *   <li>{@link #accept(long)} accepts a socket and runs its handshake on the calling thread,
 *       as {@code ei_accept_tmo} does. Simple, but a peer that connects and then stays silent
 *       holds that thread for the whole handshake timeout, and no other connection is
 *       accepted by it meanwhile.
 *   <li>{@link #acceptSocket(long)} only accepts the socket and returns an {@link Incoming}
 *       whose {@link Incoming#handshake(long)} the caller runs wherever it likes, typically
 *       on another thread, so that the accepting thread goes straight back to accepting. A
 *       server that does so should bound how many handshakes it runs at once (and close
 *       sockets beyond that bound at once), since each one costs a thread or a task until it
 *       finishes or times out. {@link HandshakeSlots} is such a bound that never locks an
 *       honest peer out: when every slot is taken it evicts the pending handshake that has
 *       made the least progress instead of refusing the newcomer; {@code io.ei4j.node.Node}
 *       and the samples' server use it.
 * </ul>
 */
public final class EiListener implements AutoCloseable {
  private final EiNode node;
  private final SocketIo<?> io;
  private final SocketAddress address;
  /** Sockets accepted whose handshake has not finished; {@link #close()} closes them. */
  private final Set<Incoming> incoming = ConcurrentHashMap.newKeySet();

  EiListener(EiNode node, SocketIo<?> io, SocketAddress address) {
    this.node = node;
    this.io = io;
    this.address = address;
  }

  /** The address actually bound, with the port the system chose for port 0. */
  public SocketAddress address() {
    return address;
  }

  /** The node this listener belongs to. */
  public EiNode node() {
    return node;
  }

  /**
   * Waits up to {@code timeoutMillis} for a connection, then runs the handshake as the
   * acceptor with the same timeout again, as ei applies its timeout to each step. A
   * connection whose handshake fails is closed; the listener keeps listening. Equivalent to
   * {@code acceptSocket(timeoutMillis).handshake(timeoutMillis)}.
   *
   * @throws ErrnoException {@link Errno#ETIMEDOUT} when nobody connected, or the
   *     handshake did not finish, in time
   * @throws EiAuthenticationException when the peer's cookie differs
   * @throws EiHandshakeException when the peer breaks the protocol
   */
  public EiConnection accept(long timeoutMillis) throws IOException {
    return acceptSocket(timeoutMillis).handshake(timeoutMillis);
  }

  /**
   * Waits up to {@code timeoutMillis} for a connection and returns it before any handshake
   * byte is read. The caller must either run {@link Incoming#handshake(long)} or
   * {@link Incoming#close()} it; closing this listener (or its node) closes it too.
   *
   * @throws ErrnoException {@link Errno#ETIMEDOUT} when nobody connected in time,
   *     {@link Errno#EBADF} when the listener is closed, or the transport's error
   */
  public Incoming acceptSocket(long timeoutMillis) throws IOException {
    return acceptSocket0(io, timeoutMillis);
  }

  private <C> Incoming acceptSocket0(SocketIo<C> listenIo, long timeoutMillis) throws IOException {
    SocketCallbacks<C> cb = listenIo.callbacks();
    Deadline acceptDeadline = Deadline.after(timeoutMillis);
    FdPoller poller = node.poller();
    if (poller != null) {
      int fd = cb.fd(listenIo.context());
      while (poller.poll(fd, FdPoller.READ, sliceOf(acceptDeadline)) == 0) {
        if (listenIo.isClosed()) {
          throw new ErrnoException(Errno.EBADF, "accept: the listener is closed");
        }
        if (acceptDeadline.expired() || acceptDeadline.timeoutMillis() == 0) {
          throw acceptDeadline.timeout("accept");
        }
      }
    }
    Accepted<C> a;
    try {
      a = cb.accept(listenIo.context(), acceptDeadline.remainingMillis());
    } catch (IOException e) {
      throw SocketIo.wrap(e, "accept");
    }
    Incoming in = new Incoming(new Socket<>(new SocketIo<>(cb, a.context(), poller)), a.peer());
    incoming.add(in);
    if (io.isClosed()) {
      // close() ran between the accept and the add: it did not see this one.
      in.close();
      throw new ErrnoException(Errno.EBADF, "accept: the listener is closed");
    }
    return in;
  }

  /** How many accepted sockets wait for, or are running, their handshake. */
  public int pendingHandshakes() {
    return incoming.size();
  }

  private static long sliceOf(Deadline d) {
    long left = d.remainingMillis();
    return left == SocketCallbacks.INFINITE ? 500 : Math.min(left, 500);
  }

  /**
   * Stops listening and closes every accepted socket whose handshake has not finished (a
   * handshake running on another thread then fails). Established connections stay open.
   * Idempotent.
   */
  @Override
  public void close() {
    io.close();
    for (Incoming in : incoming) {
      in.close();
    }
    node.forget(this);
  }

  @Override
  public String toString() {
    return "EiListener[" + node.nodeName() + " on " + address + (io.isClosed() ? ", closed" : "") + "]";
  }

  /** See {@link Incoming#source()}. */
  static String sourceOf(SocketAddress address) {
    if (address instanceof InetSocketAddress a) {
      return a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    }
    return address == null ? "an unknown address" : address.toString();
  }

  /** The accepted socket with its transport type captured, so that no cast is needed later. */
  private record Socket<C>(SocketIo<C> io) {
    Handshake.Result handshake(EiNode node, Deadline deadline, Runnable onMessage, Handshake.BeforeAck beforeAck) throws IOException {
      Handshake.Result r = new Handshake(io, node.nodeName(), node.distributionFlags(), node.creation(), node.cookieBytes(), deadline)
          .onMessage(onMessage).beforeAck(beforeAck).accept(node.handler() == null ? null : node.handler()::acceptStatus);
      io.callbacks().acceptHandshakeComplete(io.context());
      return r;
    }
  }

  /**
   * A connection accepted by {@link #acceptSocket(long)} whose handshake has not run yet.
   * Thread-safe: {@link #close()} may be called from any thread, also while
   * {@link #handshake(long)} runs, which then fails.
   */
  public final class Incoming implements AutoCloseable {
    private static final int OPEN = 0;
    private static final int DONE = 1;
    private static final int EVICTED = 2;
    private static final int PARKED = 3;

    private final Socket<?> socket;
    private final SocketAddress peerAddress;
    private final AtomicBoolean started = new AtomicBoolean();
    private final long acceptedNanos = System.nanoTime();
    /** OPEN, then DONE (the peer is authenticated, the ack about to go out) or EVICTED or PARKED, whichever comes first. */
    private final AtomicInteger state = new AtomicInteger(OPEN);
    private volatile int messagesReceived;
    private volatile long lastProgressNanos = acceptedNanos;

    private Incoming(Socket<?> socket, SocketAddress peerAddress) {
      this.socket = socket;
      this.peerAddress = peerAddress;
    }

    /** The peer's address as the transport reported it; null when it reports none. */
    public SocketAddress peerAddress() {
      return peerAddress;
    }

    /**
     * Whom this connection is counted against: the IP address without the port for an
     * internet address (so that one host's many connections add up), otherwise the
     * address as the transport reported it, or {@code "an unknown address"}.
     */
    public String source() {
      return sourceOf(peerAddress);
    }

    /**
     * How many whole handshake messages the peer has sent so far (0 until its name has
     * arrived in full): the progress {@link HandshakeSlots} ranks pending handshakes by.
     */
    public int messagesReceived() {
      return messagesReceived;
    }

    /** {@link System#nanoTime()} when this socket was accepted. */
    public long acceptedNanos() {
      return acceptedNanos;
    }

    /**
     * {@link System#nanoTime()} of the last whole handshake message received, or of the
     * accept when none has been.
     */
    public long lastProgressNanos() {
      return lastProgressNanos;
    }

    /** Whether {@link #evict()} closed this socket or {@link #park()} stopped its handshake. */
    public boolean isEvicted() {
      int st = state.get();
      return st == EVICTED || st == PARKED;
    }

    /**
     * Stops the handshake under way (or to come) on this socket, without closing the
     * socket, so that the thread running it is free again: the handshake fails with
     * {@link Errno#ETIMEDOUT} and never resumes; the socket stays open until
     * {@link #close()}. A peer that was only silent sees nothing happen, as it would on an
     * Erlang node until its handshake timer ran out, so it has no reason to reconnect.
     * Needs a transport that can wake a waiting read ({@code FULL_IMPL} with
     * {@code wakeupRead}, as TCP); otherwise, or once the handshake has succeeded, it does
     * nothing.
     *
     * @return whether it was parked by this call
     */
    public boolean park() {
      if (!socket.io().canWakeupReads() || !state.compareAndSet(OPEN, PARKED)) {
        return false;
      }
      socket.io().wakeupRead();
      return true;
    }

    /**
     * Closes this socket to make room for another, unless its handshake has already
     * succeeded (the connection is then left alone). The handshake under way fails with
     * {@link Errno#EBADF}.
     *
     * @return whether it was closed by this call
     */
    public boolean evict() {
      if (!state.compareAndSet(OPEN, EVICTED)) {
        return false;
      }
      close();
      return true;
    }

    /**
     * Before the acknowledgement goes out: from here on the handshake can no longer be
     * evicted or parked, and one that already was is given up with nothing more sent, so
     * that the peer is never told it is connected to a socket that is then dropped.
     */
    private void commit() throws ErrnoException {
      if (!state.compareAndSet(OPEN, DONE)) {
        throw new ErrnoException(Errno.EBADF, "handshake: the accepted socket was evicted or parked to make room for another");
      }
    }

    private void progressed() {
      messagesReceived++; // only the handshake's thread writes it
      lastProgressNanos = System.nanoTime();
    }

    /** The listener that accepted this socket. */
    public EiListener listener() {
      return EiListener.this;
    }

    /**
     * Runs the handshake as the acceptor, within {@code timeoutMillis}, and returns the
     * connection, registered with the node. On failure the socket is closed. May be called
     * once.
     *
     * @throws ErrnoException {@link Errno#ETIMEDOUT} when the handshake did not finish in
     *     time, {@link Errno#EBADF} when the socket was closed before or meanwhile
     * @throws EiAuthenticationException when the peer's cookie differs
     * @throws EiHandshakeException when the peer breaks the protocol
     * @throws IllegalStateException when called a second time
     */
    public EiConnection handshake(long timeoutMillis) throws IOException {
      Deadline deadline = Deadline.after(timeoutMillis);
      if (!started.compareAndSet(false, true)) {
        throw new IllegalStateException("the handshake of this connection has already been run");
      }
      try {
        if (socket.io().isClosed()) {
          throw new ErrnoException(Errno.EBADF, "handshake: the accepted socket was closed (listener closed)");
        }
        Handshake.Result r = socket.handshake(node, deadline, this::progressed, this::commit);
        EiConnection c = new EiConnection(node, socket.io(), r);
        incoming.remove(this);
        return node.register(c);
      } catch (IOException | RuntimeException e) {
        if (state.get() != PARKED) {
          close(); // a parked socket stays open until its owner closes it
        }
        throw e;
      }
    }

    /** Closes the socket without a handshake (or aborts one under way). Idempotent. */
    @Override
    public void close() {
      socket.io().close();
      incoming.remove(this);
    }

    @Override
    public String toString() {
      return "EiListener.Incoming[" + node.nodeName() + " from " + peerAddress + "]";
    }
  }
}
