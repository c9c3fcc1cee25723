package io.ei4j.node;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlExportFun;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.util.List;

/**
 * The function a remote call names, with {@code erlang:apply/2} of an export fun and
 * {@code erlang:apply/3} resolved to the function they apply: {@code erpc:call(Node, Fun)}
 * arrives as {@code erlang:apply(fun M:F/A, [])}, and a Java node has no {@code erlang}
 * module to run it. Shared by spawn requests and {@link RexServer}, so both see the same
 * functions.
 *
 * @param module the module
 * @param function the function
 * @param args the arguments, a proper list
 */
record CallTarget(ErlAtom module, ErlAtom function, ErlList args) {
  static final ErlAtom ERLANG = ErlAtom.of("erlang");
  private static final ErlAtom APPLY = ErlAtom.of("apply");
  private static final ErlAtom NODE = ErlAtom.of("node");
  private static final ErlAtom BADARITY = ErlAtom.of("badarity");
  /** How many nested applies are unwrapped; a deeper chain stays an (undefined) apply. */
  private static final int MAX_UNWRAP = 8;

  /**
   * The call {@code m:f(a)} with applies unwrapped. An apply whose fun's arity does not
   * match its argument count stays {@code erlang:apply/2}, which {@link #builtin()} answers
   * with Erlang's {@code badarity} error.
   */
  static CallTarget of(ErlAtom m, ErlAtom f, ErlList a) {
    for (int i = 0; i < MAX_UNWRAP && ERLANG.equals(m) && APPLY.equals(f) && a.isProper(); i++) {
      List<ErlTerm> e = a.elements();
      if (e.size() == 2 && e.get(0) instanceof ErlExportFun fun && e.get(1) instanceof ErlList args
          && args.isProper() && args.size() == fun.arity()) {
        m = fun.module();
        f = fun.function();
        a = args;
      } else if (e.size() == 3 && e.get(0) instanceof ErlAtom m2 && e.get(1) instanceof ErlAtom f2
          && e.get(2) instanceof ErlList args && args.isProper()) {
        m = m2;
        f = f2;
        a = args;
      } else {
        break;
      }
    }
    return new CallTarget(m, f, a);
  }

  /**
   * The functions every node answers without registration: {@code erlang:node/0}, which
   * tools call to check that a node is there, and {@code erlang:apply/2} of an export fun
   * with the wrong number of arguments, which fails as in Erlang with
   * {@code error:{badarity, {Fun, Args}}}. A registered function of the same name wins.
   *
   * @return the function, or null
   */
  ErlangFunction builtin() {
    if (ERLANG.equals(module) && NODE.equals(function) && args.size() == 0) {
      return (self, a) -> self.node().nodeAtom();
    }
    if (ERLANG.equals(module) && APPLY.equals(function) && args.isProper() && args.size() == 2) {
      List<ErlTerm> e = args.elements();
      if (e.get(0) instanceof ErlExportFun fun && e.get(1) instanceof ErlList funArgs && funArgs.isProper()
          && funArgs.size() != fun.arity()) {
        return (self, a) -> {
          throw ErlangException.error(ErlTuple.of(BADARITY, ErlTuple.of(fun, funArgs)));
        };
      }
    }
    return null;
  }
}
