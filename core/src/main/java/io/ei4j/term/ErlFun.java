package io.ei4j.term;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A closure ({@code NEW_FUN_EXT}): a fun defined in a module's code, with the values of the
 * variables it captured.
 *
 * <p>Fields, as in {@code NEW_FUN_EXT}: {@code module}, {@code arity}, {@code uniq} (the 16-byte
 * MD5 of the module's code), {@code index} (the fun's number in the module), {@code oldIndex}
 * and {@code oldUniq} (the older identification, still sent), {@code pid} (the process that
 * created it) and {@code freeVars}.
 *
 * <p>Equality and order follow OTP 25: the creator pid takes no part (two copies of a fun made
 * by different processes are {@code =:=}). Closures order before export funs, by module, then
 * old index, then old uniq, then the number of free variables, then the free variables.
 */
public final class ErlFun implements ErlTerm {
  private final ErlAtom module;
  private final int arity;
  private final byte[] uniq;
  private final int index;
  private final int oldIndex;
  private final int oldUniq;
  private final ErlPid pid;
  private final ErlTerm[] freeVars;

  private ErlFun(
      ErlAtom module,
      int arity,
      byte[] uniq,
      int index,
      int oldIndex,
      int oldUniq,
      ErlPid pid,
      ErlTerm[] freeVars) {
    this.module = module;
    this.arity = arity;
    this.uniq = uniq;
    this.index = index;
    this.oldIndex = oldIndex;
    this.oldUniq = oldUniq;
    this.pid = pid;
    this.freeVars = freeVars;
  }

  /**
   * A closure with these fields; arrays and lists are copied.
   *
   * @throws IllegalArgumentException unless {@code arity} is 0..255 and {@code uniq} has 16
   *     bytes
   */
  public static ErlFun of(
      ErlAtom module,
      int arity,
      byte[] uniq,
      int index,
      int oldIndex,
      int oldUniq,
      ErlPid pid,
      List<? extends ErlTerm> freeVars) {
    if (arity < 0 || arity > 255) {
      throw new IllegalArgumentException("fun arity must be 0..255, got " + arity);
    }
    if (uniq.length != 16) {
      throw new IllegalArgumentException("uniq must be 16 bytes, got " + uniq.length);
    }
    ErlTerm[] free = freeVars.toArray(new ErlTerm[0]);
    for (ErlTerm t : free) {
      Objects.requireNonNull(t, "free variable");
    }
    return new ErlFun(
        Objects.requireNonNull(module, "module"),
        arity,
        uniq.clone(),
        index,
        oldIndex,
        oldUniq,
        Objects.requireNonNull(pid, "pid"),
        free);
  }

  static ErlFun ofTrusted(
      ErlAtom module,
      int arity,
      byte[] uniq,
      int index,
      int oldIndex,
      int oldUniq,
      ErlPid pid,
      ErlTerm[] freeVars) {
    return new ErlFun(module, arity, uniq, index, oldIndex, oldUniq, pid, freeVars);
  }

  /** The module the fun's code is in. */
  public ErlAtom module() {
    return module;
  }

  /** The number of arguments the fun takes, 0..255. */
  public int arity() {
    return arity;
  }

  /** A copy of the 16-byte MD5 of the module's code. */
  public byte[] uniq() {
    return uniq.clone();
  }

  /** The fun's index in the module (unsigned 32-bit). */
  public int index() {
    return index;
  }

  /** The fun's old-style index. */
  public int oldIndex() {
    return oldIndex;
  }

  /** The fun's old-style uniq value. */
  public int oldUniq() {
    return oldUniq;
  }

  /** The process that created the fun. */
  public ErlPid pid() {
    return pid;
  }

  /** The captured values, as an unmodifiable list. */
  public List<ErlTerm> freeVars() {
    return Collections.unmodifiableList(Arrays.asList(freeVars));
  }

  byte[] uniqArray() {
    return uniq;
  }

  ErlTerm[] freeVarArray() {
    return freeVars;
  }

  @Override
  public boolean equals(Object o) {
    return o == this
        || (o instanceof ErlFun f
            && f.arity == arity
            && f.index == index
            && f.oldIndex == oldIndex
            && f.oldUniq == oldUniq
            && f.module.equals(module)
            && Arrays.equals(f.uniq, uniq)
            && Arrays.equals(f.freeVars, freeVars));
  }

  @Override
  public int hashCode() {
    return ((module.hashCode() * 31 + index) * 31 + oldUniq) * 31 + Arrays.hashCode(freeVars);
  }

  /** {@code #Fun<...>} with every field; see {@link Terms#print}. */
  @Override
  public String toString() {
    return TermPrinter.print(this);
  }
}
