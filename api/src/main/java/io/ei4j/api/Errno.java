package io.ei4j.api;

/**
 * The POSIX error codes a {@link SocketCallbacks} implementation reports, named as in
 * {@code <errno.h>} and numbered as on Linux.
 *
 * <p>ei's callbacks return "0 or a POSIX error code"; ei4j's callbacks throw an
 * {@link ErrnoException} that carries one of these instead. Users who know ei's contract
 * recognise the names; code that needs the number (to log it, or to hand it to C) has it.
 */
public enum Errno {
  EPERM(1),
  ENOENT(2),
  EINTR(4),
  EIO(5),
  EBADF(9),
  EAGAIN(11),
  ENOMEM(12),
  EACCES(13),
  EFAULT(14),
  EBUSY(16),
  EEXIST(17),
  EINVAL(22),
  EMFILE(24),
  ENOSPC(28),
  EPIPE(32),
  ENAMETOOLONG(36),
  ENOSYS(38),
  EPROTO(71),
  EBADMSG(74),
  EOVERFLOW(75),
  ENOTSOCK(88),
  EDESTADDRREQ(89),
  EMSGSIZE(90),
  EPROTOTYPE(91),
  EPROTONOSUPPORT(93),
  ENOTSUP(95),
  EAFNOSUPPORT(97),
  EADDRINUSE(98),
  EADDRNOTAVAIL(99),
  ENETDOWN(100),
  ENETUNREACH(101),
  ECONNABORTED(103),
  ECONNRESET(104),
  ENOBUFS(105),
  EISCONN(106),
  ENOTCONN(107),
  ESHUTDOWN(108),
  ETIMEDOUT(110),
  ECONNREFUSED(111),
  EHOSTDOWN(112),
  EHOSTUNREACH(113),
  EALREADY(114),
  EINPROGRESS(115);

  private final int number;

  Errno(int number) {
    this.number = number;
  }

  /** The Linux value of this error, as {@code errno} would hold it. */
  public int number() {
    return number;
  }

  /**
   * The constant for a native error number, or {@link #EIO} for a number this enum does
   * not name (ei itself reports {@code EIO} when it has no better code).
   */
  public static Errno of(int number) {
    for (Errno e : values()) {
      if (e.number == number) {
        return e;
      }
    }
    return EIO;
  }
}
