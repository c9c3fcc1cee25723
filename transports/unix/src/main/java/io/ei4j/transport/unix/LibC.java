package io.ei4j.transport.unix;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;

/**
 * Every native call of this transport, and the Linux constants they take.
 *
 * <p>The functions are bound by JNA's direct mapping ({@link Native#register(Class, String)}):
 * static native methods with only {@code int} and {@code long} arguments, which JNA calls
 * without reflection or argument conversion. Pointers are passed as raw addresses
 * ({@code long}) into memory this transport owns, and {@code size_t}/{@code ssize_t} as
 * {@code long}, which is why {@link Availability} only declares the transport available on
 * 64-bit Linux. After a call fails (returns -1), {@link Native#getLastError()} holds the
 * {@code errno} the C library set on this thread.
 *
 * <p>The constants are the values of the "generic" Linux ABI (x86-64, aarch64, riscv64,
 * loongarch64, s390x) and of 64-bit PowerPC, which differs only in
 * {@code SO_PEERCRED}; MIPS, SPARC, Alpha and PA-RISC number socket options differently and
 * are reported unavailable rather than guessed.
 *
 * <p>Loading this class registers the natives; when that fails the class fails to
 * initialise, and {@link Availability} records the cause. JNA types appear only here and
 * in signatures of the same type elsewhere: a class whose bytecode converts a JNA type to
 * another (a {@code Memory} passed as a {@code Pointer}) makes the JVM's verifier load JNA
 * when that class is linked, which would turn a missing JNA into a
 * {@link NoClassDefFoundError} before {@link Availability} can report it.
 */
final class LibC {
  static final int AF_UNIX = 1;
  static final int SOCK_STREAM = 1;
  static final int SOCK_NONBLOCK = 0x800;
  static final int SOCK_CLOEXEC = 0x80000;

  static final int SOL_SOCKET = 1;
  static final int SO_ERROR = 4;
  static final int SO_SNDBUF = 7;
  static final int SO_PEERCRED = Platform.ARCH.startsWith("ppc") ? 21 : 17;

  /** {@code eventfd(2)} flags: the values of {@code O_NONBLOCK} and {@code O_CLOEXEC}. */
  static final int EFD_NONBLOCK = 0x800;
  static final int EFD_CLOEXEC = 0x80000;

  static final int SHUT_RDWR = 2;
  static final int MSG_NOSIGNAL = 0x4000;

  static final short POLLIN = 0x1;
  static final short POLLOUT = 0x4;
  static final short POLLERR = 0x8;
  static final short POLLHUP = 0x10;
  static final short POLLNVAL = 0x20;

  /** {@code struct pollfd}: fd:int, events:short, revents:short. */
  static final int POLLFD_SIZE = 8;
  static final int POLLFD_REVENTS = 6;
  /** {@code struct iovec} on LP64: base:pointer, len:size_t. */
  static final int IOVEC_SIZE = 16;
  /**
   * {@code struct msghdr} on LP64:
   * <pre>
   *  0 msg_name       void*      (NULL: connected socket)
   *  8 msg_namelen    socklen_t  + 4 bytes padding
   * 16 msg_iov        iovec*
   * 24 msg_iovlen     size_t
   * 32 msg_control    void*
   * 40 msg_controllen size_t
   * 48 msg_flags      int        + 4 bytes padding
   * </pre>
   */
  static final int MSGHDR_SIZE = 56;
  static final int MSGHDR_IOV = 16;
  static final int MSGHDR_IOVLEN = 24;
  /** {@code struct ucred}: pid, uid, gid, each 32 bits. */
  static final int UCRED_SIZE = 12;
  /** {@code struct sockaddr_un}: sun_family:u16, then sun_path[108]. */
  static final int SOCKADDR_UN_SIZE = 110;
  static final int SUN_PATH_OFFSET = 2;
  static final int SUN_PATH_SIZE = 108;

  static final int EINTR = 4;
  static final int EAGAIN = 11;
  static final int EINPROGRESS = 115;
  static final int EALREADY = 114;
  static final int EISCONN = 106;
  static final int ECONNABORTED = 103;
  static final int ECONNREFUSED = 111;
  static final int EADDRINUSE = 98;
  static final int ENOENT = 2;

  static {
    Native.register(LibC.class, Platform.C_LIBRARY_NAME);
  }

  /** One {@code struct pollfd} per thread, for {@link #pollOne}. */
  private static final ThreadLocal<Memory> POLLFD = ThreadLocal.withInitial(() -> new Memory(POLLFD_SIZE));

  /** Two {@code struct pollfd}s per thread, for {@link #pollTwo}. */
  private static final ThreadLocal<Memory> POLLFDS = ThreadLocal.withInitial(() -> new Memory(2L * POLLFD_SIZE));
  /** An eventfd counter value per thread, for {@link #eventfdRead} and {@link #eventfdWrite}. */
  private static final ThreadLocal<Memory> COUNTER = ThreadLocal.withInitial(() -> new Memory(8));

  private LibC() {}

  /** The native address of {@code memory}. */
  static long address(Memory memory) {
    return Pointer.nativeValue(memory);
  }

  /** The native address of a direct buffer's current position. */
  static long address(ByteBuffer direct) {
    return Pointer.nativeValue(Native.getDirectBufferPointer(direct)) + direct.position();
  }

  /**
   * {@code poll(2)} on one descriptor.
   *
   * @return the {@code revents} (never 0) when it is ready, 0 when the timeout ran out,
   *     -1 on failure with {@link #errno()} set
   */
  static int pollOne(int fd, short events, int timeoutMillis) {
    Memory pfd = POLLFD.get();
    pfd.setInt(0, fd);
    pfd.setShort(4, events);
    pfd.setShort(POLLFD_REVENTS, (short) 0);
    int n = poll(Pointer.nativeValue(pfd), 1, timeoutMillis);
    if (n <= 0) {
      return n;
    }
    int revents = pfd.getShort(POLLFD_REVENTS) & 0xFFFF;
    return revents != 0 ? revents : POLLERR;
  }

  /**
   * {@code poll(2)} on two descriptors at once: {@code fd} for {@code events},
   * {@code second} for {@code POLLIN}.
   *
   * @return 0 when the timeout ran out, -1 on failure with {@link #errno()} set; else the
   *     {@code revents} of {@code fd} in bits 0..15 and those of {@code second} in bits
   *     16..31 (at least one of them non-zero)
   */
  static int pollTwo(int fd, short events, int second, int timeoutMillis) {
    Memory pfds = POLLFDS.get();
    pfds.setInt(0, fd);
    pfds.setShort(4, events);
    pfds.setShort(POLLFD_REVENTS, (short) 0);
    pfds.setInt(POLLFD_SIZE, second);
    pfds.setShort(POLLFD_SIZE + 4, POLLIN);
    pfds.setShort(POLLFD_SIZE + POLLFD_REVENTS, (short) 0);
    int n = poll(Pointer.nativeValue(pfds), 2, timeoutMillis);
    if (n <= 0) {
      return n;
    }
    int first = pfds.getShort(POLLFD_REVENTS) & 0xFFFF;
    int other = pfds.getShort(POLLFD_SIZE + POLLFD_REVENTS) & 0xFFFF;
    return first != 0 || other != 0 ? first | other << 16 : POLLERR;
  }

  /**
   * Adds {@code value} to the counter of the non-blocking eventfd {@code fd}.
   *
   * @return 0, or -1 on failure with {@link #errno()} set ({@code EAGAIN} when the counter
   *     would overflow, which leaves it readable anyway)
   */
  static int eventfdWrite(int fd, long value) {
    Memory counter = COUNTER.get();
    counter.setLong(0, value);
    return write(fd, Pointer.nativeValue(counter), 8) == 8 ? 0 : -1;
  }

  /**
   * Reads and resets the counter of the non-blocking eventfd {@code fd}.
   *
   * @return the counter (never 0), or -1 on failure with {@link #errno()} set
   *     ({@code EAGAIN} when it was 0)
   */
  static long eventfdRead(int fd) {
    Memory counter = COUNTER.get();
    return read(fd, Pointer.nativeValue(counter), 8) == 8 ? counter.getLong(0) : -1;
  }

  /**
   * The send buffer size of socket {@code fd} as the kernel reports it ({@code SO_SNDBUF}),
   * or 0 when it cannot be read.
   */
  static int sendBufferSize(int fd) {
    try (Memory value = new Memory(8)) {
      long address = Pointer.nativeValue(value);
      value.setInt(4, 4);
      return getsockopt(fd, SOL_SOCKET, SO_SNDBUF, address, address + 4) == 0 ? value.getInt(0) : 0;
    }
  }

  /** The calling thread's {@code errno} after the last failed native call. */
  static int errno() {
    return Native.getLastError();
  }

  static native int socket(int domain, int type, int protocol);

  static native int bind(int fd, long addr, int addrlen);

  static native int listen(int fd, int backlog);

  static native int accept4(int fd, long addr, long addrlenPtr, int flags);

  static native int connect(int fd, long addr, int addrlen);

  static native long recv(int fd, long buf, long len, int flags);

  static native long send(int fd, long buf, long len, int flags);

  static native long sendmsg(int fd, long msghdr, int flags);

  static native int poll(long fds, long nfds, int timeoutMillis);

  static native int shutdown(int fd, int how);

  static native int eventfd(int initval, int flags);

  static native long read(int fd, long buf, long len);

  static native long write(int fd, long buf, long len);

  static native int close(int fd);

  static native int getsockopt(int fd, int level, int name, long value, long lenPtr);

  static native int getsockname(int fd, long addr, long addrlenPtr);

  static native int getuid();

  /**
   * Sets the mode of an open descriptor. On an AF_UNIX socket that is not yet bound, Linux
   * gives the socket file {@code bind} creates this mode (less the umask), so the file never
   * exists with wider permissions.
   */
  static native int fchmod(int fd, int mode);

  /** Sets the process's file-creation mask and returns the previous one (tests only). */
  static native int umask(int mask);
}
