package io.ei4j.term;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.math.BigInteger;
import java.nio.ByteOrder;
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
 * more than 64 deep other than through last elements, whose deeper parts it encodes from an
 * explicit stack so that no nesting depth can overflow the Java stack.
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

  /**
   * Recursion depth beyond which subterms are encoded from an explicit stack: small enough
   * that even interpreted frames fit in a 128 KiB thread stack with room to spare.
   */
  private static final int RECURSION_LIMIT = 64;
  /** 8-byte loads and stores in the machine's order, for copying bytes a word at a time. */
  private static final VarHandle NATIVE_LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());
  /** LIST_EXT with length 1, big-endian, and 3 bytes of padding: {@code [X]}'s header. */
  private static final long LIST_OF_ONE = ((long) Ext.LIST << 56) | (1L << 24);
  /** Encoded atoms longer than this many bytes are copied by arraycopy, shorter ones by words. */
  private static final int LONG_ATOM = 64;

  /** Appends {@code term} without the version byte, as it appears nested in another term. */
  public static void encodeTerm(ErlTerm term, TermBuffer out) {
    encode(term, out, 0);
  }

  /**
   * Encodes {@code term} at recursion depth {@code depth}. The last element of a tuple, map or
   * list is not encoded by a recursive call but by the next turn of the loop: what has to
   * follow it is at most the {@code []} that ends each enclosing proper list, so a count of
   * those is all that is kept, and a term nested through last elements (the usual shape of
   * deep terms) costs no Java stack at all. Other elements recurse, up to
   * {@link #RECURSION_LIMIT}, beyond which the explicit stack of {@link #encodeIteratively}
   * takes over.
   */
  private static void encode(ErlTerm term, TermBuffer out, int depth) {
    int nils = 0;
    while (true) {
      if (term instanceof ErlTuple t) {
        if (depth >= RECURSION_LIMIT) {
          encodeIteratively(t, out);
          break;
        }
        ErlTerm[] e = t.array();
        int n = e.length;
        byte[] b = out.room(5);
        int p = out.len;
        if (n < 256) {
          TermBuffer.SHORT.set(b, p, (short) (Ext.SMALL_TUPLE << 8 | n));
          out.len = p + 2;
        } else {
          b[p] = Ext.LARGE_TUPLE;
          TermBuffer.INT.set(b, p + 1, n);
          out.len = p + 5;
        }
        if (n == 0) {
          break;
        }
        for (int i = 0; i < n - 1; i++) {
          element(e[i], out, depth);
        }
        term = t.lastOrNull();
      } else if (term instanceof ErlAtom a) {
        encodeAtom(a, out);
        break;
      } else if (term instanceof ErlInteger i) {
        encodeInteger(i, out);
        break;
      } else if (term instanceof ErlList l) {
        ErlTerm[] e = l.array();
        if (e.length == 1 && l.tailOrNull() == null && !(e[0] instanceof ErlInteger)) {
          // [X], not a string: no element but the last, so nothing to recurse into at any
          // depth; the header is one 8-byte store whose last 3 bytes lie past out.len.
          byte[] b = out.room(8);
          int p = out.len;
          TermBuffer.LONG.set(b, p, LIST_OF_ONE);
          out.len = p + 5;
          nils++;
          term = e[0];
          continue;
        }
        if (depth >= RECURSION_LIMIT) {
          encodeIteratively(l, out);
          break;
        }
        if (!listHeader(l, out)) {
          break;
        }
        ErlTerm tail = l.tailOrNull();
        int n = e.length;
        for (int i = 0; i < n - 1; i++) {
          ErlTerm x = e[i];
          if (x instanceof ErlTuple t && t.arity() < 256 && depth + 1 < RECURSION_LIMIT) {
            innerTuple(t, out, depth + 1);
          } else {
            element(x, out, depth);
          }
        }
        if (tail == null) {
          nils++;
          // A constant index behind a predicted branch: for the common one-element list the
          // load of e[0] does not wait for the array's length.
          term = n == 1 ? e[0] : e[n - 1];
        } else {
          element(e[n - 1], out, depth);
          term = tail;
        }
      } else if (term instanceof ErlPid pid) {
        encodePid(pid, out);
        break;
      } else if (term instanceof ErlFloat f) {
        encodeFloat(f, out);
        break;
      } else if (term instanceof ErlBinary bin) {
        encodeBinary(bin, out);
        break;
      } else if (term instanceof ErlMap m) {
        if (depth >= RECURSION_LIMIT) {
          encodeIteratively(m, out);
          break;
        }
        ErlTerm[] k = m.keyArray();
        ErlTerm[] v = m.valueArray();
        int n = k.length;
        byte[] b = out.room(5);
        int p = out.len;
        b[p] = Ext.MAP;
        TermBuffer.INT.set(b, p + 1, n);
        out.len = p + 5;
        if (n == 0) {
          break;
        }
        for (int i = 0; i < n - 1; i++) {
          element(k[i], out, depth);
          ErlTerm x = v[i];
          if (x instanceof ErlTuple t && t.arity() < 256 && depth + 1 < RECURSION_LIMIT) {
            innerTuple(t, out, depth + 1);
          } else {
            element(x, out, depth);
          }
        }
        element(k[n - 1], out, depth);
        term = v[n - 1];
      } else if (term instanceof ErlFun f) {
        if (depth >= RECURSION_LIMIT) {
          encodeIteratively(f, out);
          break;
        }
        int sizeAt = funHeader(f, out);
        for (ErlTerm t : f.freeVarArray()) {
          element(t, out, depth);
        }
        out.setInt(sizeAt, out.length() - sizeAt);
        break;
      } else {
        encodeLeaf(term, out);
        break;
      }
    }
    if (nils > 0) {
      byte[] b = out.room(nils);
      int p = out.len;
      for (int i = 0; i < nils; i++) {
        b[p + i] = Ext.NIL;
      }
      out.len = p + nils;
    }
  }

  /**
   * One element of a container: the most common leaves are written here, anything else by a
   * recursive {@link #encode} one level deeper.
   */
  private static void element(ErlTerm e, TermBuffer out, int depth) {
    if (e instanceof ErlAtom a) {
      encodeAtom(a, out);
    } else if (e instanceof ErlInteger i && i.bigOrNull() == null) {
      encodeLong(i.longValue(), out);
    } else if (e instanceof ErlFloat f) {
      encodeFloat(f, out);
    } else if (e instanceof ErlBinary b) {
      encodeBinary(b, out);
    } else if (e instanceof ErlPid p) {
      encodePid(p, out);
    } else {
      encode(e, out, depth + 1);
    }
  }

  /**
   * A tuple of fewer than 256 elements at recursion depth {@code depth}, an element of a list
   * or a value in a map. Lists and maps of small tuples of leaves (records, rows) are a usual
   * shape of messages, so the tuple's header is written here and its elements by
   * {@link #element}, without a call to {@link #encode} per tuple. (Taking this path from
   * {@link #element}, for map keys and tuple elements too, made maps of small tuples
   * slower, not faster.)
   */
  private static void innerTuple(ErlTuple t, TermBuffer out, int depth) {
    ErlTerm[] e = t.array();
    int n = e.length;
    byte[] b = out.room(2);
    int p = out.len;
    TermBuffer.SHORT.set(b, p, (short) (Ext.SMALL_TUPLE << 8 | n));
    out.len = p + 2;
    for (ErlTerm x : e) {
      element(x, out, depth);
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
    if (elems[0] instanceof ErlInteger
        && l.tailOrNull() == null
        && elems.length <= 65535
        && isByteList(elems)) {
      out.ensureCapacity(elems.length + 3);
      out.put(Ext.STRING).putShort(elems.length);
      for (ErlTerm e : elems) {
        out.put((int) ((ErlInteger) e).longValue());
      }
      return false;
    }
    byte[] b = out.room(5);
    int p = out.len;
    b[p] = Ext.LIST;
    TermBuffer.INT.set(b, p + 1, elems.length);
    out.len = p + 5;
    return true;
  }

  /** Writes every term that has no subterms to encode. */
  private static void encodeLeaf(ErlTerm term, TermBuffer out) {
    if (term instanceof ErlAtom a) {
      encodeAtom(a, out);
    } else if (term instanceof ErlInteger i) {
      encodeInteger(i, out);
    } else if (term instanceof ErlBinary b) {
      encodeBinary(b, out);
    } else if (term instanceof ErlFloat f) {
      encodeFloat(f, out);
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

  private static void encodeFloat(ErlFloat f, TermBuffer out) {
    byte[] b = out.room(9);
    int p = out.len;
    b[p] = Ext.NEW_FLOAT;
    TermBuffer.LONG.set(b, p + 1, Double.doubleToRawLongBits(f.value()));
    out.len = p + 9;
  }

  private static void encodeBinary(ErlBinary bin, TermBuffer out) {
    int n = bin.size();
    if (n >= out.referenceFrom) {
      referenceBinary(bin, out);
      return;
    }
    byte[] b = out.room(n + 6);
    int p = out.len;
    if (bin.isBinary()) {
      b[p] = Ext.BINARY;
      TermBuffer.INT.set(b, p + 1, n);
      System.arraycopy(bin.array(), bin.arrayOffset(), b, p + 5, n);
      out.len = p + 5 + n;
    } else {
      b[p] = Ext.BIT_BINARY;
      TermBuffer.INT.set(b, p + 1, n);
      b[p + 5] = (byte) bin.bitsInLastByte();
      System.arraycopy(bin.array(), bin.arrayOffset(), b, p + 6, n - 1);
      b[p + 5 + n] = (byte) bin.byteAt(n - 1);
      out.len = p + 6 + n;
    }
  }

  /**
   * {@link #encodeBinary} for a buffer that references large binaries: the tag and length go
   * into the buffer, the bytes stay where the binary keeps them. A bitstring's last byte is
   * written masked, so only whole bytes are referenced.
   */
  private static void referenceBinary(ErlBinary bin, TermBuffer out) {
    int n = bin.size();
    byte[] b = out.room(6);
    int p = out.len;
    if (bin.isBinary()) {
      b[p] = Ext.BINARY;
      TermBuffer.INT.set(b, p + 1, n);
      out.len = p + 5;
      out.reference(bin.array(), bin.arrayOffset(), n);
    } else {
      b[p] = Ext.BIT_BINARY;
      TermBuffer.INT.set(b, p + 1, n);
      b[p + 5] = (byte) bin.bitsInLastByte();
      out.len = p + 6;
      if (n > 1) {
        out.reference(bin.array(), bin.arrayOffset(), n - 1);
      }
      out.put((byte) bin.byteAt(n - 1));
    }
  }

  private static void encodePid(ErlPid p, TermBuffer out) {
    out.put(Ext.NEW_PID);
    encodeAtom(p.node(), out);
    byte[] b = out.room(12);
    int at = out.len;
    TermBuffer.INT.set(b, at, p.id());
    TermBuffer.INT.set(b, at + 4, p.serial());
    TermBuffer.INT.set(b, at + 8, p.creation());
    out.len = at + 12;
  }

  /**
   * Copies the atom's precomputed encoding in whole 8-byte words; the padding written past
   * the encoding lies beyond {@code out.len} and is overwritten by whatever follows.
   */
  static void encodeAtom(ErlAtom a, TermBuffer out) {
    byte[] x = a.ext();
    int padded = x.length;
    byte[] b = out.room(padded);
    int p = out.len;
    if (padded == 8) {
      // an atom of up to 6 bytes, the usual case: one word, no loop
      NATIVE_LONG.set(b, p, (long) NATIVE_LONG.get(x, 0));
    } else if (padded <= LONG_ATOM) {
      for (int i = 0; i < padded; i += 8) {
        NATIVE_LONG.set(b, p + i, (long) NATIVE_LONG.get(x, i));
      }
    } else {
      System.arraycopy(x, 0, b, p, padded);
    }
    out.len = p + a.extLength();
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
      byte[] b = out.room(2);
      int p = out.len;
      TermBuffer.SHORT.set(b, p, (short) (Ext.SMALL_INTEGER << 8 | (int) v));
      out.len = p + 2;
    } else if (v == (int) v) {
      // INTEGER_EXT as one 8-byte store; its last 3 bytes lie past out.len
      byte[] b = out.room(8);
      int p = out.len;
      TermBuffer.LONG.set(b, p, (long) Ext.INTEGER << 56 | (v & 0xffffffffL) << 24);
      out.len = p + 5;
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
