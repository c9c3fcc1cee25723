package io.ei4j.transport.unix;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.FdPoller;
import io.ei4j.api.SocketCallbacks;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * {@link FdPoller} on {@code poll(2)}: how core waits for a real descriptor when a
 * transport does not set {@link SocketCallbacks#FLAG_FULL_IMPL}, as ei uses
 * {@code select()}. Registered for {@link java.util.ServiceLoader} in
 * {@code META-INF/services/io.ei4j.api.FdPoller}; it reports itself unavailable wherever
 * {@link UnixTransport#isAvailable()} is.
 *
 * <p>A wait interrupted by a signal ({@code EINTR}) is resumed with the time left. Errors
 * and hang-ups on the descriptor count as readiness for the events asked for, so that the
 * call core makes next reports them; a descriptor that is not open ({@code POLLNVAL})
 * fails with {@link Errno#EBADF}. Thread-safe: each thread polls through its own
 * {@code struct pollfd}. Loading this class never needs JNA, so that
 * {@link java.util.ServiceLoader} can ask {@link #isAvailable()} on any system.
 */
public final class UnixFdPoller implements FdPoller {
  /** Used by {@link java.util.ServiceLoader}; holds no state. */
  public UnixFdPoller() {}

  @Override
  public int poll(int fd, int events, long timeoutMillis) throws IOException {
    if (fd < 0) {
      throw new IllegalArgumentException("not a descriptor: " + fd);
    }
    if ((events & (READ | WRITE)) == 0 || (events & ~(READ | WRITE)) != 0) {
      throw new IllegalArgumentException("events must be READ, WRITE or both: " + events);
    }
    if (timeoutMillis < 0 && timeoutMillis != SocketCallbacks.INFINITE) {
      throw new IllegalArgumentException("negative timeout: " + timeoutMillis);
    }
    short mask = 0;
    if ((events & READ) != 0) {
      mask |= LibC.POLLIN;
    }
    if ((events & WRITE) != 0) {
      mask |= LibC.POLLOUT;
    }
    if (!Availability.isAvailable()) {
      throw new IllegalStateException("the AF_UNIX transport's poller is unavailable: "
          + Availability.unavailabilityCause(), Availability.unavailabilityCause());
    }
    long start = System.nanoTime();
    long budget = timeoutMillis == SocketCallbacks.INFINITE
        ? Long.MAX_VALUE : TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    for (;;) {
      int wait;
      if (timeoutMillis == SocketCallbacks.INFINITE) {
        wait = -1;
      } else {
        long left = budget - (System.nanoTime() - start);
        wait = left <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, ceilMillis(left));
      }
      int n = LibC.pollOne(fd, mask, wait);
      if (n < 0) {
        int err = LibC.errno();
        if (err == LibC.EINTR) {
          continue;
        }
        throw Errors.of(err, "poll descriptor " + fd);
      }
      if (n == 0) {
        if (wait == -1 || System.nanoTime() - start < budget) {
          continue;
        }
        return 0;
      }
      int revents = n;
      if ((revents & LibC.POLLNVAL) != 0) {
        throw new ErrnoException(Errno.EBADF, "poll: descriptor " + fd + " is not open");
      }
      if ((revents & (LibC.POLLERR | LibC.POLLHUP)) != 0) {
        return events;
      }
      int ready = 0;
      if ((revents & LibC.POLLIN) != 0) {
        ready |= READ;
      }
      if ((revents & LibC.POLLOUT) != 0) {
        ready |= WRITE;
      }
      ready &= events;
      return ready != 0 ? ready : events;
    }
  }

  @Override
  public boolean isAvailable() {
    return Availability.isAvailable();
  }

  static long ceilMillis(long nanos) {
    return (nanos + 999_999) / 1_000_000;
  }
}
