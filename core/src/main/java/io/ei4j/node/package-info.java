/**
 * Erlang processes in Java: a {@link io.ei4j.node.Node} owns connections to many nodes
 * and hosts {@link io.ei4j.node.Mailbox}es, Java processes with pids, registered names,
 * links, monitors, aliases and exit signals that behave as Erlang's do, so that Erlang code
 * can link to, monitor, call and {@code rpc} into them as into its own processes.
 *
 * <ul>
 *   <li>{@link io.ei4j.node.Node}: connections on first use, background accept,
 *       simultaneous-connect resolution, node up/down events, and Java functions served to
 *       {@code rpc:call}, {@code erpc} and {@code spawn} through {@code SPAWN_REQUEST}.
 *   <li>{@link io.ei4j.node.Mailbox}: send, (selective) receive, link, monitor, exit,
 *       trap_exit, aliases.
 *   <li>{@link io.ei4j.node.GenServer}: {@code gen_server} calls and casts both ways.
 * </ul>
 *
 * <p>The threading model is described in {@code CONCURRENCY.md} next to these sources.
 */
package io.ei4j.node;
