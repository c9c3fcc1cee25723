package io.ei4j.connect;

/**
 * The distribution handshake failed for a protocol reason: the peer answered with a
 * status other than {@code ok} ({@link #status()} names it), sent a malformed or
 * unexpected message, or lacks capabilities this node requires.
 */
public class EiHandshakeException extends EiException {
  private static final long serialVersionUID = 1L;

  private final String statusText;

  public EiHandshakeException(String message) {
    this(message, null, null);
  }

  /**
   * @param statusText the status as it travelled (see {@link #statusText()}), or null when
   *     the failure was not a status
   */
  public EiHandshakeException(String message, String statusText, Throwable cause) {
    super(message, cause);
    this.statusText = statusText;
  }

  /**
   * The status that ended the handshake: the one the peer sent ({@link HandshakeStatus#NOK},
   * {@link HandshakeStatus#NOT_ALLOWED}, {@link HandshakeStatus#ALIVE} that this side
   * withdrew, {@link HandshakeStatus#NAMED}, or {@link HandshakeStatus#UNKNOWN} for
   * anything else), or the one this node's acceptor sent; null when the failure was not a
   * status.
   *
   * @return the status, or null
   */
  public HandshakeStatus status() {
    return statusText == null ? null : HandshakeStatus.fromWire(statusText);
  }

  /**
   * The status as it travelled, for one that {@link HandshakeStatus} does not name
   * ({@link HandshakeStatus#UNKNOWN}) or a {@code named:} status with its name.
   *
   * @return the ASCII text after the {@code 's'} tag, or null when the failure was not a status
   */
  public String statusText() {
    return statusText;
  }
}
