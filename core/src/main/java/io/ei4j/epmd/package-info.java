/**
 * The Erlang Port Mapper Daemon protocol: {@link io.ei4j.epmd.EpmdClient} registers a
 * node and looks other nodes up, {@link io.ei4j.epmd.EmbeddedEpmd} is an EPMD server
 * that real Erlang nodes and {@code epmd -names} can use.
 *
 * <p>EPMD traffic is always plain TCP, whatever transport the distribution itself uses;
 * it never goes through {@link io.ei4j.api.SocketCallbacks}.
 */
package io.ei4j.epmd;
