package io.ei4j.epmd;

import java.io.IOException;

/**
 * A failed EPMD request. {@link #reason()} says what kind of failure it was, so a caller
 * can tell "no EPMD there" from "EPMD said no" from "EPMD sent garbage" without parsing
 * the message.
 */
public class EpmdException extends IOException {
  private static final long serialVersionUID = 1L;

  /** What went wrong. */
  public enum Reason {
    /** No EPMD could be reached: connection refused, host unknown, network down. */
    UNREACHABLE,
    /** EPMD did not answer, or did not finish answering, within the timeout. */
    TIMEOUT,
    /**
     * EPMD answered an {@code ALIVE2_REQ} with a non-zero result, typically because the
     * name is already registered; {@link #resultCode()} holds the result.
     */
    REGISTRATION_REFUSED,
    /** EPMD closed the connection early or sent bytes that do not follow the protocol. */
    PROTOCOL,
    /** Any other I/O failure while talking to EPMD. */
    IO
  }

  /** @serial the kind of failure, never null */
  private final Reason reason;

  /** @serial EPMD's result byte, or -1 */
  private final int resultCode;

  /**
   * A failure of the given kind, without an EPMD result code.
   *
   * @param reason what kind of failure this is, not null
   * @param message what was asked of which EPMD and what went wrong
   */
  public EpmdException(Reason reason, String message) {
    this(reason, message, -1, null);
  }

  /**
   * A failure of the given kind caused by another exception, without an EPMD result code.
   *
   * @param reason what kind of failure this is, not null
   * @param message what was asked of which EPMD and what went wrong
   * @param cause the underlying failure, or null
   */
  public EpmdException(Reason reason, String message, Throwable cause) {
    this(reason, message, -1, cause);
  }

  /**
   * A failure of the given kind that carries the result byte EPMD sent.
   *
   * @param reason what kind of failure this is, not null
   * @param message what was asked of which EPMD and what went wrong
   * @param resultCode EPMD's result byte (0..255), or -1 when there is none
   * @param cause the underlying failure, or null
   */
  public EpmdException(Reason reason, String message, int resultCode, Throwable cause) {
    super(message, cause);
    if (reason == null) {
      throw new IllegalArgumentException("reason is null");
    }
    this.reason = reason;
    this.resultCode = resultCode;
  }

  /**
   * The kind of failure.
   *
   * @return the reason, never null
   */
  public Reason reason() {
    return reason;
  }

  /**
   * The result byte of EPMD's reply, for {@link Reason#REGISTRATION_REFUSED}.
   *
   * @return the result (0..255), or -1 when the failure has none
   */
  public int resultCode() {
    return resultCode;
  }

  /**
   * Whether EPMD did not answer in time.
   *
   * @return true when the reason is {@link Reason#TIMEOUT}
   */
  public boolean isTimeout() {
    return reason == Reason.TIMEOUT;
  }
}
