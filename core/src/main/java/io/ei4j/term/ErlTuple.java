package io.ei4j.term;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/** An Erlang tuple of any arity (including the empty tuple {@code {}}). */
public final class ErlTuple implements ErlTerm {
  private static final ErlTerm[] NONE = new ErlTerm[0];

  /** The empty tuple {@code {}}. */
  public static final ErlTuple EMPTY = new ErlTuple(NONE);

  private final ErlTerm[] elems;
  /**
   * The last element (null for {@code {}}), held in a field of its own so that the encoder,
   * which continues with each container's last element, follows one reference per level of a
   * deep term instead of three (array, its length, the element). Free in memory: the object
   * is 24 bytes with or without it (compressed references).
   */
  private final ErlTerm last;
  private int hash;

  private ErlTuple(ErlTerm[] elems) {
    this.elems = elems;
    this.last = elems.length == 0 ? null : elems[elems.length - 1];
  }

  /** A tuple of these elements (the array is copied). */
  public static ErlTuple of(ErlTerm... elems) {
    if (elems.length == 0) {
      return EMPTY;
    }
    ErlTerm[] copy = elems.clone();
    for (int i = 0; i < copy.length; i++) {
      Objects.requireNonNull(copy[i], "tuple element");
    }
    return new ErlTuple(copy);
  }

  /** A tuple of these elements. */
  public static ErlTuple of(List<? extends ErlTerm> elems) {
    return of(elems.toArray(NONE));
  }

  /** Made by the decoder, which owns the non-null array. */
  static ErlTuple ofTrusted(ErlTerm[] elems) {
    return elems.length == 0 ? EMPTY : new ErlTuple(elems);
  }

  /** The number of elements. */
  public int arity() {
    return elems.length;
  }

  /**
   * The element at {@code index}, counting from 0 (Erlang's {@code element/2} counts from 1).
   *
   * @throws IndexOutOfBoundsException if there is no such element
   */
  public ErlTerm get(int index) {
    return elems[Objects.checkIndex(index, elems.length)];
  }

  /** The elements, as an unmodifiable list. */
  public List<ErlTerm> elements() {
    return Collections.unmodifiableList(Arrays.asList(elems));
  }

  ErlTerm[] array() {
    return elems;
  }

  /** The last element, or null for {@code {}}. */
  ErlTerm lastOrNull() {
    return last;
  }

  @Override
  public boolean equals(Object o) {
    return o == this
        || (o instanceof ErlTuple t && t.hashCode() == hashCode() && Arrays.equals(t.elems, elems));
  }

  @Override
  public int hashCode() {
    int h = hash;
    if (h == 0) {
      h = Arrays.hashCode(elems) * 31 + 7;
      hash = h;
    }
    return h;
  }

  /** Erlang syntax: {@code {ok,42}}. */
  @Override
  public String toString() {
    return TermPrinter.print(this);
  }
}
