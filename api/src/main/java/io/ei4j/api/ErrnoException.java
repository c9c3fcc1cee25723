package io.ei4j.api;

import java.io.IOException;

/**
 * An I/O failure that carries a named POSIX error, the way ei's socket callbacks return
 * one.
 *
 * <p>Every failure a {@link SocketCallbacks} method reports should be one of these, so
 * that core can tell a timeout ({@link Errno#ETIMEDOUT}) from a refused connection or a
 * reset. Core wraps any other {@link IOException} a callback throws as {@link Errno#EIO}.
 */
public class ErrnoException extends IOException {
  private static final long serialVersionUID = 1L;

  private final Errno errno;

  public ErrnoException(Errno errno, String message) {
    super(errno.name() + ": " + message);
    this.errno = errno;
  }

  public ErrnoException(Errno errno, String message, Throwable cause) {
    super(errno.name() + ": " + message, cause);
    this.errno = errno;
  }

  /** The error, never null. */
  public Errno errno() {
    return errno;
  }

  /** True when this is {@link Errno#ETIMEDOUT}: the operation's timeout ran out. */
  public boolean isTimeout() {
    return errno == Errno.ETIMEDOUT;
  }

  /**
   * The errno of any throwable: its own when it is an {@code ErrnoException}, else
   * {@link Errno#EIO}, as ei maps an error without a code.
   */
  public static Errno errnoOf(Throwable t) {
    return t instanceof ErrnoException e ? e.errno : Errno.EIO;
  }
}
