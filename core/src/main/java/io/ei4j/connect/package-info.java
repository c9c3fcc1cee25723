/**
 * ei-style nodes and connections: {@link io.ei4j.connect.EiNode} (like {@code ei_cnode}),
 * {@link io.ei4j.connect.EiListener} and {@link io.ei4j.connect.EiConnection}, running the
 * Erlang distribution protocol (handshake version 6, 4-byte frames, ticks) over any
 * {@link io.ei4j.api.SocketCallbacks} transport. See {@code CONNECTIONS.md} in this
 * package's sources for the design.
 *
 * <pre>{@code
 * try (EiNode node = EiNode.builder("java@localhost").cookie("secret")
 *         .transport(TcpTransport.create()).build();
 *      EiConnection c = node.connect("erl@localhost", 5_000)) {
 *   c.regSend(c.self(), "logger_proxy", Terms.tuple(c.self(), "hello"));
 *   EiMessage m = c.receive(5_000);
 * }
 * }</pre>
 */
package io.ei4j.connect;
