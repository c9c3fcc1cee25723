package io.ei4j.node;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlTerm;
import java.util.Objects;

/**
 * Thrown by an {@link ErlangFunction} to raise an Erlang exception of a chosen class in the
 * caller: {@code erpc:call} re-raises it as {@code error({exception, Reason, Stack})},
 * {@code exit({exception, Reason})} or {@code throw(Reason)}, and {@code rpc:call} turns
 * the first two into {@code {badrpc, {'EXIT', ...}}} and returns a thrown value as is.
 * Any other exception from a Java function is raised as an {@code error}.
 */
public final class ErlangException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The class of an Erlang exception. */
  public enum Kind {
    /** {@code erlang:error/1}. */
    ERROR("error"),
    /** {@code erlang:exit/1}. */
    EXIT("exit"),
    /** {@code erlang:throw/1}. */
    THROW("throw");

    private final ErlAtom atom;

    Kind(String name) {
      this.atom = ErlAtom.of(name);
    }

    /**
     * The class as Erlang names it.
     *
     * @return {@code error}, {@code exit} or {@code throw}
     */
    public ErlAtom atom() {
      return atom;
    }
  }

  /** The exception's class. */
  private final Kind kind;
  /** The reason; a term, not serializable. */
  private final transient ErlTerm reason;

  private ErlangException(Kind kind, ErlTerm reason) {
    super(kind.atom().name() + ":" + reason);
    this.kind = kind;
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /**
   * {@code erlang:error(Reason)}.
   *
   * @param reason the error reason
   * @return the exception to throw
   */
  public static ErlangException error(ErlTerm reason) {
    return new ErlangException(Kind.ERROR, reason);
  }

  /**
   * {@code erlang:exit(Reason)}.
   *
   * @param reason the exit reason
   * @return the exception to throw
   */
  public static ErlangException exit(ErlTerm reason) {
    return new ErlangException(Kind.EXIT, reason);
  }

  /**
   * {@code erlang:throw(Value)}.
   *
   * @param value the thrown value
   * @return the exception to throw
   */
  public static ErlangException throwing(ErlTerm value) {
    return new ErlangException(Kind.THROW, value);
  }

  /**
   * The exception's class.
   *
   * @return error, exit or throw
   */
  public Kind kind() {
    return kind;
  }

  /**
   * The reason.
   *
   * @return the error or exit reason, or the thrown value
   */
  public ErlTerm reason() {
    return reason;
  }
}
