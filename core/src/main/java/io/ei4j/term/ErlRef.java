package io.ei4j.term;

import java.util.Arrays;
import java.util.Objects;

/**
 * An Erlang reference: node, creation (unsigned 32-bit) and 1 to 5 id words (OTP 25 makes 3,
 * or more for pid references; {@code REFERENCE_EXT} carries 1).
 *
 * <p>As in Erlang, trailing zero words do not matter: a reference with ids {@code [2,1]} is
 * {@code =:=} one with ids {@code [2,1,0]}, though each is encoded with its own word count.
 * References order by node name, then creation, then the id words from the last to the first.
 */
public final class ErlRef implements ErlTerm {
  /** The most id words a reference may have. */
  public static final int MAX_IDS = 5;

  private final ErlAtom node;
  private final int creation;
  private final int[] ids;

  private ErlRef(ErlAtom node, int creation, int[] ids) {
    this.node = node;
    this.creation = creation;
    this.ids = ids;
  }

  /**
   * The reference with these id words (copied), first word first.
   *
   * @throws IllegalArgumentException unless there are 1 to 5 ids
   */
  public static ErlRef of(ErlAtom node, int creation, int... ids) {
    Objects.requireNonNull(node, "node");
    if (ids.length < 1 || ids.length > MAX_IDS) {
      throw new IllegalArgumentException("a reference has 1 to 5 ids, got " + ids.length);
    }
    return new ErlRef(node, creation, ids.clone());
  }

  static ErlRef ofTrusted(ErlAtom node, int creation, int[] ids) {
    return new ErlRef(node, creation, ids);
  }

  /** The node that made the reference. */
  public ErlAtom node() {
    return node;
  }

  /** The incarnation of the node that made the reference (unsigned 32-bit). */
  public int creation() {
    return creation;
  }

  /** A copy of the id words, first word first. */
  public int[] ids() {
    return ids.clone();
  }

  /** The number of id words this reference is encoded with. */
  public int idCount() {
    return ids.length;
  }

  /** Id word {@code i}, or 0 past the last one (as Erlang compares them). */
  int idOrZero(int i) {
    return i < ids.length ? ids[i] : 0;
  }

  int[] idArray() {
    return ids;
  }

  @Override
  public boolean equals(Object o) {
    if (o == this) {
      return true;
    }
    if (!(o instanceof ErlRef r) || r.creation != creation || !r.node.equals(node)) {
      return false;
    }
    for (int i = 0; i < MAX_IDS; i++) {
      if (idOrZero(i) != r.idOrZero(i)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    int n = ids.length;
    while (n > 0 && ids[n - 1] == 0) {
      n--;
    }
    return (node.hashCode() * 31 + creation) * 31 + Arrays.hashCode(Arrays.copyOf(ids, n));
  }

  /** {@code #Ref<node@host.3.1.2.3>}: node, creation, ids; see {@link Terms#print}. */
  @Override
  public String toString() {
    return TermPrinter.print(this);
  }
}
