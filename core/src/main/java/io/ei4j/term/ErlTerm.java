package io.ei4j.term;

/**
 * An Erlang term: an immutable value of one of Erlang's data types.
 *
 * <p>Every implementation is an immutable final class, safe to share between threads.
 *
 * <ul>
 *   <li>{@link Object#equals equals} and {@link Object#hashCode hashCode} follow Erlang's exact equality {@code =:=}
 *       (as in OTP 25): {@code 1} and {@code 1.0} are different terms, two references whose
 *       id lists differ only in trailing zero words are equal, and a closure's creator pid
 *       does not take part.
 *   <li>{@link #compareTo} is Erlang's term order
 *       (number &lt; atom &lt; reference &lt; fun &lt; port &lt; pid &lt; tuple &lt; map &lt; nil
 *       &lt; list &lt; bitstring), refined into a total order consistent with {@code equals}:
 *       where Erlang's {@code <} and {@code >} distinguish two terms, {@code compareTo} has the
 *       same sign; where only {@code ==} holds (an integer and a float of the same value, also
 *       nested) the term that holds an integer at the first such difference sorts first, as
 *       in map key order.
 *   <li>{@link Object#toString toString} prints the term in Erlang syntax, like {@code io:format("~w")};
 *       {@link Terms#parse} reads it back (see {@link Terms#print} for the forms Erlang has
 *       no literal syntax for).
 * </ul>
 *
 * <p>Decoding, encoding and printing work at any nesting depth. {@code equals},
 * {@code hashCode} and {@code compareTo} recurse: they are measured at over 6,000 levels on a
 * 1 MiB thread stack. The decoder's default has no depth limit (Erlang has none), so code that
 * compares or hashes terms from untrusted peers at greater depths needs a larger stack, or a
 * {@link DecodeLimits#maxDepth()} on the node.
 */
public sealed interface ErlTerm extends Comparable<ErlTerm>
    permits ErlAtom, ErlInteger, ErlFloat, ErlBinary, ErlTuple, ErlList, ErlMap, ErlPid,
        ErlPort, ErlRef, ErlFun, ErlExportFun {

  /** Erlang's term order refined by exact equality; see the interface documentation. */
  @Override
  default int compareTo(ErlTerm other) {
    return TermOrder.compare(this, other);
  }
}
