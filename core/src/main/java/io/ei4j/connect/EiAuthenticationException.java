package io.ei4j.connect;

/**
 * The peer and this node do not share a cookie: the challenge digest did not match
 * (reported by the side that checked it), or the peer closed the connection instead of
 * acknowledging our reply (how the other side learns it). The cookie itself is never part
 * of the message.
 */
public class EiAuthenticationException extends EiHandshakeException {
  private static final long serialVersionUID = 1L;

  public EiAuthenticationException(String message) {
    super(message, null, null);
  }

  public EiAuthenticationException(String message, Throwable cause) {
    super(message, null, cause);
  }
}
