/**
 * Erlang terms ({@code io.ei4j.term}), EPMD ({@code io.ei4j.epmd}), connections
 * ({@code io.ei4j.connect}) and nodes ({@code io.ei4j.node}) over any transport.
 *
 * <p>The parts behind the facades ({@code io.ei4j.internal.*}) are not exported, except to
 * the samples, which reuse two of them (see below). Transports are found by the
 * application, which passes one to {@code EiNode.Builder}; an {@link io.ei4j.api.FdPoller}
 * for a transport without {@code FULL_IMPL} is found through {@link java.util.ServiceLoader}.
 */
// "module": the qualified exports name io.ei4j.samples, which is built after core, so
// javac warns that it is not found when it compiles core. samples' ModulePathIT checks that
// these are the only exports of the internal packages and that they reach the samples.
@SuppressWarnings("module")
module io.ei4j.core {
  requires transitive io.ei4j.api;
  requires org.slf4j;

  exports io.ei4j.term;
  exports io.ei4j.connect;
  exports io.ei4j.epmd;
  exports io.ei4j.node;

  // The samples log refused handshakes with internal.node.RateLimitedLog and create a
  // missing ~/.erlang.cookie with internal.dist.Cookies, as erl does; neither is API.
  exports io.ei4j.internal.dist to io.ei4j.samples;
  exports io.ei4j.internal.node to io.ei4j.samples;

  uses io.ei4j.api.FdPoller;
}
