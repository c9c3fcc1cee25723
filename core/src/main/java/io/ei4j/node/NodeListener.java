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

  /**
   * The node itself failed and is closed (fail-stop, see {@link Node#fail}): an
   * {@link Error} such as OutOfMemoryError or StackOverflowError on one of its threads, or an
   * unexpected exception in a node-wide thread. Called once, on the failing thread, after
   * the node dropped its connections and its mailboxes died; no {@link #nodeDown} follows
   * for those connections. Keep it short: the process may be short of memory. A listener
   * that wants the process to end as an Erlang VM would can exit here (the samples exit
   * non-zero).
   *
   * @param cause why, as {@link Node#failure()} reports it
   */
  default void nodeFailed(Throwable cause) {}
}
