package io.ei4j.node;

import io.ei4j.term.ErlTerm;
import java.util.List;

/**
 * A Java function that Erlang calls as {@code Module:Function/Arity} on a {@link Node}:
 * through {@code rpc:call}, {@code erpc:call}/{@code cast}, or {@code spawn(Node, M, F, A)}
 * (see {@link Node#registerFunction}).
 *
 * <p>Each call runs on its own thread as a new process with a fresh {@link Mailbox}
 * ({@code self}), which the caller may have linked to or be monitoring; the mailbox exits
 * when the function returns or throws, and the links and monitors fire then. Throw an
 * {@link ErlangException} to raise an {@code error}, {@code exit} or {@code throw}; any
 * other exception becomes an {@code error} whose reason names the Java exception.
 */
@FunctionalInterface
public interface ErlangFunction {
  /**
   * Runs the function.
   *
   * @param self the process running the call; it can receive messages sent to its pid
   * @param args the arguments, as many as the registered arity
   * @return the value returned to the caller (null stands for {@code undefined})
   * @throws Exception an {@link ErlangException} to raise that Erlang exception, any other
   *     to raise an {@code error}
   */
  ErlTerm apply(Mailbox self, List<ErlTerm> args) throws Exception;
}
