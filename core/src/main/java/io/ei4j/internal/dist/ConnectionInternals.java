package io.ei4j.internal.dist;

import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiNode;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * How the layers above {@code io.ei4j.connect} (such as {@code io.ei4j.node}) reach parts of
 * an {@link EiConnection} that are not its public API: {@link #role} gives the connection's
 * {@link ReadingRole}, whose {@link ReadingRole#dispatchUntil} and
 * {@link ReadingRole#wakeupDispatcher} a layer with an {@code EiConnectionHandler} uses to
 * read for itself. {@code EiConnection} grants the access when its class is initialized;
 * this package is not exported.
 */
public final class ConnectionInternals {
  private static volatile Function<EiConnection, ReadingRole> roles;
  private static volatile BiConsumer<EiNode.Builder, MessageBudget> budgets;

  private ConnectionInternals() {}

  /** Called once, by {@link EiConnection}'s static initializer. */
  public static void grant(Function<EiConnection, ReadingRole> access) {
    if (roles != null) {
      throw new IllegalStateException("access already granted");
    }
    roles = access;
  }

  /** Called once, by {@link EiNode}'s static initializer. */
  public static void grantBudgets(BiConsumer<EiNode.Builder, MessageBudget> access) {
    if (budgets != null) {
      throw new IllegalStateException("access already granted");
    }
    budgets = access;
  }

  /**
   * Makes the node {@code b} builds use {@code budget} (one a {@code Node} shares among its
   * transports) instead of a budget of its own; null leaves it its own.
   */
  public static void shareBudget(EiNode.Builder b, MessageBudget budget) {
    budgets.accept(b, budget); // b exists, so EiNode is initialized and the access granted
  }

  /** The reading role of {@code c}. No allocation, no lock. */
  public static ReadingRole role(EiConnection c) {
    Function<EiConnection, ReadingRole> r = roles;
    if (r == null) {
      // An EiConnection exists, so its class is initialized; this only runs if c is null.
      throw new NullPointerException("connection");
    }
    return r.apply(c);
  }
}
