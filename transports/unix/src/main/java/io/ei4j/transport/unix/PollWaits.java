package io.ei4j.transport.unix;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import java.util.concurrent.TimeUnit;

/**
 * The {@code poll(2)} waits of the AF_UNIX transport: for a socket to become ready within
 * what is left of a call's timeout, and for a read that a {@link UnixTransport#wakeupRead}
 * may end early. Signals ({@code EINTR}) are retried with the time left.
 */
final class PollWaits {
  private PollWaits() {}

  /**
   * Waits with {@code poll(2)} until {@code ctx} is ready for {@code events} or the time
   * left of {@code timeoutMillis} since {@code start} runs out.
   */
  static void await(UnixSocket ctx, short events, long timeoutMillis, long start,
      String operation) throws ErrnoException {
    for (;;) {
      int wait = pollMillis(timeoutMillis, start, operation);
      int revents = LibC.pollOne(ctx.fd(), events, wait);
      if (ctx.isClosed() || (revents > 0 && (revents & LibC.POLLNVAL) != 0)) {
        throw Errors.closed(operation);
      }
      if (revents > 0) {
        return;
      }
      if (revents < 0) {
        int err = LibC.errno();
        if (err != LibC.EINTR) {
          throw Errors.of(err, operation + ": poll");
        }
      }
    }
  }

  /**
   * The {@code poll(2)} timeout for what is left of {@code timeoutMillis} since
   * {@code start}: -1 for {@link SocketCallbacks#INFINITE}, else at least 1 ms.
   *
   * @throws ErrnoException {@link Errno#ETIMEDOUT} when nothing is left
   */
  static int pollMillis(long timeoutMillis, long start, String operation) throws ErrnoException {
    if (timeoutMillis == SocketCallbacks.INFINITE) {
      return -1;
    }
    long left = TimeUnit.MILLISECONDS.toNanos(timeoutMillis) - (System.nanoTime() - start);
    if (left <= 0) {
      throw Errors.timeout(operation, timeoutMillis);
    }
    return (int) Math.min(Integer.MAX_VALUE, UnixFdPoller.ceilMillis(left));
  }

  /**
   * {@link #await} for a read with {@link SocketCallbacks#FLAG_FULL_IMPL}: also ends, with
   * {@link Errno#ETIMEDOUT}, when a {@link UnixTransport#wakeupRead} is pending or arrives, by polling the
   * socket's wakeup eventfd along with it. Readable data wins over a wakeup that arrives
   * during the wait: the wakeup then stays pending for the next wait.
   */
  static void awaitReadable(UnixSocket ctx, long timeoutMillis, long start) throws ErrnoException {
    int wakeFd = ctx.wakeFd();
    for (;;) {
      int wait = pollMillis(timeoutMillis, start, "read");
      if (ctx.consumeReadWakeup()) {
        throw Errors.woken("read");
      }
      int revents = LibC.pollTwo(ctx.fd(), LibC.POLLIN, wakeFd, wait);
      if (ctx.isClosed() || (revents > 0 && (revents & (LibC.POLLNVAL | LibC.POLLNVAL << 16)) != 0)) {
        throw Errors.closed("read");
      }
      if (revents > 0) {
        if ((revents & 0xFFFF) != 0) {
          return;
        }
        // Only the doorbell rang: empty it, and let the flag say whether it was for this wait.
        LibC.eventfdRead(wakeFd);
      } else if (revents < 0) {
        int err = LibC.errno();
        if (err != LibC.EINTR) {
          throw Errors.of(err, "read: poll");
        }
      }
    }
  }
}
