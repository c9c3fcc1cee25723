package io.ei4j.term;

import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.zip.Deflater;

/**
 * Writes terms in the external term format, byte for byte as OTP 25's
 * {@code term_to_binary(Term, [{minor_version, 2}])} does, which is what
 * {@code term_to_binary/1} writes under the flags OTP 26 makes mandatory:
 *
 * <ul>
 *   <li>integers in the smallest form: {@code SMALL_INTEGER_EXT} (0..255), {@code INTEGER_EXT}
 *       (signed 32-bit), else {@code SMALL_BIG_EXT}/{@code LARGE_BIG_EXT};
 *   <li>floats as {@code NEW_FLOAT_EXT}; atoms as {@code SMALL_ATOM_UTF8_EXT} or, past 255
 *       UTF-8 bytes, {@code ATOM_UTF8_EXT};
 *   <li>proper lists of up to 65,535 integers in 0..255 as {@code STRING_EXT};
 *   <li>{@code NEW_PID_EXT}, {@code NEWER_REFERENCE_EXT}; ports as {@code NEW_PORT_EXT} when the
 *       id is below 2<sup>28</sup> (OTP's largest port number) and as {@code V4_PORT_EXT}
 *       otherwise, as OTP 25 does;
 *   <li>maps in key order. Erlang writes maps of more than 32 entries in its internal hash
 *       order instead, so for those the bytes differ while the term is the same.
 * </ul>
 *
 * <p>Encoding appends to a {@link TermBuffer}; reuse one buffer across messages to avoid
 * allocating. The encoder itself allocates only for compression, for the first encode of
 * each big integer (which then keeps its magnitude bytes for the next), and for terms nested
 * more than 200 deep, whose deeper parts it encodes from an explicit stack so
 * that no nesting depth can overflow the Java stack.
 */
public final class TermEncoder {
  private TermEncoder() {}

  /** Appends the version byte 131 and {@code term}. */
  public static void encode(ErlTerm term, TermBuffer out) {
    out.put(Ext.VERSION);
    encodeTerm(term, out);
  }

  /** The bytes of {@code term_to_binary(term)}: 131 and the term. */
  public static byte[] toBytes(ErlTerm term) {
    TermBuffer b = new TermBuffer(64);
    encode(term, b);
    return b.toByteArray();
  }

  /**
   * Appends {@code term} compressed, as {@code term_to_binary(term, [{compressed, level}])}:
   * 131, 80, the uncompressed size (4 bytes) and the zlib stream of the term. As in Erlang,
   * level 0 writes the term uncompressed, and so does any level when compressing would not
   * make it smaller.
   *
   * @param level the zlib level, 0..9 ({@code [compressed]} in Erlang is 6)
   * @throws IllegalArgumentException if the level is outside 0..9
   */
  public static void encodeCompressed(ErlTerm term, TermBuffer out, int level) {
    if (level < 0 || level > 9) {
      throw new IllegalArgumentException("compression level must be 0..9, got " + level);
    }
    int start = out.length();
    encode(term, out);
    if (level == 0) {
      return;
    }
    int size = out.length() - start - 1;
    // Erlang keeps the compressed form only if it fits in the plain size minus 5 bytes.
    int room = size - 5;
    if (room <= 0) {
      return;
    }
    byte[] plain = new byte[size];
    System.arraycopy(out.array(), start + 1, plain, 0, size);
    Deflater deflater = new Deflater(level);
    try {
      deflater.setInput(plain);
      deflater.finish();
      byte[] packed = new byte[room + 1];
      int n = 0;
      while (!deflater.finished() && n <= room) {
        n += deflater.deflate(packed, n, packed.length - n);
      }
      if (!deflater.finished() || n > room) {
        return;
      }
      out.truncate(start);
      out.put(Ext.VERSION).put(Ext.COMPRESSED).putInt(size).put(packed, 0, n);
    } finally {
      deflater.end();
    }
  }

  /** Nesting handled by recursion; deeper subterms are encoded from an explicit stack. */
  private static final int RECURSION_LIMIT = 200;

  /** Appends {@code term} without the version byte, as it appears nested in another term. */
  public static void encodeTerm(ErlTerm term, TermBuffer out) {
    encode(term, out, 0);
  }

  private static void encode(ErlTerm term, TermBuffer out, int depth) {
    if (depth >= RECURSION_LIMIT) {
      encodeIteratively(term, out);
      return;
    }
    if (term instanceof ErlTuple t) {
      tupleHeader(t, out);
      for (ErlTerm e : t.array()) {
        encode(e, out, depth + 1);
      }
    } else if (term instanceof ErlList l) {
      if (!listHeader(l, out)) {
        return;
      }
      for (ErlTerm e : l.array()) {
        encode(e, out, depth + 1);
      }
      if (l.tailOrNull() == null) {
        out.put(Ext.NIL);
      } else {
        encode(l.tailOrNull(), out, depth + 1);
      }
    } else if (term instanceof ErlMap m) {
      ErlTerm[] k = m.keyArray();
      ErlTerm[] v = m.valueArray();
      out.put(Ext.MAP).putInt(k.length);
      for (int i = 0; i < k.length; i++) {
        encode(k[i], out, depth + 1);
        encode(v[i], out, depth + 1);
      }
    } else if (term instanceof ErlFun f) {
      int sizeAt = funHeader(f, out);
      for (ErlTerm t : f.freeVarArray()) {
        encode(t, out, depth + 1);
      }
      out.setInt(sizeAt, out.length() - sizeAt);
    } else {
      encodeLeaf(term, out);
    }
  }

  /** Marks where a NEW_FUN_EXT's size is patched once its free variables are written. */
  private record FunSize(int at) {}

  /**
   * Encodes a deeply nested term with an explicit stack of pending items (terms, NIL tails and
   * size patches), so that no depth overflows the Java stack.
   */
  private static void encodeIteratively(ErlTerm root, TermBuffer out) {
    ArrayDeque<Object> todo = new ArrayDeque<>();
    todo.push(root);
    while (!todo.isEmpty()) {
      Object next = todo.pop();
      if (next instanceof FunSize p) {
        out.setInt(p.at(), out.length() - p.at());
      } else if (next instanceof ErlTuple t) {
        tupleHeader(t, out);
        pushReversed(t.array(), todo);
      } else if (next instanceof ErlList l) {
        if (listHeader(l, out)) {
          todo.push(l.tailOrNull() == null ? ErlList.NIL : l.tailOrNull());
          pushReversed(l.array(), todo);
        }
      } else if (next instanceof ErlMap m) {
        ErlTerm[] k = m.keyArray();
        ErlTerm[] v = m.valueArray();
        out.put(Ext.MAP).putInt(k.length);
        for (int i = k.length - 1; i >= 0; i--) {
          todo.push(v[i]);
          todo.push(k[i]);
        }
      } else if (next instanceof ErlFun f) {
        todo.push(new FunSize(funHeader(f, out)));
        pushReversed(f.freeVarArray(), todo);
      } else {
        encodeLeaf((ErlTerm) next, out);
      }
    }
  }

  private static void pushReversed(ErlTerm[] a, ArrayDeque<Object> todo) {
    for (int i = a.length - 1; i >= 0; i--) {
      todo.push(a[i]);
    }
  }

  private static void tupleHeader(ErlTuple t, TermBuffer out) {
    int n = t.arity();
    if (n < 256) {
      out.put(Ext.SMALL_TUPLE).put(n);
    } else {
      out.put(Ext.LARGE_TUPLE).putInt(n);
    }
  }

  /**
   * Writes {@code []} or a string whole and returns false, or writes a LIST_EXT header and
   * returns true: its elements and tail follow.
   */
  private static boolean listHeader(ErlList l, TermBuffer out) {
    ErlTerm[] elems = l.array();
    if (elems.length == 0) {
      out.put(Ext.NIL);
      return false;
    }
    if (l.tailOrNull() == null && elems.length <= 65535 && isByteList(elems)) {
      out.ensureCapacity(elems.length + 3);
      out.put(Ext.STRING).putShort(elems.length);
      for (ErlTerm e : elems) {
        out.put((int) ((ErlInteger) e).longValue());
      }
      return false;
    }
    out.put(Ext.LIST).putInt(elems.length);
    return true;
  }

  /** Writes every term that has no subterms to encode. */
  private static void encodeLeaf(ErlTerm term, TermBuffer out) {
    if (term instanceof ErlAtom a) {
      encodeAtom(a, out);
    } else if (term instanceof ErlInteger i) {
      encodeInteger(i, out);
    } else if (term instanceof ErlBinary b) {
      int n = b.size();
      out.ensureCapacity(n + 6);
      if (b.isBinary()) {
        out.put(Ext.BINARY).putInt(n).put(b.array(), b.arrayOffset(), n);
      } else {
        out.put(Ext.BIT_BINARY).putInt(n).put(b.bitsInLastByte());
        out.put(b.array(), b.arrayOffset(), n - 1).put(b.byteAt(n - 1));
      }
    } else if (term instanceof ErlFloat f) {
      out.put(Ext.NEW_FLOAT).putLong(Double.doubleToRawLongBits(f.value()));
    } else if (term instanceof ErlPid p) {
      encodePid(p, out);
    } else if (term instanceof ErlPort p) {
      if ((p.id() >>> 28) == 0) {
        out.put(Ext.NEW_PORT);
        encodeAtom(p.node(), out);
        out.putInt((int) p.id());
      } else {
        out.put(Ext.V4_PORT);
        encodeAtom(p.node(), out);
        out.putLong(p.id());
      }
      out.putInt(p.creation());
    } else if (term instanceof ErlRef r) {
      int[] ids = r.idArray();
      out.put(Ext.NEWER_REFERENCE).putShort(ids.length);
      encodeAtom(r.node(), out);
      out.putInt(r.creation());
      for (int id : ids) {
        out.putInt(id);
      }
    } else if (term instanceof ErlExportFun f) {
      out.put(Ext.EXPORT);
      encodeAtom(f.module(), out);
      encodeAtom(f.function(), out);
      out.put(Ext.SMALL_INTEGER).put(f.arity());
    } else {
      // Containers reach here only empty-handed by mistake; encode them through the stack.
      encodeIteratively(term, out);
    }
  }

  private static void encodePid(ErlPid p, TermBuffer out) {
    out.put(Ext.NEW_PID);
    encodeAtom(p.node(), out);
    out.putInt(p.id()).putInt(p.serial()).putInt(p.creation());
  }

  static void encodeAtom(ErlAtom a, TermBuffer out) {
    byte[] utf8 = a.utf8();
    if (utf8.length < 256) {
      out.ensureCapacity(utf8.length + 2);
      out.put(Ext.SMALL_ATOM_UTF8).put(utf8.length);
    } else {
      out.ensureCapacity(utf8.length + 3);
      out.put(Ext.ATOM_UTF8).putShort(utf8.length);
    }
    out.put(utf8, 0, utf8.length);
  }

  private static void encodeInteger(ErlInteger i, TermBuffer out) {
    BigInteger big = i.bigOrNull();
    if (big == null) {
      encodeLong(i.longValue(), out);
      return;
    }
    byte[] mag = i.bigMagnitudeLittleEndian();
    int n = mag.length;
    if (n < 256) {
      out.put(Ext.SMALL_BIG).put(n);
    } else {
      out.put(Ext.LARGE_BIG).putInt(n);
    }
    out.put(big.signum() < 0 ? 1 : 0);
    out.put(mag, 0, n);
  }

  private static void encodeLong(long v, TermBuffer out) {
    if (v >= 0 && v <= 255) {
      out.put(Ext.SMALL_INTEGER).put((int) v);
    } else if (v == (int) v) {
      out.put(Ext.INTEGER).putInt((int) v);
    } else {
      // |v| as an unsigned 64-bit magnitude; Long.MIN_VALUE maps to 2^63, which fits.
      long mag = v < 0 ? -v : v;
      int n = (64 - Long.numberOfLeadingZeros(mag) + 7) / 8;
      out.put(Ext.SMALL_BIG).put(n).put(v < 0 ? 1 : 0);
      for (int k = 0; k < n; k++) {
        out.put((int) (mag >>> (8 * k)));
      }
    }
  }

  private static boolean isByteList(ErlTerm[] elems) {
    for (ErlTerm e : elems) {
      if (!(e instanceof ErlInteger i) || !i.isLong()) {
        return false;
      }
      long v = i.longValue();
      if (v < 0 || v > 255) {
        return false;
      }
    }
    return true;
  }

  /*
   * NEW_FUN_EXT:
   *
   *   1    4     1      16     4      4        N1      N2        N3       N4   N5
   * +---+------+-----+------+-------+---------+--------+----------+---------+-----+----------+
   * |112| Size |Arity| Uniq | Index | NumFree | Module | OldIndex | OldUniq | Pid | FreeVars |
   * +---+------+-----+------+-------+---------+--------+----------+---------+-----+----------+
   *
   * Size counts every byte after the tag, its own four included.
   */
  /** Writes a NEW_FUN_EXT up to its free variables; returns where its size goes. */
  private static int funHeader(ErlFun f, TermBuffer out) {
    out.put(Ext.NEW_FUN);
    int sizeAt = out.length();
    out.putInt(0).put(f.arity());
    out.put(f.uniqArray(), 0, 16);
    out.putInt(f.index()).putInt(f.freeVarArray().length);
    encodeAtom(f.module(), out);
    encodeLong(f.oldIndex(), out);
    encodeLong(f.oldUniq(), out);
    encodePid(f.pid(), out);
    return sizeAt;
  }

}
