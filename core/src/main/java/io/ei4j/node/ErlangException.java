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

    /** The class as Erlang names it: {@code error}, {@code exit} or {@code throw}. */
    public ErlAtom atom() {
      return atom;
    }
  }

  private final Kind kind;
  private final transient ErlTerm reason;

  private ErlangException(Kind kind, ErlTerm reason) {
    super(kind.atom().name() + ":" + reason);
    this.kind = kind;
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** {@code erlang:error(Reason)}. */
  public static ErlangException error(ErlTerm reason) {
    return new ErlangException(Kind.ERROR, reason);
  }

  /** {@code erlang:exit(Reason)}. */
  public static ErlangException exit(ErlTerm reason) {
    return new ErlangException(Kind.EXIT, reason);
  }

  /** {@code erlang:throw(Value)}. */
  public static ErlangException throwing(ErlTerm value) {
    return new ErlangException(Kind.THROW, value);
  }

  /** The exception's class. */
  public Kind kind() {
    return kind;
  }

  /** The reason (or thrown value). */
  public ErlTerm reason() {
    return reason;
  }
}
