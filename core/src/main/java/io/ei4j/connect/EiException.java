package io.ei4j.connect;

import java.io.IOException;

/**
 * A failure of the distribution protocol: the base of what {@link EiNode},
 * {@link EiListener} and {@link EiConnection} throw besides the transport's own
 * {@link io.ei4j.api.ErrnoException}s (a timeout is always an {@code ErrnoException} with
 * {@link io.ei4j.api.Errno#ETIMEDOUT}).
 */
public class EiException extends IOException {
  private static final long serialVersionUID = 1L;

  public EiException(String message) {
    super(message);
  }

  public EiException(String message, Throwable cause) {
    super(message, cause);
  }
}
