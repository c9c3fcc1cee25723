package io.ei4j.internal.node;

import io.ei4j.api.SocketCallbacks;
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
 * @param maxMessageBytes the largest frame accepted from a peer
 * @param decodeLimits the limits the term decoder enforces on what peers send
 * @param maxQueueLength the queue limit: a connection's receive queue, a node's mailboxes
 */
public record NodeOptions(String cookie, Integer creation, SocketCallbacks<?> transport, Object setupContext, EpmdClient epmd,
    long tickTimeMillis, long sendTimeoutMillis, int maxMessageBytes, DecodeLimits decodeLimits, int maxQueueLength) {

  /** Erlang's default {@code net_ticktime}, 60 s. */
  public static final long DEFAULT_TICK_TIME_MILLIS = 60_000;
  /** The default largest frame: the largest Java array (no fixed limit below what Erlang accepts). */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = DecodeLimits.MAX_ARRAY_BYTES;

  /** Nothing given: the cookie file, a creation from EPMD, no transport, unbounded queues. */
  public static final NodeOptions DEFAULTS = new NodeOptions(null, null, null, null, null,
      DEFAULT_TICK_TIME_MILLIS, SocketCallbacks.INFINITE, DEFAULT_MAX_MESSAGE_BYTES, DecodeLimits.DEFAULT, Integer.MAX_VALUE);

  public NodeOptions withCookie(String v) {
    return new NodeOptions(v, creation, transport, setupContext, epmd, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, decodeLimits, maxQueueLength);
  }

  public NodeOptions withCreation(Integer v) {
    return new NodeOptions(cookie, v, transport, setupContext, epmd, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, decodeLimits, maxQueueLength);
  }

  public NodeOptions withTransport(SocketCallbacks<?> v) {
    return new NodeOptions(cookie, creation, v, setupContext, epmd, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, decodeLimits, maxQueueLength);
  }

  public NodeOptions withSetupContext(Object v) {
    return new NodeOptions(cookie, creation, transport, v, epmd, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, decodeLimits, maxQueueLength);
  }

  public NodeOptions withEpmd(EpmdClient v) {
    return new NodeOptions(cookie, creation, transport, setupContext, v, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, decodeLimits, maxQueueLength);
  }

  public NodeOptions withTickTimeMillis(long v) {
    return new NodeOptions(cookie, creation, transport, setupContext, epmd, v, sendTimeoutMillis, maxMessageBytes, decodeLimits, maxQueueLength);
  }

  public NodeOptions withSendTimeoutMillis(long v) {
    return new NodeOptions(cookie, creation, transport, setupContext, epmd, tickTimeMillis, v, maxMessageBytes, decodeLimits, maxQueueLength);
  }

  public NodeOptions withMaxMessageBytes(int v) {
    return new NodeOptions(cookie, creation, transport, setupContext, epmd, tickTimeMillis, sendTimeoutMillis, v, decodeLimits, maxQueueLength);
  }

  public NodeOptions withDecodeLimits(DecodeLimits v) {
    return new NodeOptions(cookie, creation, transport, setupContext, epmd, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, v, maxQueueLength);
  }

  public NodeOptions withMaxQueueLength(int v) {
    return new NodeOptions(cookie, creation, transport, setupContext, epmd, tickTimeMillis, sendTimeoutMillis, maxMessageBytes, decodeLimits, v);
  }

  /** The options without the cookie, which is never shown. */
  @Override
  public String toString() {
    return "NodeOptions[creation=" + creation + ", transport=" + transport + ", tickTimeMillis=" + tickTimeMillis
        + ", sendTimeoutMillis=" + sendTimeoutMillis + ", maxMessageBytes=" + maxMessageBytes + ", maxQueueLength=" + maxQueueLength + "]";
  }
}
