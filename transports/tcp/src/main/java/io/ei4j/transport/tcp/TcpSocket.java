package io.ei4j.transport.tcp;

import io.ei4j.api.ByteBuffers;
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
import java.util.Arrays;

/**
 * The context of one socket of {@link TcpTransport}: before {@code listen} or
 * {@code connect} it is empty; afterwards it holds a non-blocking
 * {@link ServerSocketChannel} or {@link SocketChannel}, and does the socket's reads and
 * writes for the transport.
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
  private boolean readDrained;
  /**
   * Set by {@link #wakeupRead()}: the next wait for {@code OP_READ} (or the one under way)
   * returns false, as if its timeout had run out; cleared by that wait.
   */
  private volatile boolean readWakeup;
  /**
   * One direct buffer, the native memory that {@link #writev} copies small heap
   * buffers into, made on the first call. Touched by the writing thread only (writes never
   * run concurrently).
   */
  private ByteBuffer[] writeStaging;

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

  /** Whether {@link TcpTransport#close} has been called on this socket. */
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

  // ---------------------------------------------------------------- I/O

  long writev(ByteBuffer[] buffers, long timeoutMillis) throws IOException {
    SocketChannel ch = connected("writev");
    try {
      ByteBuffer[] out = stage(buffers);
      while (true) {
        long n = out.length == 1 ? ch.write(out[0]) : ch.write(out);
        if (n > 0) {
          ByteBuffers.advance(buffers, n);
          return n;
        }
        if (!ByteBuffers.hasRemaining(out)) {
          return 0;
        }
        if (!await(SelectionKey.OP_WRITE, timeoutMillis)) {
          throw new ErrnoException(Errno.ETIMEDOUT, "writev: the peer took nothing within " + timeoutMillis + " ms");
        }
      }
    } catch (IOException | RuntimeException e) {
      throw JdkErrnos.translate(e, "writev");
    }
  }

  /** The size of each socket's staging area for small heap buffers; see {@link TcpTransport#writev}. */
  static final int STAGING_BYTES = 64 << 10;

  /**
   * The buffers to write in place of {@code buffers}, with the same bytes in the same order
   * and without touching {@code buffers}' positions: runs of heap buffers that fit copied
   * into slices of the socket's staging area, the others as duplicates.
   */
  private ByteBuffer[] stage(ByteBuffer[] buffers) {
    ByteBuffer[] stagedOnly = writeStaging;
    if (stagedOnly == null) {
      stagedOnly = new ByteBuffer[] {ByteBuffer.allocateDirect(STAGING_BYTES)};
      writeStaging = stagedOnly;
    }
    ByteBuffer staging = stagedOnly[0].clear();
    ByteBuffer[] out = null;
    int count = 0;
    int staged = 0;
    int runStart = 0;
    for (ByteBuffer b : buffers) {
      int rem = b.remaining();
      if (rem == 0) {
        continue;
      }
      if (!b.isDirect() && rem <= STAGING_BYTES - staged) {
        staging.put(staged, b, b.position(), rem);
        staged += rem;
        continue;
      }
      if (out == null) {
        out = new ByteBuffer[2 * buffers.length];
      }
      if (staged > runStart) {
        out[count++] = staging.slice(runStart, staged - runStart);
        runStart = staged;
      }
      out[count++] = b.duplicate();
    }
    if (out == null) {
      // everything (or nothing) was staged: the common case of a frame or a batch of frames
      staging.limit(staged);
      return stagedOnly;
    }
    if (staged > runStart) {
      out[count++] = staging.slice(runStart, staged - runStart);
    }
    return count == out.length ? out : Arrays.copyOf(out, count);
  }

  int write(ByteBuffer buffer, long timeoutMillis) throws IOException {
    SocketChannel ch = connected("write");
    try {
      while (true) {
        int n = ch.write(buffer);
        if (n > 0 || !buffer.hasRemaining()) {
          return n;
        }
        if (!await(SelectionKey.OP_WRITE, timeoutMillis)) {
          throw new ErrnoException(Errno.ETIMEDOUT, "write: the peer took nothing within " + timeoutMillis + " ms");
        }
      }
    } catch (IOException | RuntimeException e) {
      throw JdkErrnos.translate(e, "write");
    }
  }

  int read(ByteBuffer buffer, long timeoutMillis) throws IOException {
    SocketChannel ch = connected("read");
    if (!buffer.hasRemaining()) {
      throw new ErrnoException(Errno.EINVAL, "read: the buffer has no room");
    }
    try {
      // After a read that emptied the socket, wait for data first: a read now would most
      // likely find nothing and cost a system call for it (when data is already there,
      // the wait returns at once).
      if (readDrained && timeoutMillis != 0 && !await(SelectionKey.OP_READ, timeoutMillis)) {
        throw new ErrnoException(Errno.ETIMEDOUT, "read: nothing arrived within " + timeoutMillis + " ms");
      }
      while (true) {
        int n = ch.read(buffer);
        if (n != 0) {
          readDrained = n > 0 && buffer.hasRemaining();
          return n;
        }
        if (!await(SelectionKey.OP_READ, timeoutMillis)) {
          throw new ErrnoException(Errno.ETIMEDOUT, "read: nothing arrived within " + timeoutMillis + " ms");
        }
      }
    } catch (IOException | RuntimeException e) {
      throw JdkErrnos.translate(e, "read");
    }
  }
}
