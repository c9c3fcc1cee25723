package io.ei4j.node;

/**
 * Told when a {@link Node} gains or loses its connection to another node. Called on the
 * thread that noticed the change (a sender, the accepting thread, a connection's reader
 * or the node's signal thread): keep it short and never block in it.
 */
public interface NodeListener {
  /** A connection to {@code nodeName} is up. */
  default void nodeUp(String nodeName) {}

  /** The connection to {@code nodeName} went down; {@code reason} says why, for humans. */
  default void nodeDown(String nodeName, String reason) {}
}
