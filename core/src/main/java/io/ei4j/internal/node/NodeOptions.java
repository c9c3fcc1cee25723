package io.ei4j.internal.node;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.BudgetPolicy;
import io.ei4j.internal.dist.MessageBudget;
import io.ei4j.epmd.EpmdClient;
import io.ei4j.term.DecodeLimits;

/**
 * The options that {@code EiNode.Builder} and {@code Node.Builder} both take, held once:
 * each builder keeps one of these and replaces it on every setter, after checking the
 * value as it always did, and {@code Node} hands its options to the {@code EiNode} of each
 * transport. Defaults are {@link #DEFAULTS}. The {@code with} methods do not check: the
 * builders' setters do, so each keeps its own messages and moments of failure.
 *
 * @param cookie the cookie, or null to read {@code ~/.erlang.cookie}
 * @param creation the creation, or null to take one from EPMD (or at random)
 * @param transport the socket callbacks, or null when not given yet
 * @param setupContext handed to every {@code socket} call, may be null
 * @param epmd the EPMD to publish in and ask, or null for the one on each node's host
 * @param tickTimeMillis Erlang's {@code net_ticktime} in milliseconds
 * @param sendTimeoutMillis how long a send may wait for the peer to take the bytes
 * @param maxMessageBytes the largest frame accepted from a peer; {@link #UNLIMITED_MESSAGE_BYTES}
 *     when not configured (then the receive budget is the limit)
 * @param decodeLimits the limits the term decoder enforces on what peers send
 * @param maxQueueLength the queue limit: a connection's receive queue, a node's mailboxes
 * @param receiveBudgetBytes the node-wide budget for received, unconsumed messages; 0 for
 *     the default ({@link MessageBudget#defaultBytes()}, a quarter of the heap)
 * @param budgetPolicy what a connection does when a frame does not fit in the budget
 * @param sharedBudget a budget made already, which a {@code Node} shares among the
 *     {@code EiNode}s of its transports; null to make one from the two options above
 */
public record NodeOptions(String cookie, Integer creation, SocketCallbacks<?> transport, Object setupContext, EpmdClient epmd,
    long tickTimeMillis, long sendTimeoutMillis, int maxMessageBytes, DecodeLimits decodeLimits, int maxQueueLength,
    long receiveBudgetBytes, BudgetPolicy budgetPolicy, MessageBudget sharedBudget) {

  /** Erlang's default {@code net_ticktime}, 60 s. */
  public static final long DEFAULT_TICK_TIME_MILLIS = 60_000;
  /**
   * {@code maxMessageBytes} when it is not configured: the largest array a JVM allocates.
   * The receive budget bounds a message then (a frame larger than the whole budget is
   * refused), as memory bounds it in Erlang.
   */
  public static final int UNLIMITED_MESSAGE_BYTES = Integer.MAX_VALUE - 8;
  /** The default largest frame: none but the receive budget ({@link #UNLIMITED_MESSAGE_BYTES}). */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = UNLIMITED_MESSAGE_BYTES;

  /** Nothing given: the cookie file, a creation from EPMD, no transport, unbounded queues. */
  public static final NodeOptions DEFAULTS = new NodeOptions(null, null, null, null, null,
      DEFAULT_TICK_TIME_MILLIS, SocketCallbacks.INFINITE, DEFAULT_MAX_MESSAGE_BYTES, DecodeLimits.DEFAULT, Integer.MAX_VALUE,
      0, BudgetPolicy.PAUSE, null);

  public NodeOptions withCookie(String v) {
    return new NodeOptions(v, creation, transport, setupContext, epmd, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, decodeLimits, maxQueueLength, receiveBudgetBytes, budgetPolicy, sharedBudget);
  }

  public NodeOptions withCreation(Integer v) {
    return new NodeOptions(cookie, v, transport, setupContext, epmd, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, decodeLimits, maxQueueLength, receiveBudgetBytes, budgetPolicy, sharedBudget);
  }

  public NodeOptions withTransport(SocketCallbacks<?> v) {
    return new NodeOptions(cookie, creation, v, setupContext, epmd, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, decodeLimits, maxQueueLength, receiveBudgetBytes, budgetPolicy, sharedBudget);
  }

  public NodeOptions withSetupContext(Object v) {
    return new NodeOptions(cookie, creation, transport, v, epmd, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, decodeLimits, maxQueueLength, receiveBudgetBytes, budgetPolicy, sharedBudget);
  }

  public NodeOptions withEpmd(EpmdClient v) {
    return new NodeOptions(cookie, creation, transport, setupContext, v, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, decodeLimits, maxQueueLength, receiveBudgetBytes, budgetPolicy, sharedBudget);
  }

  public NodeOptions withTickTimeMillis(long v) {
    return new NodeOptions(cookie, creation, transport, setupContext, epmd, v, sendTimeoutMillis, maxMessageBytes, decodeLimits, maxQueueLength, receiveBudgetBytes, budgetPolicy, sharedBudget);
  }

  public NodeOptions withSendTimeoutMillis(long v) {
    return new NodeOptions(cookie, creation, transport, setupContext, epmd, tickTimeMillis, v, maxMessageBytes, decodeLimits, maxQueueLength, receiveBudgetBytes, budgetPolicy, sharedBudget);
  }

  public NodeOptions withMaxMessageBytes(int v) {
    return new NodeOptions(cookie, creation, transport, setupContext, epmd, tickTimeMillis, sendTimeoutMillis, v, decodeLimits, maxQueueLength, receiveBudgetBytes, budgetPolicy, sharedBudget);
  }

  public NodeOptions withDecodeLimits(DecodeLimits v) {
    return new NodeOptions(cookie, creation, transport, setupContext, epmd, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, v, maxQueueLength, receiveBudgetBytes, budgetPolicy, sharedBudget);
  }

  public NodeOptions withMaxQueueLength(int v) {
    return new NodeOptions(cookie, creation, transport, setupContext, epmd, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, decodeLimits, v, receiveBudgetBytes, budgetPolicy, sharedBudget);
  }

  public NodeOptions withReceiveBudgetBytes(long v) {
    return new NodeOptions(cookie, creation, transport, setupContext, epmd, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, decodeLimits, maxQueueLength, v, budgetPolicy, sharedBudget);
  }

  public NodeOptions withBudgetPolicy(BudgetPolicy v) {
    return new NodeOptions(cookie, creation, transport, setupContext, epmd, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, decodeLimits, maxQueueLength, receiveBudgetBytes, v, sharedBudget);
  }

  public NodeOptions withSharedBudget(MessageBudget v) {
    return new NodeOptions(cookie, creation, transport, setupContext, epmd, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, decodeLimits, maxQueueLength, receiveBudgetBytes, budgetPolicy, v);
  }

  /** The budget these options describe: the shared one, or a new one. */
  public MessageBudget budget() {
    if (sharedBudget != null) {
      return sharedBudget;
    }
    return new MessageBudget(receiveBudgetBytes > 0 ? receiveBudgetBytes : MessageBudget.defaultBytes(), budgetPolicy);
  }

  /** Whether {@code maxMessageBytes} was configured. */
  public boolean explicitMaxMessageBytes() {
    return maxMessageBytes != UNLIMITED_MESSAGE_BYTES;
  }

  /** The options without the cookie, which is never shown. */
  @Override
  public String toString() {
    return "NodeOptions[creation=" + creation + ", transport=" + transport + ", tickTimeMillis=" + tickTimeMillis
        + ", sendTimeoutMillis=" + sendTimeoutMillis + ", maxMessageBytes=" + maxMessageBytes + ", maxQueueLength=" + maxQueueLength
        + ", receiveBudgetBytes=" + receiveBudgetBytes + ", budgetPolicy=" + budgetPolicy + "]";
  }
}
