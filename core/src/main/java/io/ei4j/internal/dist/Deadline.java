package io.ei4j.internal.dist;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;

/**
 * A point in time by which an operation must finish, built from a timeout in milliseconds
 * where {@link SocketCallbacks#INFINITE} never runs out.
 */
public final class Deadline {
  private static final Deadline NEVER = new Deadline(Long.MAX_VALUE, SocketCallbacks.INFINITE);

  private final long nanos;
  private final long timeoutMillis;

  private Deadline(long nanos, long timeoutMillis) {
    this.nanos = nanos;
    this.timeoutMillis = timeoutMillis;
  }

  /**
   * A deadline {@code timeoutMillis} from now; {@link SocketCallbacks#INFINITE} never
   * runs out, 0 has already run out (a single non-waiting attempt).
   *
   * @throws IllegalArgumentException for a negative timeout other than INFINITE
   */
  public static Deadline after(long timeoutMillis) {
    if (timeoutMillis == SocketCallbacks.INFINITE) {
      return NEVER;
    }
    if (timeoutMillis < 0) {
      throw new IllegalArgumentException("timeout must be >= 0 or INFINITE (-1): " + timeoutMillis);
    }
    return new Deadline(System.nanoTime() + timeoutMillis * 1_000_000L, timeoutMillis);
  }

  /** Whether this deadline never runs out. */
  public boolean isInfinite() {
    return nanos == Long.MAX_VALUE;
  }

  /** The timeout this deadline was made from. */
  public long timeoutMillis() {
    return timeoutMillis;
  }

  /**
   * Milliseconds left, rounded up, for handing to a callback: {@link SocketCallbacks#INFINITE}
   * for an infinite deadline, 0 once run out.
   */
  public long remainingMillis() {
    if (isInfinite()) {
      return SocketCallbacks.INFINITE;
    }
    long left = nanos - System.nanoTime();
    return left <= 0 ? 0 : (left + 999_999) / 1_000_000;
  }

  /** Whether the deadline has passed. */
  public boolean expired() {
    return !isInfinite() && nanos - System.nanoTime() <= 0;
  }

  /** An {@link Errno#ETIMEDOUT} failure naming what did not finish in time. */
  public ErrnoException timeout(String what) {
    return new ErrnoException(Errno.ETIMEDOUT, what + " did not finish within " + timeoutMillis + " ms");
  }
}
