package io.ei4j.node;

import io.ei4j.epmd.NodeInfo;
import io.ei4j.internal.node.NodeNames;
import java.io.IOException;
import java.util.Optional;

/**
 * Chooses the transport of a {@link Node} over which to connect to a peer node. EPMD cannot
 * tell which transport a node speaks (it only knows a port), so this is where the user
 * says it: by the peer's name (see {@link TransportRules} for glob rules), by what EPMD
 * reports, or by anything else the application knows.
 *
 * <p>Called on the thread that needs the connection, once per connection attempt, never
 * for incoming connections (they arrive on whichever listener the peer chose). An explicit
 * transport ({@link Node#connect(String, String, long)}) bypasses the selector.
 */
@FunctionalInterface
public interface TransportSelector {

  /**
   * The name of the transport to connect to {@code peer} over.
   *
   * @param peer what is known about the peer; {@link Peer#epmd()} asks EPMD only when called
   * @return a transport name of the node ({@link NamedTransport#name()})
   * @throws IOException when a lookup the selector needs fails; the connection attempt fails
   *     with it
   */
  String select(Peer peer) throws IOException;

  /** The peer a connection is wanted to, as a selector sees it. */
  interface Peer {
    /**
     * The peer's full node name.
     *
     * @return {@code alive@host}
     */
    String nodeName();

    /**
     * The part of the name before {@code @}.
     *
     * @return the alive name
     */
    default String alive() {
      return NodeNames.alive(nodeName());
    }

    /**
     * The part of the name after {@code @}.
     *
     * @return the host
     */
    default String host() {
      return NodeNames.host(nodeName());
    }

    /**
     * What EPMD on the peer's host (or the node's configured EPMD) reports for the peer:
     * its port, type and versions. Looked up on the first call only.
     *
     * @return the registration, or empty when the peer is not registered
     * @throws IOException when EPMD cannot be reached
     */
    Optional<NodeInfo> epmd() throws IOException;
  }
}
