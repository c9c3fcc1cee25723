package io.ei4j.node;

import io.ei4j.connect.EiConnection;
import io.ei4j.internal.dist.ConnectionInternals;
import io.ei4j.internal.dist.ReadingRole;
import java.util.function.BooleanSupplier;

/**
 * What a {@link MailboxQueue} needs of the connection its messages come through: the
 * reading role, so that a receiver reads and routes frames itself instead of parking, and a
 * way to wake such a read ({@code CONCURRENCY.md}, "A waiting receiver reads its
 * connection itself").
 */
interface DispatchSource {
  /**
   * Reads and routes frames on the calling thread until {@code done} is true or
   * {@code timeoutMillis} (-1: for ever) runs out.
   *
   * @return false when this thread cannot read there (another thread does, or the
   *     connection cannot), so the caller parks instead
   */
  boolean dispatchUntil(BooleanSupplier done, long timeoutMillis);

  /** Makes a read under way through {@link #dispatchUntil} look at {@code done} again; never blocks. */
  void wakeupDispatcher();

  /**
   * The one implementation: an {@link EiConnection}'s reading role, looked up once when a
   * mailbox's messages start to come through that connection.
   */
  record Connection(EiConnection connection, ReadingRole role) implements DispatchSource {
    Connection(EiConnection connection) {
      this(connection, ConnectionInternals.role(connection));
    }

    @Override
    public boolean dispatchUntil(BooleanSupplier done, long timeoutMillis) {
      return role.dispatchUntil(done, timeoutMillis);
    }

    @Override
    public void wakeupDispatcher() {
      role.wakeupDispatcher();
    }
  }
}
