package io.ei4j.node;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.util.Objects;

/**
 * A {@link Node#erpc} call that did not return a value: the exception {@code erpc:call}
 * raises in Erlang, with its class, reason and (for an error) the remote stack trace.
 *
 * <ul>
 *   <li>{@link Failure#RAISED}: the function raised; {@link #kind()} is its class,
 *       {@link #reason()} its reason (or thrown value), {@link #stacktrace()} the stack of an
 *       error. Erlang raises {@code error({exception, Reason, Stack})},
 *       {@code exit({exception, Reason})} or {@code throw(Value)}.
 *   <li>{@link Failure#SIGNAL}: the process running the call was killed by an exit signal
 *       ({@code exit({signal, Reason})}).
 *   <li>{@link Failure#ERPC}: the call itself failed: {@code timeout}, {@code noconnection},
 *       {@code notsup} (the peer cannot take spawn requests), {@code system_limit}
 *       ({@code error({erpc, Reason})}).
 * </ul>
 * {@link #erlangReason()} gives the term as {@code erpc:call} raises it.
 */
public final class ErpcException extends Exception {
  private static final long serialVersionUID = 1L;
  private static final ErlAtom EXCEPTION = ErlAtom.of("exception");
  private static final ErlAtom SIGNAL_ATOM = ErlAtom.of("signal");
  private static final ErlAtom ERPC = ErlAtom.of("erpc");

  /** How the call failed. */
  public enum Failure {
    /** The function raised an exception. */
    RAISED,
    /** The process running the function was killed by an exit signal. */
    SIGNAL,
    /** The call could not be made or completed (timeout, noconnection, notsup, ...). */
    ERPC
  }

  private final Failure failure;
  private final ErlangException.Kind kind;
  private final transient ErlTerm reason;
  private final transient ErlList stacktrace;

  ErpcException(Failure failure, ErlangException.Kind kind, ErlTerm reason, ErlList stacktrace, String call) {
    super(call + " failed: " + describe(failure, kind, reason));
    this.failure = failure;
    this.kind = kind;
    this.reason = Objects.requireNonNull(reason, "reason");
    this.stacktrace = stacktrace == null ? ErlList.NIL : stacktrace;
  }

  private static String describe(Failure failure, ErlangException.Kind kind, ErlTerm reason) {
    return switch (failure) {
      case RAISED -> kind.atom().name() + ":" + reason;
      case SIGNAL -> "killed by an exit signal " + reason;
      case ERPC -> "{erpc, " + reason + "}";
    };
  }

  /**
   * How the call failed.
   *
   * @return raised, signal or erpc
   */
  public Failure failure() {
    return failure;
  }

  /**
   * The class of the exception Erlang's {@code erpc:call} raises for this failure.
   *
   * @return error, exit or throw
   */
  public ErlangException.Kind kind() {
    return kind;
  }

  /**
   * The function's reason (or thrown value), the signal's reason, or erpc's own reason
   * ({@code timeout}, {@code noconnection}, {@code notsup}, ...).
   *
   * @return the reason
   */
  public ErlTerm reason() {
    return reason;
  }

  /**
   * The remote stack trace of an error raised by the function.
   *
   * @return the stack, {@code []} when there is none
   */
  public ErlList stacktrace() {
    return stacktrace;
  }

  /**
   * The reason as {@code erpc:call} raises it: {@code {exception, Reason, Stack}},
   * {@code {exception, Reason}}, the thrown value, {@code {signal, Reason}} or
   * {@code {erpc, Reason}}.
   *
   * @return the Erlang reason
   */
  public ErlTerm erlangReason() {
    return switch (failure) {
      case RAISED -> switch (kind) {
        case ERROR -> ErlTuple.of(EXCEPTION, reason, stacktrace);
        case EXIT -> ErlTuple.of(EXCEPTION, reason);
        case THROW -> reason;
      };
      case SIGNAL -> ErlTuple.of(SIGNAL_ATOM, reason);
      case ERPC -> ErlTuple.of(ERPC, reason);
    };
  }

  /**
   * Whether no result came within the timeout; the remote process was killed.
   *
   * @return true for {@code {erpc, timeout}}
   */
  public boolean isTimeout() {
    return failure == Failure.ERPC && ErlAtom.of("timeout").equals(reason);
  }

  /**
   * Whether the peer could not be reached or the connection went down during the call.
   *
   * @return true for {@code {erpc, noconnection}}
   */
  public boolean isNoConnection() {
    return failure == Failure.ERPC && Mailbox.NOCONNECTION.equals(reason);
  }
}
