/**
 * Erlang distribution over TCP: {@link io.ei4j.transport.tcp.TcpTransport}, the reference
 * transport, compatible with {@code inet_tcp_dist} and ei's default callbacks.
 */
package io.ei4j.transport.tcp;
