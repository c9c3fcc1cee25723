package io.ei4j.node;

/**
 * Told when a {@link Node} gains or loses its connection to another node. Called on the
 * thread that noticed the change (a sender, the accepting thread, a connection's reader
 * or the node's signal thread): keep it short and never block in it.
 */
public interface NodeListener {
  /**
   * A connection to a node is up.
   *
   * @param nodeName the node's full name
   */
  default void nodeUp(String nodeName) {}

  /**
   * The connection to a node went down; its processes' links and monitors have fired or are
   * about to fire {@code noconnection}.
   *
   * @param nodeName the node's full name
   * @param reason why, for humans
   */
  default void nodeDown(String nodeName, String reason) {}
}
