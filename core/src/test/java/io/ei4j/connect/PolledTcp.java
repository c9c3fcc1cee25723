package io.ei4j.connect;

import io.ei4j.api.Accepted;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.FdPoller;
import io.ei4j.api.SocketCallbacks;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP transport WITHOUT {@code FULL_IMPL}, and the {@link FdPoller} that goes with it,
 * for testing how core enforces timeouts itself.
 *
 * <p>Its callbacks ignore their timeouts, as the contract requires of such transports:
 * {@code read}, {@code write} and {@code accept} block until they can make progress, and
 * {@code connect} does not block at all but reports {@link Errno#EINPROGRESS}, as
 * {@code connect(2)} on a non-blocking socket. The JDK cannot poll a raw descriptor, so
 * {@link #fd} hands out an identifier per socket that only this class's poller
 * understands; core just passes it through, which is all this test needs.
 */
final class PolledTcp implements SocketCallbacks<PolledTcp.Ctx>, FdPoller {
  static final class Ctx {
    final int id;
    volatile SelectableChannel ch;
    final Map<Integer, Selector> selectors = new ConcurrentHashMap<>();
    volatile boolean closed;

    Ctx(int id) {
      this.id = id;
    }

    /** A selector per purpose (0/1: the callbacks' own read/write waits; 2/3: the poller's). */
    synchronized Selector selector(int purpose, int ops) throws IOException {
      if (closed) {
        throw new ErrnoException(Errno.EBADF, "closed");
      }
      Selector s = selectors.get(purpose);
      if (s == null) {
        s = Selector.open();
        ch.register(s, ops);
        selectors.put(purpose, s);
      } else {
        s.keys().iterator().next().interestOps(ops);
      }
      return s;
    }
  }

  private final AtomicInteger ids = new AtomicInteger(100_000);
  private final Map<Integer, Ctx> byId = new ConcurrentHashMap<>();

  @Override
  public int flags() {
    return 0;
  }

  @Override
  public Ctx socket(Object setupContext) {
    Ctx c = new Ctx(ids.incrementAndGet());
    byId.put(c.id, c);
    return c;
  }

  @Override
  public void close(Ctx ctx) throws IOException {
    synchronized (ctx) {
      ctx.closed = true;
    }
    byId.remove(ctx.id);
    if (ctx.ch != null) {
      ctx.ch.close();
    }
    for (Selector s : ctx.selectors.values()) {
      s.close();
    }
  }

  @Override
  public SocketAddress listen(Ctx ctx, SocketAddress address, int backlog) throws IOException {
    ServerSocketChannel s = ServerSocketChannel.open();
    s.configureBlocking(false);
    s.bind(address, backlog);
    ctx.ch = s;
    return s.getLocalAddress();
  }

  @Override
  public Accepted<Ctx> accept(Ctx listenCtx, long timeoutMillis) throws IOException {
    ServerSocketChannel s = (ServerSocketChannel) listenCtx.ch;
    while (true) {
      SocketChannel c = s.accept();
      if (c != null) {
        c.configureBlocking(false);
        Ctx ctx = socket(null);
        ctx.ch = c;
        return new Accepted<>(ctx, c.getRemoteAddress());
      }
      block(listenCtx, 0, SelectionKey.OP_ACCEPT);
    }
  }

  @Override
  public void connect(Ctx ctx, SocketAddress address, long timeoutMillis) throws IOException {
    try {
      if (ctx.ch == null) {
        SocketChannel c = SocketChannel.open();
        c.configureBlocking(false);
        ctx.ch = c;
        if (c.connect(address)) {
          return;
        }
        throw new ErrnoException(Errno.EINPROGRESS, "connecting to " + address);
      }
      SocketChannel c = (SocketChannel) ctx.ch;
      if (c.isConnected()) {
        throw new ErrnoException(Errno.EISCONN, "already connected");
      }
      if (!c.finishConnect()) {
        throw new ErrnoException(Errno.EALREADY, "still connecting to " + address);
      }
    } catch (ErrnoException e) {
      throw e;
    } catch (IOException e) {
      String m = String.valueOf(e.getMessage());
      throw new ErrnoException(m.contains("refused") ? Errno.ECONNREFUSED : Errno.EIO, m, e);
    }
  }

  @Override
  public int write(Ctx ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    SocketChannel c = (SocketChannel) ctx.ch;
    while (true) {
      int n = c.write(buffer);
      if (n > 0 || !buffer.hasRemaining()) {
        return n;
      }
      block(ctx, 1, SelectionKey.OP_WRITE);
    }
  }

  @Override
  public int read(Ctx ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    SocketChannel c = (SocketChannel) ctx.ch;
    while (true) {
      int n;
      try {
        n = c.read(buffer);
      } catch (ClosedChannelException e) {
        throw new ErrnoException(Errno.EBADF, "closed", e);
      }
      if (n != 0) {
        return n;
      }
      block(ctx, 0, SelectionKey.OP_READ);
    }
  }

  private static void block(Ctx ctx, int purpose, int op) throws IOException {
    try {
      Selector s = ctx.selector(purpose, op);
      s.select(1000);
      s.selectedKeys().clear();
      if (ctx.closed) {
        throw new ErrnoException(Errno.EBADF, "closed while blocked");
      }
    } catch (ClosedSelectorException e) {
      throw new ErrnoException(Errno.EBADF, "closed while blocked", e);
    }
  }

  @Override
  public int handshakePacketHeaderSize(Ctx ctx) {
    return 2;
  }

  @Override
  public int fd(Ctx ctx) throws IOException {
    if (ctx.closed) {
      throw new ErrnoException(Errno.EBADF, "closed");
    }
    return ctx.id;
  }

  // ---- the poller ----

  @Override
  public int poll(int fd, int events, long timeoutMillis) throws IOException {
    Ctx ctx = byId.get(fd);
    if (ctx == null || ctx.ch == null) {
      throw new ErrnoException(Errno.EBADF, "no socket " + fd);
    }
    int ops;
    if (ctx.ch instanceof ServerSocketChannel) {
      ops = SelectionKey.OP_ACCEPT;
    } else if ((events & WRITE) != 0 && ((SocketChannel) ctx.ch).isConnectionPending()) {
      ops = SelectionKey.OP_CONNECT;
    } else {
      ops = ((events & READ) != 0 ? SelectionKey.OP_READ : 0) | ((events & WRITE) != 0 ? SelectionKey.OP_WRITE : 0);
    }
    try {
      Selector s = ctx.selector((events & WRITE) != 0 ? 3 : 2, ops);
      int n = timeoutMillis == 0 ? s.selectNow() : timeoutMillis == INFINITE ? s.select() : s.select(timeoutMillis);
      if (n == 0) {
        return 0;
      }
      int ready = 0;
      for (SelectionKey k : s.selectedKeys()) {
        if ((k.readyOps() & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT)) != 0) {
          ready |= READ;
        }
        if ((k.readyOps() & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0) {
          ready |= WRITE;
        }
      }
      s.selectedKeys().clear();
      return ready;
    } catch (ClosedSelectorException | java.nio.channels.CancelledKeyException e) {
      throw new ErrnoException(Errno.EBADF, "socket " + fd + " closed while polling", e);
    }
  }
}
