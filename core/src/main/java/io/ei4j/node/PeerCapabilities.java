package io.ei4j.node;

import io.ei4j.connect.EiConnection;
import io.ei4j.internal.dist.DistFlags;

/**
 * What a connected peer advertised in its handshake ({@code DFLAG_*}), in the one place
 * that decides which signals it may be sent and what to do instead, as an Erlang node does
 * for the same peer:
 * <ul>
 *   <li>no {@code DFLAG_DIST_MONITOR} (JInterface, whose flags are {@code 0x407070f94}, closes
 *       the connection on {@code MONITOR_P}), or a monitor by name without
 *       {@code DFLAG_DIST_MONITOR_NAME}: the monitor stays local and fires
 *       {@code 'DOWN'} with {@code noconnection} only when the connection goes; no
 *       {@code DEMONITOR_P} either;
 *   <li>no {@code DFLAG_UNLINK_ID}: the old {@code UNLINK} instead of {@code UNLINK_ID};
 *   <li>no {@code DFLAG_ALIAS}: a message to an alias is dropped (the peer cannot have made
 *       one);
 *   <li>no {@code DFLAG_SPAWN}: a spawn request fails with {@code notsup}.
 * </ul>
 * Fragments and atom-cache headers are the connection's own business: it never sends
 * either.
 *
 * @param flags the peer's distribution flags
 */
record PeerCapabilities(long flags) {
  static PeerCapabilities of(EiConnection c) {
    return new PeerCapabilities(c.peerFlags());
  }

  /** Whether a monitor of a process (by name when {@code byName}) may be sent as {@code MONITOR_P}. */
  boolean remoteMonitor(boolean byName) {
    return has(DistFlags.DIST_MONITOR) && (!byName || has(DistFlags.DIST_MONITOR_NAME));
  }

  /** Whether {@code UNLINK_ID} may be sent; else the old {@code UNLINK}. */
  boolean unlinkId() {
    return has(DistFlags.UNLINK_ID);
  }

  /** Whether {@code ALIAS_SEND} may be sent. */
  boolean aliases() {
    return has(DistFlags.ALIAS);
  }

  /** Whether {@code SPAWN_REQUEST} may be sent. */
  boolean spawn() {
    return has(DistFlags.SPAWN);
  }

  private boolean has(long flag) {
    return (flags & flag) != 0;
  }
}
