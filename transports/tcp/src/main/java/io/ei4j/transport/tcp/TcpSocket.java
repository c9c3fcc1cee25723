package io.ei4j.transport.tcp;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.JdkErrnos;
import io.ei4j.api.SocketCallbacks;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * The context of one socket of {@link TcpCallbacks}: before {@code listen} or
 * {@code connect} it is empty; afterwards it holds a non-blocking
 * {@link ServerSocketChannel} or {@link SocketChannel}.
 *
 * <p>Timeouts are implemented with one {@link Selector} per direction (read or accept;
 * write or connect), so that a reader and a writer on different threads never share a
 * selector. Selectors are created on first need: a call that can proceed at once never
 * creates one. {@link #close()} wakes up any thread blocked in a selector, which then
 * fails with {@link Errno#EBADF}.
 */
public final class TcpSocket {
  private final Object lock = new Object();
  private volatile SelectableChannel channel;
  private volatile boolean closed;
  private Selector readSelector;
  private Selector writeSelector;
  private int fd = -1;
  /**
   * Whether the last read left room in its buffer, so the socket was most likely emptied:
   * the next read then waits for readiness first instead of making a read that would only
   * find nothing. Touched by the reading thread only (reads never run concurrently, and a
   * transport user that moves reading between threads hands over with a happens-before).
   */
  boolean readDrained;
  /**
   * Set by {@link #wakeupRead()}: the next wait for {@code OP_READ} (or the one under way)
   * returns false, as if its timeout had run out; cleared by that wait.
   */
  private volatile boolean readWakeup;
  /**
   * One direct buffer, the native memory that {@link TcpCallbacks#writev} copies small heap
   * buffers into, made on the first call. Touched by the writing thread only (writes never
   * run concurrently).
   */
  ByteBuffer[] writeStaging;

  TcpSocket() {}

  TcpSocket(SocketChannel accepted) {
    this.channel = accepted;
  }

  /** The local address, or null before listen or connect. */
  public SocketAddress localAddress() {
    SelectableChannel ch = channel;
    try {
      return ch instanceof NetworkChannel n ? n.getLocalAddress() : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** The peer's address for a connected socket, else null. */
  public SocketAddress remoteAddress() {
    try {
      return channel instanceof SocketChannel s ? s.getRemoteAddress() : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** Whether {@link TcpCallbacks#close} has been called on this socket. */
  public boolean isClosed() {
    return closed;
  }

  @Override
  public String toString() {
    SelectableChannel ch = channel;
    return "TcpSocket[" + (closed ? "closed" : ch == null ? "unbound" : ch instanceof ServerSocketChannel ? "listening " + localAddress() : localAddress() + " -> " + remoteAddress()) + "]";
  }

  void attach(SelectableChannel ch) throws IOException {
    synchronized (lock) {
      if (closed) {
        ch.close();
        throw new ErrnoException(Errno.EBADF, "socket is closed");
      }
      if (channel != null) {
        ch.close();
        throw new ErrnoException(Errno.EISCONN, "socket is already listening or connected");
      }
      channel = ch;
    }
  }

  SocketChannel connected(String op) throws ErrnoException {
    SelectableChannel ch = channel;
    if (closed) {
      throw new ErrnoException(Errno.EBADF, op + ": socket is closed");
    }
    if (ch instanceof SocketChannel s) {
      return s;
    }
    throw new ErrnoException(Errno.ENOTCONN, op + ": socket is not connected");
  }

  ServerSocketChannel listening(String op) throws ErrnoException {
    SelectableChannel ch = channel;
    if (closed) {
      throw new ErrnoException(Errno.EBADF, op + ": socket is closed");
    }
    if (ch instanceof ServerSocketChannel s) {
      return s;
    }
    throw new ErrnoException(Errno.EINVAL, op + ": socket is not listening");
  }

  /**
   * Waits until the channel is ready for {@code op} or the timeout runs out. A thread whose
   * interrupt status is set gets {@link Errno#EINTR} (the status stays set) instead of
   * spinning, since a selector does not block for it.
   *
   * @return false when the timeout ran out
   */
  boolean await(int op, long timeoutMillis) throws IOException {
    if (timeoutMillis == 0) {
      return false;
    }
    boolean reading = op == SelectionKey.OP_READ;
    Selector sel = selector(op);
    long deadline = timeoutMillis == SocketCallbacks.INFINITE ? Long.MAX_VALUE : System.nanoTime() + timeoutMillis * 1_000_000L;
    try {
      while (true) {
        if (closed) {
          throw new ErrnoException(Errno.EBADF, "socket closed while waiting");
        }
        if (reading && readWakeup) {
          readWakeup = false;
          return false;
        }
        long wait;
        if (deadline == Long.MAX_VALUE) {
          wait = 0; // Selector.select(0) blocks until ready or woken up
        } else {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          wait = Math.max(1, (left + 999_999) / 1_000_000);
        }
        int n = sel.select(wait);
        sel.selectedKeys().clear();
        if (closed) {
          throw new ErrnoException(Errno.EBADF, "socket closed while waiting");
        }
        if (n > 0) {
          return true;
        }
        if (Thread.currentThread().isInterrupted()) {
          // A selector returns at once while the thread's interrupt status is set.
          throw new ErrnoException(Errno.EINTR, "interrupted while waiting");
        }
      }
    } catch (ClosedSelectorException e) {
      throw new ErrnoException(Errno.EBADF, "socket closed while waiting", e);
    }
  }

  /**
   * Makes the wait for {@code OP_READ} under way on another thread, or else the next one,
   * return false at once. A wakeup that nobody consumes only makes a later wait return
   * early once, which the read callers treat as a timeout and retry.
   */
  void wakeupRead() {
    readWakeup = true;
    Selector sel;
    synchronized (lock) {
      sel = readSelector;
    }
    if (sel != null) {
      sel.wakeup(); // a select under way returns at once, or else the next one does
    }
  }

  private Selector selector(int op) throws IOException {
    boolean reading = op == SelectionKey.OP_READ || op == SelectionKey.OP_ACCEPT;
    synchronized (lock) {
      if (closed) {
        throw new ErrnoException(Errno.EBADF, "socket is closed");
      }
      Selector sel = reading ? readSelector : writeSelector;
      if (sel == null) {
        sel = Selector.open();
        try {
          channel.register(sel, op);
        } catch (IOException | RuntimeException e) {
          sel.close();
          throw e;
        }
        if (reading) {
          readSelector = sel;
        } else {
          writeSelector = sel;
        }
      } else {
        SelectionKey key = channel.keyFor(sel);
        if (key != null && key.interestOps() != op) {
          key.interestOps(op); // OP_CONNECT then OP_WRITE on the same selector
        }
      }
      return sel;
    }
  }

  int fd() throws IOException {
    synchronized (lock) {
      if (closed) {
        throw new ErrnoException(Errno.EBADF, "fd: socket is closed");
      }
      if (fd >= 0) {
        return fd;
      }
      SelectableChannel ch = channel;
      if (ch == null) {
        throw new ErrnoException(Errno.ENOTCONN, "fd: socket is neither listening nor connected; the JDK creates its descriptor then");
      }
      InetSocketAddress local = (InetSocketAddress) ((NetworkChannel) ch).getLocalAddress();
      InetSocketAddress remote = ch instanceof SocketChannel s ? (InetSocketAddress) s.getRemoteAddress() : null;
      if (local == null || (ch instanceof SocketChannel && remote == null)) {
        throw new ErrnoException(Errno.ENOTCONN, "fd: socket is not yet bound or connected");
      }
      fd = ProcFd.find(local, remote);
      return fd;
    }
  }

  void close() throws IOException {
    Selector r;
    Selector w;
    SelectableChannel ch;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      r = readSelector;
      w = writeSelector;
      ch = channel;
    }
    IOException failure = null;
    for (AutoCloseable c : new AutoCloseable[] {ch, r, w}) {
      if (c == null) {
        continue;
      }
      try {
        c.close(); // closing a selector wakes up a thread blocked in it
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      } catch (Exception e) {
        failure = failure == null ? new IOException(e) : failure;
      }
    }
    if (failure != null) {
      throw JdkErrnos.translate(failure, "close");
    }
  }
}
