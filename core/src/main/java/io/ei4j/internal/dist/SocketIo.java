package io.ei4j.internal.dist;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.FdPoller;
import io.ei4j.api.SocketCallbacks;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;

/**
 * One socket of a {@link SocketCallbacks} transport, with the loops ei's
 * {@code ei_portio.c} has: whole reads and writes over short ones, deadlines, and, for
 * transports without {@link SocketCallbacks#FLAG_FULL_IMPL}, a readiness wait on the
 * descriptor before each call, as ei waits with {@code select()}.
 *
 * <p>Any {@link IOException} from a callback that is not an {@link ErrnoException} is
 * wrapped as {@link Errno#EIO}. Reads and writes may run concurrently on two threads;
 * two reads (or two writes) may not.
 *
 * @param <C> the transport's context type
 */
public final class SocketIo<C> {
  /** The write of no bytes that {@link #flushTransport} hands to the transport. */
  private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);
  /** {@link #NOTHING} for a gathering write; nothing can change an empty buffer, so it is shared. */
  private static final ByteBuffer[] NOTHINGS = {NOTHING};

  private final SocketCallbacks<C> callbacks;
  private final C ctx;
  private final FdPoller poller;
  private volatile boolean closed;
  /** Set by {@link #wakeupRead()}, consumed by the next {@linkplain #readSome(ByteBuffer, Deadline, String, boolean) wakeable read}. */
  private volatile boolean readWoken;

  /**
   * @param poller null for {@code FULL_IMPL} transports, else the poller that enforces
   *     the timeouts
   */
  public SocketIo(SocketCallbacks<C> callbacks, C ctx, FdPoller poller) {
    this.callbacks = callbacks;
    this.ctx = ctx;
    this.poller = poller;
  }

  public SocketCallbacks<C> callbacks() {
    return callbacks;
  }

  public C context() {
    return ctx;
  }

  /** The transport's handshake header size, checked to be 2 or 4. */
  public int handshakeHeaderSize() throws IOException {
    int size = callbacks.handshakePacketHeaderSize(ctx);
    if (size != 2 && size != 4) {
      throw new ErrnoException(Errno.EINVAL, callbacks.getClass().getName() + " reported a handshake header size of " + size + "; only 2 and 4 exist");
    }
    return size;
  }

  /**
   * Fills the remaining space of {@code buf}, or fails: {@link EOFException} when the peer
   * closes first, {@link Errno#ETIMEDOUT} when the deadline passes.
   */
  public void readFully(ByteBuffer buf, Deadline deadline, String what) throws IOException {
    while (buf.hasRemaining()) {
      int n = readSome(buf, deadline, what);
      if (n < 0) {
        throw new EOFException("the peer closed the connection while " + what + " (" + buf.position() + " of " + buf.limit() + " bytes read)");
      }
    }
  }

  /**
   * One read of what is available, waiting until the deadline for at least one byte. A
   * thread that is interrupted (before the read, or while a transport that reports
   * {@link Errno#EINTR} waits) gets an {@link InterruptedIOException} and keeps its
   * interrupt status; nothing has been read then.
   *
   * @return bytes read, at least 1, or -1 at end of stream
   */
  public int readSome(ByteBuffer buf, Deadline deadline, String what) throws IOException {
    return readSome(buf, deadline, what, false);
  }

  /**
   * {@link #readSome(ByteBuffer, Deadline, String)}; when {@code wakeable}, a
   * {@link #wakeupRead()} (made before or during the wait) ends the wait early with
   * {@link Errno#ETIMEDOUT}, nothing read.
   */
  public int readSome(ByteBuffer buf, Deadline deadline, String what, boolean wakeable) throws IOException {
    while (true) {
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedIOException(what + ": interrupted");
      }
      long tmo = awaitReady(FdPoller.READ, deadline, what);
      int n;
      try {
        n = callbacks.read(ctx, buf, tmo);
      } catch (ErrnoException e) {
        if (e.errno() == Errno.EAGAIN || e.errno() == Errno.EINTR) {
          continue;
        }
        if (e.errno() == Errno.ETIMEDOUT && !deadline.expired() && poller == null) {
          if (wakeable && readWoken) {
            readWoken = false;
            throw new ErrnoException(Errno.ETIMEDOUT, what + ": woken up");
          }
          continue; // the transport woke early; try again until our deadline
        }
        throw e;
      } catch (IOException e) {
        throw wrap(e, what);
      }
      if (n == 0) {
        if (deadline.expired()) {
          throw deadline.timeout(what);
        }
        continue;
      }
      return n;
    }
  }

  /**
   * Writes every remaining byte of {@code bufs}: as gathering writes when the transport has
   * {@code writev}, else buffer by buffer with {@code write}, as ei falls back to two writes.
   */
  public void writeFully(ByteBuffer[] bufs, Deadline deadline, String what) throws IOException {
    boolean gather = callbacks.hasWritev();
    int first = 0;
    while (true) {
      while (first < bufs.length && !bufs[first].hasRemaining()) {
        first++;
      }
      if (first == bufs.length) {
        return;
      }
      long tmo = awaitReady(FdPoller.WRITE, deadline, what);
      long n;
      try {
        n = gather ? callbacks.writev(ctx, bufs, tmo) : callbacks.write(ctx, bufs[first], tmo);
      } catch (ErrnoException e) {
        if (e.errno() == Errno.EAGAIN || e.errno() == Errno.EINTR) {
          continue;
        }
        throw e;
      } catch (IOException e) {
        throw wrap(e, what);
      }
      if (n <= 0 && deadline.expired()) {
        throw deadline.timeout(what);
      }
    }
  }

  /** Writes every remaining byte of {@code buf}. */
  public void writeFully(ByteBuffer buf, Deadline deadline, String what) throws IOException {
    writeFully(new ByteBuffer[] {buf}, deadline, what);
  }

  /**
   * Writes as much of {@code bufs} as the socket takes without waiting: calls with a zero
   * timeout ("try once") while they make progress, and stops at the first that takes
   * nothing. Advances the buffers by what was written.
   *
   * @return whether every remaining byte was written
   * @throws IOException any failure other than "nothing could be written now"
   */
  public boolean writeNow(ByteBuffer[] bufs, String what) throws IOException {
    boolean gather = callbacks.hasWritev();
    int first = 0;
    while (true) {
      while (first < bufs.length && !bufs[first].hasRemaining()) {
        first++;
      }
      if (first == bufs.length) {
        return true;
      }
      if (closed) {
        throw new ErrnoException(Errno.EBADF, what + ": the connection is closed");
      }
      if (poller != null && poller.poll(callbacks.fd(ctx), FdPoller.WRITE, 0) == 0) {
        return false;
      }
      long n;
      try {
        n = gather ? callbacks.writev(ctx, bufs, 0) : callbacks.write(ctx, bufs[first], 0);
      } catch (ErrnoException e) {
        if (e.errno() == Errno.EINTR) {
          continue;
        }
        if (e.errno() == Errno.EAGAIN || e.isTimeout()) {
          return false;
        }
        throw e;
      } catch (IOException e) {
        throw wrap(e, what);
      }
      if (n <= 0) {
        return false;
      }
    }
  }

  /**
   * Pushes out bytes that the transport itself still holds from earlier writes that it
   * reported as written: a TLS transport encrypts what it is given and keeps the records
   * the socket did not take when a write's timeout ran out. Asks the transport with a
   * write of no bytes, which such a transport answers by sending what it holds, within
   * {@code deadline} (a zero timeout tries once). Transports that hold nothing return at
   * once; transports without {@link SocketCallbacks#FLAG_FULL_IMPL} hold nothing by
   * definition (their descriptor shows all state) and are not asked.
   *
   * @return whether the transport holds nothing more; false only when the deadline ran
   *     out first
   */
  public boolean flushTransport(Deadline deadline, String what) throws IOException {
    if (poller != null) {
      return true;
    }
    while (true) {
      if (closed) {
        throw new ErrnoException(Errno.EBADF, what + ": the connection is closed");
      }
      long tmo = deadline.remainingMillis();
      try {
        if (callbacks.hasWritev()) {
          callbacks.writev(ctx, NOTHINGS, tmo);
        } else {
          callbacks.write(ctx, NOTHING, tmo);
        }
        return true;
      } catch (ErrnoException e) {
        if (e.errno() == Errno.EINTR || e.errno() == Errno.EAGAIN && !deadline.expired()) {
          continue;
        }
        if (e.errno() == Errno.EAGAIN || e.isTimeout()) {
          if (deadline.timeoutMillis() == 0) {
            return false;
          }
          throw deadline.timeout(what);
        }
        throw e;
      } catch (IOException e) {
        throw wrap(e, what);
      }
    }
  }

  /**
   * For {@code FULL_IMPL} transports returns the time left to hand to the callback. For
   * the others waits for readiness first, as ei's {@code select()}, and returns the time
   * left (which such callbacks ignore).
   */
  private long awaitReady(int events, Deadline deadline, String what) throws IOException {
    if (closed) {
      throw new ErrnoException(Errno.EBADF, what + ": the connection is closed");
    }
    if (poller == null) {
      long left = deadline.remainingMillis();
      if (left == 0 && !deadline.isInfinite() && deadline.timeoutMillis() != 0) {
        throw deadline.timeout(what);
      }
      return left;
    }
    int fd = callbacks.fd(ctx);
    while (true) {
      long left = deadline.remainingMillis();
      // Poll in slices so that a close() from another thread is noticed: closing a
      // descriptor does not wake up poll(2) on Linux.
      long slice = left == SocketCallbacks.INFINITE ? 500 : Math.min(left, 500);
      int ready = poller.poll(fd, events, slice);
      if (ready != 0) {
        return left;
      }
      if (closed) {
        throw new ErrnoException(Errno.EBADF, what + ": the connection is closed");
      }
      if (deadline.expired() || left == 0) {
        throw deadline.timeout(what);
      }
    }
  }

  /**
   * Whether {@link #wakeupRead()} works: a {@code FULL_IMPL} transport that implements
   * {@link SocketCallbacks#wakeupRead}.
   */
  public boolean canWakeupReads() {
    return poller == null && callbacks.hasReadWakeup();
  }

  /**
   * Makes a wakeable read waiting on another thread (or else the next one that waits) end
   * with {@link Errno#ETIMEDOUT}; a read that is not wakeable goes on waiting. Only when
   * {@link #canWakeupReads()}. Never blocks.
   */
  public void wakeupRead() {
    readWoken = true;
    callbacks.wakeupRead(ctx);
  }

  /** Marks this socket closed and closes it through the callbacks; idempotent. */
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      callbacks.close(ctx);
    } catch (IOException | RuntimeException ignored) {
      // Nothing more can be done with a socket that fails to close.
    }
  }

  public boolean isClosed() {
    return closed;
  }

  /** Any I/O failure as an {@link ErrnoException}, {@link Errno#EIO} when it had none. */
  public static ErrnoException wrap(IOException e, String what) {
    if (e instanceof ErrnoException ee) {
      return ee;
    }
    return new ErrnoException(Errno.EIO, what + ": " + e.getMessage(), e);
  }
}
