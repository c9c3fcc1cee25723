package io.ei4j.internal.dist;

import java.io.IOException;

/**
 * A distribution header ({@code 131 68}, {@code 131 69} or {@code 131 70}) that breaks the
 * protocol: truncated, referring to an atom cache entry that was never filled, a fragment
 * out of sequence, or a message above the size limits. The stream cannot be trusted after
 * it, so the connection that read it goes down.
 */
public final class DistHeaderException extends IOException {
  private static final long serialVersionUID = 1L;

  /** An error described by {@code message}. */
  public DistHeaderException(String message) {
    super(message);
  }

  /** An error described by {@code message}, caused by {@code cause}. */
  public DistHeaderException(String message, Throwable cause) {
    super(message, cause);
  }
}
