package io.ei4j.connect;

/**
 * What a node does when a frame arrives that its receive budget cannot take
 * ({@link EiNode.Builder#receiveBudgetBytes}, {@code io.ei4j.node.Node.Builder#receiveBudgetBytes}):
 * the budget bounds the bytes of messages received but not yet consumed, node-wide.
 */
public enum BudgetPolicy {
  /**
   * The default, and what Erlang does to a slow receiver: back-pressure. The connection
   * whose frame does not fit stops reading (before the frame's body is allocated) until
   * consumers have taken enough messages; the peer's sends then block in its distribution
   * buffer. Our ticks keep going out and our own silence check of that peer is suspended,
   * so the connection stays up. The price is head-of-line blocking: every other process's
   * messages on that connection wait too.
   */
  PAUSE,
  /** The connection whose frame does not fit is closed, with a WARN naming the budget. */
  DISCONNECT,
  /**
   * The frame that does not fit is read and thrown away without being decoded, counted and
   * logged at WARN (rate-limited). It may carry any control message: a link, exit or
   * monitor signal is lost like a message. A fragmented message is dropped whole.
   */
  DROP
}
