/**
 * Erlang distribution over AF_UNIX stream sockets, interoperating with OTP's
 * {@code erl_uds_dist} ({@code erl -proto_dist erl_uds -no_epmd}).
 *
 * <p>{@link io.ei4j.transport.unix.UnixTransport} is the transport to hand to a node;
 * {@link io.ei4j.transport.unix.UnixSocketAddress} names sockets (files, Linux abstract
 * names); {@link io.ei4j.transport.unix.UnixTransport#isAvailable()} says whether the transport can run
 * here; {@link io.ei4j.transport.unix.UnixFdPoller} lets core wait on real descriptors for
 * transports that leave timeouts to it. The sockets are real descriptors driven through
 * JNA; see {@code DESIGN.md} in this module for the threading and naming model.
 *
 * <pre>{@code
 * UnixTransport uds = UnixTransport.builder().directory(Path.of("/run/app")).build();
 * EiNode node = EiNode.builder("java@localhost").transport(uds).build();
 * EiListener listener = node.listen(uds.addressOf(node.nodeName()), 16); // /run/app/java
 * EiConnection c = node.connect("peer@localhost", 5_000);                // /run/app/peer
 * }</pre>
 */
package io.ei4j.transport.unix;
