package io.ei4j.transport.unix;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;

/**
 * The one place where a native {@code errno} becomes an {@link ErrnoException}.
 *
 * <p>The exception carries the {@link Errno} constant (so that core can tell a timeout
 * from a refused connection), names the operation and the address involved, and, for a
 * number that {@link Errno} does not name, the raw number: {@link Errno#of} maps those to
 * {@link Errno#EIO} as ei does, and the message keeps what the kernel actually said.
 */
final class Errors {
  private Errors() {}

  /**
   * The exception for a failed native call.
   *
   * @param errno the value {@link LibC#errno()} returned right after the call
   * @param operation what was being done, e.g. {@code "connect to /run/app/peer"}
   */
  static ErrnoException of(int errno, String operation) {
    Errno e = Errno.of(errno);
    String detail = e.number() == errno ? describe(e) : "errno " + errno;
    return new ErrnoException(e, operation + ": " + detail);
  }

  /** A timeout of {@code operation} after {@code timeoutMillis}. */
  static ErrnoException timeout(String operation, long timeoutMillis) {
    return new ErrnoException(Errno.ETIMEDOUT,
        operation + ": timed out after " + timeoutMillis + " ms");
  }

  /**
   * A wait of {@code operation} ended by {@link UnixTransport#wakeupRead}: a timeout,
   * as the contract of {@code wakeupRead} asks.
   */
  static ErrnoException woken(String operation) {
    return new ErrnoException(Errno.ETIMEDOUT, operation + ": woken up by wakeupRead before anything arrived");
  }

  /** An operation on a socket that {@code close} has already been called on. */
  static ErrnoException closed(String operation) {
    return new ErrnoException(Errno.EBADF, operation + ": the socket is closed");
  }

  private static String describe(Errno e) {
    return switch (e) {
      case ENOENT -> "no such file or directory";
      case EACCES -> "permission denied";
      case EPERM -> "operation not permitted";
      case EAGAIN -> "resource temporarily unavailable";
      case ECONNREFUSED -> "connection refused";
      case ECONNRESET -> "connection reset by peer";
      case EPIPE -> "broken pipe";
      case EADDRINUSE -> "address already in use";
      case ENAMETOOLONG -> "file name too long";
      case EMFILE -> "too many open files";
      case ENOBUFS -> "no buffer space available";
      case ENOTCONN -> "socket is not connected";
      case EINVAL -> "invalid argument";
      case EBADF -> "bad file descriptor";
      case EAFNOSUPPORT -> "address family not supported";
      case ENOTSOCK -> "not a socket";
      default -> e.name().toLowerCase(java.util.Locale.ROOT);
    };
  }
}
