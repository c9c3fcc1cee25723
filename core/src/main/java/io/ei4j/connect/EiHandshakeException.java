package io.ei4j.connect;

/**
 * The distribution handshake failed for a protocol reason: the peer answered with a
 * status other than {@code ok} ({@link #status()} names it), sent a malformed or
 * unexpected message, or lacks capabilities this node requires.
 */
public class EiHandshakeException extends EiException {
  private static final long serialVersionUID = 1L;

  private final String status;

  public EiHandshakeException(String message) {
    this(message, null, null);
  }

  public EiHandshakeException(String message, String status, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  /**
   * The status the acceptor sent ({@code nok}, {@code not_allowed}, {@code alive},
   * {@code named:...}, or anything else it said), or null when the failure was not a
   * status.
   */
  public String status() {
    return status;
  }
}
