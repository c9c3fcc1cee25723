package io.ei4j.term;

import java.util.Objects;

/**
 * An external fun, {@code fun Module:Function/Arity} ({@code EXPORT_EXT}). Export funs order
 * after all closures, by module, then function, then arity.
 */
public final class ErlExportFun implements ErlTerm {
  private final ErlAtom module;
  private final ErlAtom function;
  private final int arity;

  private ErlExportFun(ErlAtom module, ErlAtom function, int arity) {
    this.module = module;
    this.function = function;
    this.arity = arity;
  }

  /**
   * {@code fun module:function/arity}.
   *
   * @throws IllegalArgumentException unless arity is in 0..255
   */
  public static ErlExportFun of(ErlAtom module, ErlAtom function, int arity) {
    if (arity < 0 || arity > 255) {
      throw new IllegalArgumentException("fun arity must be 0..255, got " + arity);
    }
    return new ErlExportFun(
        Objects.requireNonNull(module, "module"), Objects.requireNonNull(function, "function"), arity);
  }

  /** The module. */
  public ErlAtom module() {
    return module;
  }

  /** The function name. */
  public ErlAtom function() {
    return function;
  }

  /** The arity, 0..255. */
  public int arity() {
    return arity;
  }

  @Override
  public boolean equals(Object o) {
    return o == this
        || (o instanceof ErlExportFun f
            && f.arity == arity
            && f.module.equals(module)
            && f.function.equals(function));
  }

  @Override
  public int hashCode() {
    return (module.hashCode() * 31 + function.hashCode()) * 31 + arity;
  }

  /** {@code fun lists:map/2}, which is also Erlang syntax. */
  @Override
  public String toString() {
    return TermPrinter.print(this);
  }
}
