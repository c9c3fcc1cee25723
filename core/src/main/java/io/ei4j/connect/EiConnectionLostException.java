package io.ei4j.connect;

/**
 * An established connection is gone: the peer closed it or died, the transport failed,
 * the peer stayed silent for longer than the tick time ({@code net_ticktime}), or this
 * side closed it. {@link #getCause()} has the underlying failure when there is one.
 */
public class EiConnectionLostException extends EiException {
  private static final long serialVersionUID = 1L;

  public EiConnectionLostException(String message) {
    super(message);
  }

  public EiConnectionLostException(String message, Throwable cause) {
    super(message, cause);
  }
}
