package io.ei4j.api;

import java.net.SocketAddress;
import java.util.Objects;

/**
 * What {@link SocketCallbacks#accept} returns: the context of the new connection and the
 * address of the peer, the two things ei's {@code accept} callback writes back through
 * {@code *ctx} and {@code addr}.
 *
 * @param <C> the transport's context type
 */
public record Accepted<C>(C context, SocketAddress peer) {
  public Accepted {
    Objects.requireNonNull(context, "context");
  }
}
