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
import java.net.SocketAddress;

/**
 * A listening socket of an {@link EiNode}, from {@link EiNode#listen}: accepts
 * connections from Erlang nodes (or C and Java nodes) and runs the handshake as the
 * acceptor. Thread-safe; {@link #close()} makes a blocked {@link #accept} fail.
 */
public final class EiListener implements AutoCloseable {
  private final EiNode node;
  private final SocketIo<?> io;
  private final SocketAddress address;

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
   * connection whose handshake fails is closed; the listener keeps listening.
   *
   * @throws ErrnoException {@link Errno#ETIMEDOUT} when nobody connected, or the
   *     handshake did not finish, in time
   * @throws EiAuthenticationException when the peer's cookie differs
   * @throws EiHandshakeException when the peer breaks the protocol
   */
  public EiConnection accept(long timeoutMillis) throws IOException {
    return accept0(io, timeoutMillis);
  }

  private <C> EiConnection accept0(SocketIo<C> listenIo, long timeoutMillis) throws IOException {
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
    SocketIo<C> conn = new SocketIo<>(cb, a.context(), poller);
    try {
      Handshake.Result r = new Handshake(conn, node.nodeName(), node.distributionFlags(), node.creation(), node.cookieBytes(),
          Deadline.after(timeoutMillis)).accept(node.handler() == null ? null : node.handler()::acceptStatus);
      cb.acceptHandshakeComplete(a.context());
      return node.register(new EiConnection(node, conn, r));
    } catch (IOException | RuntimeException e) {
      conn.close();
      throw e;
    }
  }

  private static long sliceOf(Deadline d) {
    long left = d.remainingMillis();
    return left == SocketCallbacks.INFINITE ? 500 : Math.min(left, 500);
  }

  /** Stops listening. Established connections stay open. Idempotent. */
  @Override
  public void close() {
    io.close();
    node.forget(this);
  }

  @Override
  public String toString() {
    return "EiListener[" + node.nodeName() + " on " + address + (io.isClosed() ? ", closed" : "") + "]";
  }
}
