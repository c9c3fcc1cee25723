package io.ei4j.term;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An Erlang list: the empty list {@link #NIL}, a proper list, or an improper list (one whose
 * tail is not a list, as in {@code [1,2|3]}).
 *
 * <p>A list is held as its elements plus its final tail, flattened: {@code improper([1],
 * [2|3])} is {@code [1,2|3]} and {@code improper([1], [2])} is the proper list {@code [1,2]}, so
 * equal lists have equal representations. Erlang strings are lists of code points: {@link
 * #ofString} builds one and {@link #asString} reads one back; {@code STRING_EXT} decodes to a
 * list of small integers.
 */
public final class ErlList implements ErlTerm {
  private static final ErlTerm[] NONE = new ErlTerm[0];

  /** The empty list {@code []}. */
  public static final ErlList NIL = new ErlList(NONE, null);

  private final ErlTerm[] elems;
  /** Null for a proper list; never a list. */
  private final ErlTerm tail;

  private int hash;

  private ErlList(ErlTerm[] elems, ErlTerm tail) {
    this.elems = elems;
    this.tail = tail;
  }

  /** The proper list of these elements (the array is copied). */
  public static ErlList of(ErlTerm... elems) {
    return ofTrusted(checked(elems.clone()), null);
  }

  /** The proper list of these elements. */
  public static ErlList of(List<? extends ErlTerm> elems) {
    return ofTrusted(checked(elems.toArray(NONE)), null);
  }

  /**
   * The list {@code [E1, ..., En | tail]}. A list tail is flattened in, so the result is proper
   * when {@code tail} is a proper list.
   *
   * @throws IllegalArgumentException if {@code elems} is empty and {@code tail} is not a list
   *     (that term is {@code tail} itself, not a list)
   */
  public static ErlList improper(List<? extends ErlTerm> elems, ErlTerm tail) {
    Objects.requireNonNull(tail, "tail");
    ErlTerm[] head = checked(elems.toArray(NONE));
    if (tail instanceof ErlList l) {
      if (l.elems.length == 0) {
        return ofTrusted(head, null);
      }
      ErlTerm[] all = Arrays.copyOf(head, head.length + l.elems.length);
      System.arraycopy(l.elems, 0, all, head.length, l.elems.length);
      return ofTrusted(all, l.tail);
    }
    if (head.length == 0) {
      throw new IllegalArgumentException("an improper list needs at least one element");
    }
    return new ErlList(head, tail);
  }

  /** The list of the code points of {@code s}, as an Erlang string literal reads. */
  public static ErlList ofString(String s) {
    int[] cps = s.codePoints().toArray();
    ErlTerm[] elems = new ErlTerm[cps.length];
    for (int i = 0; i < cps.length; i++) {
      elems[i] = ErlInteger.of(cps[i]);
    }
    return ofTrusted(elems, null);
  }

  /** Made by the decoder: elements non-null and owned, tail null or a non-list term. */
  static ErlList ofTrusted(ErlTerm[] elems, ErlTerm tail) {
    if (elems.length == 0 && tail == null) {
      return NIL;
    }
    return new ErlList(elems, tail);
  }

  private static ErlTerm[] checked(ErlTerm[] a) {
    for (ErlTerm t : a) {
      Objects.requireNonNull(t, "list element");
    }
    return a;
  }

  /** True unless the list ends in a tail that is not {@code []}. */
  public boolean isProper() {
    return tail == null;
  }

  /** True for {@code []}. */
  public boolean isNil() {
    return elems.length == 0;
  }

  /** The number of elements, not counting an improper tail. */
  public int size() {
    return elems.length;
  }

  /**
   * The element at {@code index}, counting from 0.
   *
   * @throws IndexOutOfBoundsException if there is no such element
   */
  public ErlTerm get(int index) {
    return elems[Objects.checkIndex(index, elems.length)];
  }

  /** The elements (without an improper tail), as an unmodifiable list. */
  public List<ErlTerm> elements() {
    return Collections.unmodifiableList(Arrays.asList(elems));
  }

  /** The final tail: {@link #NIL} for a proper list, else the term after the {@code |}. */
  public ErlTerm tail() {
    return tail == null ? NIL : tail;
  }

  /** The list without its first element, as Erlang's {@code tl/1}. */
  public ErlTerm tl() {
    if (elems.length == 0) {
      throw new IllegalStateException("[] has no tail");
    }
    if (elems.length == 1) {
      return tail();
    }
    return new ErlList(Arrays.copyOfRange(elems, 1, elems.length), tail);
  }

  /**
   * The string this list spells, if it is a proper list of Unicode code points (integers in
   * 0..0x10FFFF that are not surrogates); empty otherwise. {@code []} is the empty string.
   */
  public Optional<String> asString() {
    if (tail != null) {
      return Optional.empty();
    }
    StringBuilder sb = new StringBuilder(elems.length);
    for (ErlTerm t : elems) {
      if (!(t instanceof ErlInteger i) || !i.isInt()) {
        return Optional.empty();
      }
      int cp = i.intValue();
      if (cp < 0 || cp > Character.MAX_CODE_POINT || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return Optional.empty();
      }
      sb.appendCodePoint(cp);
    }
    return Optional.of(sb.toString());
  }

  ErlTerm[] array() {
    return elems;
  }

  /** The improper tail, or null for a proper list. */
  ErlTerm tailOrNull() {
    return tail;
  }

  /** Elements and tail as a new mutable list, for builders. */
  List<ErlTerm> toArrayList() {
    return new ArrayList<>(Arrays.asList(elems));
  }

  @Override
  public boolean equals(Object o) {
    return o == this
        || (o instanceof ErlList l
            && l.hashCode() == hashCode()
            && Arrays.equals(l.elems, elems)
            && Objects.equals(l.tail, tail));
  }

  @Override
  public int hashCode() {
    int h = hash;
    if (h == 0) {
      h = Arrays.hashCode(elems) * 31 + Objects.hashCode(tail) + 3;
      hash = h;
    }
    return h;
  }

  /** Erlang syntax as {@code ~w} prints it: {@code [1,2,3]}, {@code [1|2]}; never a string. */
  @Override
  public String toString() {
    return TermPrinter.print(this);
  }
}
