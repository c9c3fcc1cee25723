package io.ei4j.transport.unix;

import com.sun.jna.Memory;
import io.ei4j.api.ByteBuffers;
import io.ei4j.api.ErrnoException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One AF_UNIX stream socket: the context {@link UnixTransport} hands to core for each
 * socket. Core treats it as opaque; applications may read its descriptor, its addresses
 * and its peer's credentials. It does the socket's reads and writes ({@code recv},
 * {@code send}, {@code sendmsg}) for the transport, which decides their timeouts.
 *
 * <h2>Closing while in use</h2>
 * The descriptor number must not be released while another thread is still inside a
 * native call on it, or that call could act on an unrelated descriptor that reuses the
 * number. Every operation therefore enters the socket ({@code enter}) and exits it
 * ({@code exit}) afterwards; {@code close} marks the socket closed, wakes
 * blocked callers with {@code shutdown(SHUT_RDWR)} (which makes {@code poll} report a
 * hang-up on connected and listening sockets alike) and leaves the actual
 * {@code close(2)} to whichever of itself or the last caller to exit comes last.
 *
 * <pre>
 *  state:  bit 30 = closed, bits 0..29 = callers inside
 *  enter:  CAS state -> state + 1, unless closed        (else EBADF)
 *  exit:   state - 1 == closed   -> release descriptor and memory
 *  close:  CAS state -> state | closed; was 0 -> release now, else shutdown to wake
 * </pre>
 *
 * <h2>Read wakeups</h2>
 * {@link UnixTransport#wakeupRead} sets a flag and rings a doorbell: an
 * {@code eventfd(2)} that a waiting read polls together with the socket. A read checks the
 * flag before each wait and, when it is set, clears it and times out instead of waiting; the
 * doorbell only makes a wait under way look at the flag again, so a ring left over from a
 * wakeup that a read already consumed costs one extra loop and nothing else. The eventfd is
 * made by the first read that waits (with {@code FLAG_FULL_IMPL}: without it core never asks
 * for wakeups), so listening sockets and sockets whose reads never wait do not have one;
 * once made, it lives exactly as long as the socket's descriptor:
 * {@code wakeupRead} rings it only from inside the socket (a non-throwing {@code enter}),
 * and the release closes both, so a ring never reaches a released, possibly reused number.
 * A wakeup made before the eventfd exists is not lost: the waker sets the flag before it
 * looks for the eventfd, the reader publishes the eventfd before it looks at the flag.
 */
public final class UnixSocket {
  private static final int CLOSED = 1 << 30;
  /** The most buffers one {@code writev} call hands to the kernel; the rest is a short write. */
  static final int MAX_IOV = 64;
  /**
   * How much of heap buffers one call copies through native memory: the size of each
   * socket's staging areas when they are allocated.
   */
  static final int STAGING_SIZE = 64 * 1024;
  /**
   * The most a socket's write staging area grows to, once, when a call has more heap bytes
   * to write than {@link #STAGING_SIZE}: it grows to the socket's send buffer size
   * ({@code SO_SNDBUF}, what the kernel can take at most in one call) within
   * {@code STAGING_SIZE} and this bound, so that large messages take a few system calls
   * instead of one per 64 KiB.
   */
  static final int MAX_STAGING_SIZE = 1024 * 1024;

  private final int fd;
  private final AtomicInteger state = new AtomicInteger();
  /** The read wakeup's eventfd, or -1 until the first read waits; see the class comment. */
  private final AtomicInteger wakeFd = new AtomicInteger(-1);
  /** Set by {@link #wakeupRead()}, cleared by the wait it ends (see the class comment). */
  private final AtomicBoolean readWakeup = new AtomicBoolean();

  /** The sendmsg header and its iovec array, used only by the writing thread. */
  final Memory writeControl;
  /** Staging memory for heap buffers on the read side; allocated on first use. */
  private Memory readStaging;
  /** Staging memory for heap buffers on the write side; allocated on first use, grown once. */
  private Memory writeStaging;
  private ByteBuffer readView;
  private ByteBuffer writeView;
  private boolean writeStagingGrown;

  private volatile UnixSocketAddress localAddress = UnixSocketAddress.unnamed();
  private volatile UnixSocketAddress peerAddress = UnixSocketAddress.unnamed();
  /** The socket file this socket created by listening on it, removed on close. */
  private volatile Path ownedFile;
  private volatile Object ownedFileKey;

  UnixSocket(int fd) {
    this.fd = fd;
    this.writeControl = new Memory(LibC.MSGHDR_SIZE + (long) LibC.IOVEC_SIZE * MAX_IOV);
  }

  /** The native descriptor; the same for the socket's whole life, even after close. */
  public int fd() {
    return fd;
  }

  /** The address this socket is bound to: the listening address, or unnamed. */
  public UnixSocketAddress localAddress() {
    return localAddress;
  }

  /**
   * The address of the other end: the address connected to, or unnamed for an accepted
   * connection (clients do not bind).
   */
  public UnixSocketAddress peerAddress() {
    return peerAddress;
  }

  /**
   * The credentials of the process at the other end, as the kernel recorded them when the
   * connection was made ({@code SO_PEERCRED}): the connecting process for an accepted
   * socket, the listening process for a connected one.
   *
   * @throws ErrnoException when the socket is not connected or already closed
   */
  public PeerCredentials peerCredentials() throws ErrnoException {
    enter("read peer credentials");
    try {
      return SocketOptions.peerCredentials(this);
    } finally {
      exit();
    }
  }

  /** Whether {@code close} has been called. */
  public boolean isClosed() {
    return (state.get() & CLOSED) != 0;
  }

  void localAddress(UnixSocketAddress address) {
    this.localAddress = address;
  }

  void peerAddress(UnixSocketAddress address) {
    this.peerAddress = address;
  }

  void ownFile(Path file, Object fileKey) {
    this.ownedFile = file;
    this.ownedFileKey = fileKey;
  }

  Path ownedFile() {
    return ownedFile;
  }

  Object ownedFileKey() {
    return ownedFileKey;
  }

  /**
   * Staging memory for the reading thread, {@link #STAGING_SIZE} bytes,
   * allocated on first use.
   */
  Memory readStaging() {
    Memory m = readStaging;
    if (m == null) {
      m = new Memory(STAGING_SIZE);
      readView = m.getByteBuffer(0, STAGING_SIZE);
      readStaging = m;
    }
    return m;
  }

  /** A buffer over {@link #readStaging()}, for absolute bulk copies without garbage. */
  ByteBuffer readView() {
    readStaging();
    return readView;
  }

  /**
   * Staging memory for the writing thread, allocated on first use with
   * {@link #STAGING_SIZE} bytes. The first time a call has more heap bytes
   * to write than that, it is replaced, once, by one as large as the socket's send buffer
   * ({@code SO_SNDBUF}, the most the kernel takes in one call; the area never shrinks below
   * {@code STAGING_SIZE} nor grows beyond {@link #MAX_STAGING_SIZE}), so
   * that only sockets that send large messages pay for a large area, and copies into it are
   * not much larger than what the kernel can take. The returned memory stays valid until
   * the next call of this method.
   *
   * @param wanted how many bytes the caller would like to stage
   */
  Memory writeStaging(long wanted) {
    Memory m = writeStaging;
    if (m == null || (wanted > m.size() && !writeStagingGrown)) {
      int size = STAGING_SIZE;
      if (wanted > size) {
        writeStagingGrown = true;
        size = Math.max(size, Math.min(MAX_STAGING_SIZE, LibC.sendBufferSize(fd)));
      }
      if (m != null && size == m.size()) {
        return m;
      }
      Memory grown = new Memory(size);
      writeView = grown.getByteBuffer(0, size);
      writeStaging = grown;
      if (m != null) {
        m.close();
      }
      m = grown;
    }
    return m;
  }

  /** A buffer over the memory the last {@link #writeStaging(long)} returned. */
  ByteBuffer writeView() {
    return writeView;
  }

  /**
   * Registers a caller inside the socket.
   *
   * @throws ErrnoException {@code EBADF} once the socket is closed
   */
  void enter(String operation) throws ErrnoException {
    if (!tryEnter()) {
      throw Errors.closed(operation);
    }
  }

  /** Like {@link #enter} but reports a closed socket by returning false. */
  private boolean tryEnter() {
    for (;;) {
      int s = state.get();
      if ((s & CLOSED) != 0) {
        return false;
      }
      if (state.compareAndSet(s, s + 1)) {
        return true;
      }
    }
  }

  /** The read wakeup's eventfd number as made, or -1 before the first read waited (tests). */
  int madeWakeFd() {
    return wakeFd.get();
  }

  /**
   * The read wakeup's eventfd, made on first use. Only for a caller inside the socket.
   *
   * @throws ErrnoException when no eventfd can be made ({@code EMFILE}, say)
   */
  int wakeFd() throws ErrnoException {
    int efd = wakeFd.get();
    if (efd >= 0) {
      return efd;
    }
    efd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
    if (efd < 0) {
      throw Errors.of(LibC.errno(), "eventfd for read wakeups of " + this);
    }
    if (!wakeFd.compareAndSet(-1, efd)) {
      LibC.close(efd); // another reader made one first (reads are not meant to overlap)
      return wakeFd.get();
    }
    return efd;
  }

  /** Whether a wakeup is pending, clearing it: true means the caller must not wait. */
  boolean consumeReadWakeup() {
    return readWakeup.get() && readWakeup.getAndSet(false);
  }

  /**
   * Makes the read waiting on another thread, or else the next read that waits, time out;
   * see the class comment. Never blocks and never fails: on a closed socket it does
   * nothing that anybody could notice.
   */
  void wakeupRead() {
    readWakeup.set(true);
    if (!tryEnter()) {
      return;
    }
    try {
      int efd = wakeFd.get();
      if (efd >= 0) {
        // Non-blocking: fails only with EAGAIN when the counter is full, which leaves the
        // eventfd readable, so the ring is there anyway.
        LibC.eventfdWrite(efd, 1);
      }
    } finally {
      exit();
    }
  }

  /** Unregisters a caller; the last one out after a close releases the descriptor. */
  void exit() {
    if (state.decrementAndGet() == CLOSED) {
      release();
    }
  }

  /** What {@link #markClosed} returns when the socket was closed before. */
  static final int ALREADY_CLOSED = -1;

  /**
   * Marks the socket closed and releases the descriptor now, or wakes the callers still
   * inside so that the last of them releases it.
   *
   * @return {@link #ALREADY_CLOSED}; else the {@code errno} of {@code close(2)} when it ran
   *     now and failed, or 0
   */
  int markClosed() {
    for (;;) {
      int s = state.get();
      if ((s & CLOSED) != 0) {
        return ALREADY_CLOSED;
      }
      if (state.compareAndSet(s, s | CLOSED)) {
        if (s == 0) {
          return release();
        }
        LibC.shutdown(fd, LibC.SHUT_RDWR);
        return 0;
      }
    }
  }

  private int release() {
    int rc = LibC.close(fd);
    int err = rc == 0 ? 0 : LibC.errno();
    int efd = wakeFd.get();
    if (efd >= 0) {
      LibC.close(efd);
    }
    writeControl.close();
    Memory m = readStaging;
    if (m != null) {
      m.close();
    }
    m = writeStaging;
    if (m != null) {
      m.close();
    }
    // On Linux close(2) releases the descriptor even when it reports EINTR: never retry.
    return err == LibC.EINTR ? 0 : err;
  }

  // ---------------------------------------------------------------- I/O

  /**
   * One {@code sendmsg(2)} of up to {@value #MAX_IOV} buffers; heap buffers are copied
   * through native memory, up to {@value #STAGING_SIZE} bytes per call, or up to the
   * socket's send buffer size (at most {@value #MAX_STAGING_SIZE}) once the socket has had a
   * call with more heap bytes than that (see {@link UnixSocket}). A peer that has gone is
   * {@link Errno#EPIPE} (never a {@code SIGPIPE}).
   */
  long writev(ByteBuffer[] buffers, long timeout) throws IOException {
    long start = System.nanoTime();
    enter("writev");
    try {
      Memory control = writeControl;
      long msg = LibC.address(control);
      long iov = msg + LibC.MSGHDR_SIZE;
      int count = 0;
      int staged = 0;
      Memory staging = null;
      int capacity = 0;
      for (ByteBuffer b : buffers) {
        int remaining = b.remaining();
        if (remaining == 0) {
          continue;
        }
        if (count == MAX_IOV) {
          break;
        }
        long address;
        long length;
        if (b.isDirect()) {
          address = addressOf(b);
          length = remaining;
        } else {
          if (staging == null) {
            staging = writeStaging(heapBytes(buffers));
            capacity = (int) staging.size();
          }
          if (staged == capacity) {
            break;
          }
          int n = Math.min(remaining, capacity - staged);
          writeView().put(staged, b, b.position(), n);
          address = LibC.address(staging) + staged;
          length = n;
          staged += n;
        }
        long slot = LibC.MSGHDR_SIZE + (long) count * LibC.IOVEC_SIZE;
        control.setLong(slot, address);
        control.setLong(slot + 8, length);
        count++;
        if (length < remaining) {
          break;
        }
      }
      if (count == 0) {
        return 0;
      }
      control.setMemory(0, LibC.MSGHDR_SIZE, (byte) 0);
      control.setLong(LibC.MSGHDR_IOV, iov);
      control.setLong(LibC.MSGHDR_IOVLEN, count);
      for (;;) {
        long n = LibC.sendmsg(fd(), msg, LibC.MSG_NOSIGNAL);
        if (n >= 0) {
          ByteBuffers.advance(buffers, n);
          return n;
        }
        int err = LibC.errno();
        if (err == LibC.EINTR) {
          continue;
        }
        if (isClosed()) {
          throw Errors.closed("writev");
        }
        if (err == LibC.EAGAIN) {
          PollWaits.await(this, LibC.POLLOUT, timeout, start, "writev");
          continue;
        }
        throw Errors.of(err, "write to " + peerAddress());
      }
    } finally {
      exit();
    }
  }

  int write(ByteBuffer buffer, long timeout) throws IOException {
    int remaining = buffer.remaining();
    if (remaining == 0) {
      return 0;
    }
    long start = System.nanoTime();
    enter("write");
    try {
      long address;
      int length;
      if (buffer.isDirect()) {
        address = addressOf(buffer);
        length = remaining;
      } else {
        Memory staging = writeStaging(remaining);
        length = (int) Math.min(remaining, staging.size());
        writeView().put(0, buffer, buffer.position(), length);
        address = LibC.address(staging);
      }
      for (;;) {
        long n = LibC.send(fd(), address, length, LibC.MSG_NOSIGNAL);
        if (n >= 0) {
          buffer.position(buffer.position() + (int) n);
          return (int) n;
        }
        int err = LibC.errno();
        if (err == LibC.EINTR) {
          continue;
        }
        if (isClosed()) {
          throw Errors.closed("write");
        }
        if (err == LibC.EAGAIN) {
          PollWaits.await(this, LibC.POLLOUT, timeout, start, "write");
          continue;
        }
        throw Errors.of(err, "write to " + peerAddress());
      }
    } finally {
      exit();
    }
  }

  int read(ByteBuffer buffer, long timeout, boolean wakeable) throws IOException {
    int remaining = buffer.remaining();
    if (remaining == 0) {
      return 0;
    }
    long start = System.nanoTime();
    enter("read");
    try {
      boolean direct = buffer.isDirect();
      Memory staging = direct ? null : readStaging();
      ByteBuffer view = direct ? null : readView();
      for (;;) {
        long n;
        if (direct) {
          n = LibC.recv(fd(), addressOf(buffer), remaining, 0);
          if (n > 0) {
            buffer.position(buffer.position() + (int) n);
          }
        } else {
          n = LibC.recv(fd(), LibC.address(staging), Math.min(remaining, STAGING_SIZE), 0);
          if (n > 0) {
            int position = buffer.position();
            buffer.put(position, view, 0, (int) n);
            buffer.position(position + (int) n);
          }
        }
        if (n > 0) {
          return (int) n;
        }
        if (isClosed()) {
          throw Errors.closed("read");
        }
        if (n == 0) {
          return -1;
        }
        int err = LibC.errno();
        if (err == LibC.EINTR) {
          continue;
        }
        if (err == LibC.EAGAIN) {
          if (wakeable) {
            PollWaits.awaitReadable(this, timeout, start);
          } else {
            PollWaits.await(this, LibC.POLLIN, timeout, start, "read");
          }
          continue;
        }
        throw Errors.of(err, "read from " + peerAddress());
      }
    } finally {
      exit();
    }
  }

  /** The bytes left in the heap buffers among {@code buffers}. */
  private static long heapBytes(ByteBuffer[] buffers) {
    long n = 0;
    for (ByteBuffer b : buffers) {
      if (!b.isDirect()) {
        n += b.remaining();
      }
    }
    return n;
  }

  private static long addressOf(ByteBuffer direct) {
    return LibC.address(direct);
  }

  @Override
  public String toString() {
    return "UnixSocket[fd=" + fd + ", local=" + localAddress + ", peer=" + peerAddress
        + (isClosed() ? ", closed" : "") + "]";
  }
}
