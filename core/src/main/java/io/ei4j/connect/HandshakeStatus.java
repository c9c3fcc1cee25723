package io.ei4j.connect;

/**
 * The status an acceptor sends in the distribution handshake ({@code send_status} of
 * {@code erl_dist_protocol}), after it has read the initiator's name. An acceptor chooses one
 * in {@link EiConnectionHandler#acceptStatus}; a refused handshake reports it in
 * {@link EiHandshakeException#status()}.
 */
public enum HandshakeStatus {
  /** Go on with the handshake. */
  OK("ok"),
  /** Go on; the acceptor abandons its own simultaneous attempt to connect to the initiator. */
  OK_SIMULTANEOUS("ok_simultaneous"),
  /** Refused: the acceptor's own simultaneous attempt wins (Erlang also sends it for a name it does not take). */
  NOK("nok"),
  /** Refused: the acceptor does not take connections from the initiator. */
  NOT_ALLOWED("not_allowed"),
  /** A connection from the initiator exists already: the initiator answers whether the new one replaces it. */
  ALIVE("alive"),
  /**
   * Go on under the dynamic name that follows the {@code named:} prefix, the answer to
   * {@link DistFlag#NAME_ME}; ei4j never asks for one, and never hands one out.
   */
  NAMED("named:"),
  /**
   * A status this library does not know, received from a peer; it cannot be sent.
   * {@link EiHandshakeException#statusText()} holds what the peer sent.
   */
  UNKNOWN(null);

  private final String wire;

  HandshakeStatus(String wire) {
    this.wire = wire;
  }

  /**
   * The status as it travels after the {@code 's'} tag: {@code "ok"}, {@code "nok"} and so
   * on; for {@link #NAMED} only the {@code "named:"} prefix.
   *
   * @return the ASCII text, or null for {@link #UNKNOWN}, which has none
   */
  public String wire() {
    return wire;
  }

  /**
   * Whether an acceptor may send this status from {@link EiConnectionHandler#acceptStatus}:
   * all but {@link #NAMED}, which only answers {@link DistFlag#NAME_ME}, and {@link #UNKNOWN}.
   *
   * @return true for {@link #OK}, {@link #OK_SIMULTANEOUS}, {@link #NOK},
   *     {@link #NOT_ALLOWED} and {@link #ALIVE}
   */
  public boolean acceptorMaySend() {
    return this != NAMED && this != UNKNOWN;
  }

  /**
   * The status a peer sent: an exact match of one of the wire texts, {@link #NAMED} for
   * anything that starts with {@code named:}, and {@link #UNKNOWN} for the rest.
   *
   * @param text the status text after the {@code 's'} tag
   * @return the status, never null
   */
  public static HandshakeStatus fromWire(String text) {
    for (HandshakeStatus s : values()) {
      if (s.wire != null && s != NAMED && s.wire.equals(text)) {
        return s;
      }
    }
    return text != null && text.startsWith(NAMED.wire) ? NAMED : UNKNOWN;
  }
}
