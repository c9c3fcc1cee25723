package io.ei4j.api;

import java.io.IOException;

/**
 * Waits for a native descriptor to become readable or writable, as ei uses
 * {@code select()} for transports without {@link SocketCallbacks#FLAG_FULL_IMPL}.
 *
 * <p>The JDK cannot wait on a raw descriptor, so core finds an implementation with
 * {@link java.util.ServiceLoader}; the AF_UNIX transport provides one on {@code poll(2)}.
 * A node whose transport is not {@code FULL_IMPL} and that has no poller refuses to start
 * rather than silently ignoring its timeouts.
 */
public interface FdPoller {
  /** Readiness to read, or to accept on a listening descriptor ({@code POLLIN}). */
  int READ = 1;
  /** Readiness to write, or a finished non-blocking connect ({@code POLLOUT}). */
  int WRITE = 4;

  /**
   * Waits until {@code fd} is ready for one of {@code events}, or the timeout runs out.
   *
   * @param fd a descriptor from {@link SocketCallbacks#fd}
   * @param events {@link #READ}, {@link #WRITE} or both
   * @param timeoutMillis milliseconds to wait; {@link SocketCallbacks#INFINITE} waits for
   *     ever, 0 checks once
   * @return the events that are ready (errors and hang-ups report as ready, so that the
   *     next call on the descriptor surfaces them); 0 when the timeout ran out
   * @throws ErrnoException when the wait itself fails (a bad descriptor, say)
   */
  int poll(int fd, int events, long timeoutMillis) throws IOException;

  /** Whether this poller can run on this system; the loader skips it when false. */
  default boolean isAvailable() {
    return true;
  }
}
