package io.ei4j.node;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlTerm;

/**
 * A {@link GenServer#call} got no reply: the server was not there ({@code noproc}), its
 * node could not be reached or went down ({@code noconnection}), it exited before
 * replying (its exit reason), or no reply came in time ({@code timeout}). These are the
 * reasons with which {@code gen_server:call/3} exits in Erlang.
 */
public final class CallException extends Exception {
  private static final long serialVersionUID = 1L;
  private static final ErlAtom TIMEOUT = ErlAtom.of("timeout");

  private final transient ErlTerm reason;

  /**
   * @param message what failed, for humans
   * @param reason the reason as {@code gen_server:call} would exit with it
   */
  public CallException(String message, ErlTerm reason) {
    super(message);
    this.reason = reason;
  }

  /**
   * Why the call failed.
   *
   * @return {@code timeout}, {@code noproc}, {@code noconnection} or the server's exit reason
   */
  public ErlTerm reason() {
    return reason;
  }

  /**
   * Whether no reply came within the timeout; the server may still be working on the call.
   *
   * @return true for the reason {@code timeout}
   */
  public boolean isTimeout() {
    return TIMEOUT.equals(reason);
  }
}
