package io.ei4j.internal.node;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import java.util.EnumSet;
import java.util.Set;

/**
 * How an accept loop treats a failed accept. Most failures belong to one incoming
 * connection (a TLS listener reports the failed TLS handshake of the connection it
 * accepted, TCP an aborted connection): anybody who can connect can cause them at will,
 * so they are logged through a {@link RateLimitedLog} and the loop accepts again at once;
 * pausing there would hand the listener to the attacker. Only a shortage of descriptors or
 * memory, or a failure that is not an {@link ErrnoException} (a bug), makes the loop pause
 * before the next accept, so that it does not spin while the shortage lasts.
 */
public final class AcceptFailures {
  private static final Set<Errno> SHORTAGES = EnumSet.of(Errno.EMFILE, Errno.ENOMEM, Errno.ENOBUFS);

  private AcceptFailures() {}

  /** Whether the loop should pause before the next accept after {@code e}. */
  public static boolean shouldPause(Exception e) {
    return !(e instanceof ErrnoException ee) || SHORTAGES.contains(ee.errno());
  }
}
