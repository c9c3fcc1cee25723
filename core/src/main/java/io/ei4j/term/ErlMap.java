package io.ei4j.term;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;

/**
 * An Erlang map.
 *
 * <p>Entries are kept sorted in Erlang's map key order: term order where every integer sorts
 * before every float of the same value (so {@code 1} and {@code 1.0} are distinct keys).
 * Lookups are binary searches. {@link #entries()} iterates in that order, which is also the
 * order {@code term_to_binary/1} writes a map of up to 32 entries in.
 */
public final class ErlMap implements ErlTerm {
  private static final ErlTerm[] NONE = new ErlTerm[0];

  /** The empty map {@code #{}}. */
  public static final ErlMap EMPTY = new ErlMap(NONE, NONE);

  private final ErlTerm[] keys;
  private final ErlTerm[] values;
  private int hash;

  private ErlMap(ErlTerm[] keys, ErlTerm[] values) {
    this.keys = keys;
    this.values = values;
  }

  /** A map with these entries (copied). Keys are compared with {@code =:=}. */
  public static ErlMap of(Map<? extends ErlTerm, ? extends ErlTerm> entries) {
    int n = entries.size();
    ErlTerm[] k = new ErlTerm[n];
    ErlTerm[] v = new ErlTerm[n];
    int i = 0;
    for (Map.Entry<? extends ErlTerm, ? extends ErlTerm> e : entries.entrySet()) {
      k[i] = Objects.requireNonNull(e.getKey(), "map key");
      v[i] = Objects.requireNonNull(e.getValue(), "map value");
      i++;
    }
    if (i != n) {
      throw new IllegalArgumentException("map changed while being copied");
    }
    ErlMap m = sortedOrNull(k, v);
    if (m == null) {
      throw new IllegalArgumentException("duplicate map key (keys compare with =:=)");
    }
    return m;
  }

  /**
   * A map of parallel key and value arrays (owned), sorting them; null if two keys are equal.
   */
  static ErlMap sortedOrNull(ErlTerm[] k, ErlTerm[] v) {
    int n = k.length;
    if (n == 0) {
      return EMPTY;
    }
    boolean sorted = true;
    for (int i = 1; i < n && sorted; i++) {
      sorted = TermOrder.compareKeys(k[i - 1], k[i]) < 0;
    }
    if (!sorted) {
      Integer[] idx = new Integer[n];
      for (int i = 0; i < n; i++) {
        idx[i] = i;
      }
      Arrays.sort(idx, (a, b) -> TermOrder.compareKeys(k[a], k[b]));
      ErlTerm[] sk = new ErlTerm[n];
      ErlTerm[] sv = new ErlTerm[n];
      for (int i = 0; i < n; i++) {
        sk[i] = k[idx[i]];
        sv[i] = v[idx[i]];
      }
      for (int i = 1; i < n; i++) {
        if (TermOrder.compareKeys(sk[i - 1], sk[i]) == 0) {
          return null;
        }
      }
      return new ErlMap(sk, sv);
    }
    return new ErlMap(k, v);
  }

  /** The number of entries. */
  public int size() {
    return keys.length;
  }

  /** The value for {@code key} (compared with {@code =:=}), or null if there is none. */
  public ErlTerm get(ErlTerm key) {
    int i = indexOf(key);
    return i < 0 ? null : values[i];
  }

  /** True if {@code key} (compared with {@code =:=}) is present. */
  public boolean containsKey(ErlTerm key) {
    return indexOf(key) >= 0;
  }

  private int indexOf(ErlTerm key) {
    Objects.requireNonNull(key, "key");
    int lo = 0;
    int hi = keys.length - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = TermOrder.compareKeys(keys[mid], key);
      if (c < 0) {
        lo = mid + 1;
      } else if (c > 0) {
        hi = mid - 1;
      } else {
        return mid;
      }
    }
    return -1;
  }

  /** The entries as an unmodifiable map view that iterates in map key order. */
  public Map<ErlTerm, ErlTerm> entries() {
    return new View();
  }

  /** The key at position {@code i} in key order. */
  public ErlTerm keyAt(int i) {
    return keys[Objects.checkIndex(i, keys.length)];
  }

  /** The value at position {@code i} in key order. */
  public ErlTerm valueAt(int i) {
    return values[Objects.checkIndex(i, values.length)];
  }

  ErlTerm[] keyArray() {
    return keys;
  }

  ErlTerm[] valueArray() {
    return values;
  }

  @Override
  public boolean equals(Object o) {
    return o == this
        || (o instanceof ErlMap m
            && m.hashCode() == hashCode()
            && Arrays.equals(m.keys, keys)
            && Arrays.equals(m.values, values));
  }

  @Override
  public int hashCode() {
    int h = hash;
    if (h == 0) {
      h = (Arrays.hashCode(keys) * 31 + Arrays.hashCode(values)) | 1;
      hash = h;
    }
    return h;
  }

  /** Erlang syntax: {@code #{a => 1,b => 2}}. */
  @Override
  public String toString() {
    return TermPrinter.print(this);
  }

  private final class View extends AbstractMap<ErlTerm, ErlTerm> {
    @Override
    public ErlTerm get(Object key) {
      return key instanceof ErlTerm t ? ErlMap.this.get(t) : null;
    }

    @Override
    public boolean containsKey(Object key) {
      return key instanceof ErlTerm t && ErlMap.this.containsKey(t);
    }

    @Override
    public int size() {
      return keys.length;
    }

    @Override
    public Set<Entry<ErlTerm, ErlTerm>> entrySet() {
      return new AbstractSet<>() {
        @Override
        public int size() {
          return keys.length;
        }

        @Override
        public Iterator<Entry<ErlTerm, ErlTerm>> iterator() {
          return new Iterator<>() {
            private int i;

            @Override
            public boolean hasNext() {
              return i < keys.length;
            }

            @Override
            public Entry<ErlTerm, ErlTerm> next() {
              if (i >= keys.length) {
                throw new NoSuchElementException();
              }
              Entry<ErlTerm, ErlTerm> e = new SimpleImmutableEntry<>(keys[i], values[i]);
              i++;
              return e;
            }
          };
        }
      };
    }
  }
}
