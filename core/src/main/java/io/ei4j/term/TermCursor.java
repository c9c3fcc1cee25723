package io.ei4j.term;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * Reads external-format bytes one term, or one container header, at a time, as
 * erl_interface's {@code ei_decode_*} functions do: what the caller only inspects is never
 * built into {@link ErlTerm}s, so a large message in a reused buffer can be looked at
 * without allocating. A cursor is reusable: {@link #reset} points it at the next message.
 *
 * <pre>{@code
 *   // {flood, Seq, Payload}, after a distribution header (no version byte)
 *   c.reset(frame, payloadStart, payloadLength, atomCacheRefs);
 *   if (c.tupleHeader() == 3 && c.atomIs(FLOOD)) {
 *     long seq = c.longValue();
 *     ByteBuffer payload = c.binary();    // a view of frame, not a copy
 *   }
 * }</pre>
 *
 * <p>Containers are read as in ei: {@link #tupleHeader()} returns the arity and the elements
 * follow; {@link #listHeader()} returns the element count, and after the elements comes the
 * tail, {@code []} for a proper list; {@link #mapHeader()} returns the pair count, and keys
 * and values alternate. {@link #skip()} passes over any term, {@link #term()} decodes one.
 *
 * <p><b>Errors.</b> Input is untrusted. A method that fails throws a
 * {@link TermDecodeException} whose {@linkplain TermDecodeException#offset() offset} is an
 * index into the array, and leaves the position where it was, so the caller may try another
 * reader. A tag other than the one a method reads is named with what was expected, as in
 * {@code "expected a tuple, found a binary (tag 109)"}. Every length is checked against the
 * bytes left before it is used.
 *
 * <p>Only {@link #atom()}, {@link #pid()}, {@link #ref()}, {@link #term()}, {@link #string()},
 * {@link #binary()} and {@code FLOAT_EXT} in {@link #doubleValue()} allocate; the
 * {@link DecodeLimits} given to {@link #reset} bound what they allocate. A compressed term
 * (tag 80) is read by none of the methods: decode it with {@link TermDecoder#decode}.
 *
 * <p>Not thread-safe.
 */
public final class TermCursor {
  private static final byte[] NO_BYTES = new byte[0];
  private static final TermDecoder DEFAULT_DECODER = new TermDecoder();

  private byte[] array = NO_BYTES;
  private int start;
  private int end;
  private int pos;
  private ErlAtom[] refs;
  private TermDecoder decoder = DEFAULT_DECODER;
  /** {@code ByteBuffer.wrap(array)}, to hand to {@link #decoder}; made when first needed. */
  private ByteBuffer view;

  /** An empty cursor; {@link #reset} gives it bytes to read. */
  public TermCursor() {}

  /**
   * As {@link #reset(byte[], int, int, ErlAtom[], DecodeLimits)} with
   * {@link DecodeLimits#DEFAULT}.
   */
  public TermCursor reset(byte[] array, int offset, int length, ErlAtom[] atomCacheRefs) {
    return reset(array, offset, length, atomCacheRefs, DecodeLimits.DEFAULT);
  }

  /**
   * Makes the cursor read {@code array[offset, offset + length)} from its start. The array is
   * read in place, not copied: it must not change while the cursor, or a buffer from
   * {@link #binary()}, is in use.
   *
   * @param atomCacheRefs what {@code ATOM_CACHE_REF} index {@code i} stands for:
   *     {@code atomCacheRefs[i]}, as the distribution header that precedes the payload says;
   *     null when there is no header, and then a reference is a {@link TermDecodeException}
   * @param limits what {@link #term()} and the other allocating readers may allocate
   * @return this cursor
   * @throws IndexOutOfBoundsException if the range is not inside the array
   */
  public TermCursor reset(
      byte[] array, int offset, int length, ErlAtom[] atomCacheRefs, DecodeLimits limits) {
    Objects.checkFromIndexSize(offset, length, array.length);
    Objects.requireNonNull(limits, "limits");
    if (array != this.array) {
      this.array = array;
      view = null;
    }
    DecodeLimits current = decoder.limits();
    if (current != limits && !current.equals(limits)) {
      decoder = limits.equals(DecodeLimits.DEFAULT) ? DEFAULT_DECODER : new TermDecoder(limits);
    }
    this.refs = atomCacheRefs;
    this.start = offset;
    this.end = offset + length;
    this.pos = offset;
    return this;
  }

  /** The index in the array of the next byte to read. */
  public int position() {
    return pos;
  }

  /**
   * Moves to {@code position}, an index in the array, such as one saved from
   * {@link #position()} to read a term again.
   *
   * @throws IllegalArgumentException if the position is outside the range given to
   *     {@link #reset}
   */
  public void position(int position) {
    if (position < start || position > end) {
      throw new IllegalArgumentException(
          "position " + position + " outside the cursor's range " + start + ".." + end);
    }
    pos = position;
  }

  /** The number of bytes left to read. */
  public int remaining() {
    return end - pos;
  }

  /** True if bytes are left to read. */
  public boolean hasRemaining() {
    return pos < end;
  }

  /**
   * Reads the version byte 131 if it is next. A payload after a distribution header has
   * none; a pass-through ({@code 'p'}) message and {@code term_to_binary} output do.
   *
   * @return true if the byte was there and has been read; false, having read nothing, if not
   */
  public boolean version() {
    if (pos < end && (array[pos] & 0xff) == Ext.VERSION) {
      pos++;
      return true;
    }
    return false;
  }

  /**
   * The tag of the next term, without reading it: {@code 104} for a small tuple, and so on,
   * as listed in {@link TermDecoder}. An atom cache reference is reported as itself, 82,
   * although {@link #atom()} resolves it. The byte is returned as it is, valid tag or not.
   *
   * @throws TermDecodeException at the end of the input
   */
  public int type() throws TermDecodeException {
    return tag("a term");
  }

  /**
   * Reads a tuple's header ({@code SMALL_TUPLE_EXT} or {@code LARGE_TUPLE_EXT}); its
   * elements follow.
   *
   * @return the arity
   */
  public int tupleHeader() throws TermDecodeException {
    int tag = tag("a tuple");
    if (tag == Ext.SMALL_TUPLE) {
      need(pos, 2, "SMALL_TUPLE_EXT");
      return header(array[pos + 1] & 0xff, 1, 2, "SMALL_TUPLE_EXT");
    }
    if (tag == Ext.LARGE_TUPLE) {
      need(pos, 5, "LARGE_TUPLE_EXT");
      return header(u32(pos + 1), 1, 5, "LARGE_TUPLE_EXT");
    }
    throw mismatch("a tuple", tag, pos);
  }

  /**
   * Reads a list's header. For {@code LIST_EXT} the elements follow, then the tail: {@code []}
   * (read it with {@code listHeader()}, which returns 0) for a proper list, any term for an
   * improper one. {@code NIL_EXT}, the empty list, has no tail.
   *
   * <p>Unlike {@code ei_decode_list_header}, this does not accept {@code STRING_EXT}, the
   * encoding of a list of bytes, since its elements are not terms that the cursor can read
   * one by one: read it with {@link #string()} or {@link #term()}.
   *
   * @return the number of elements, not counting the tail
   */
  public int listHeader() throws TermDecodeException {
    int tag = tag("a list");
    if (tag == Ext.NIL) {
      pos++;
      return 0;
    }
    if (tag == Ext.LIST) {
      need(pos, 5, "LIST_EXT");
      long n = u32(pos + 1);
      // Each element takes a byte at least, and so does the tail.
      elements(n + 1, 1, 5, "LIST_EXT");
      pos += 5;
      return (int) n;
    }
    if (tag == Ext.STRING) {
      throw new TermDecodeException(
          "expected a list, found a string (tag 107); read it with string() or term()", pos);
    }
    throw mismatch("a list", tag, pos);
  }

  /**
   * Reads a map's header ({@code MAP_EXT}); its keys and values follow, alternating.
   *
   * @return the number of key-value pairs
   */
  public int mapHeader() throws TermDecodeException {
    int tag = tag("a map");
    if (tag != Ext.MAP) {
      throw mismatch("a map", tag, pos);
    }
    need(pos, 5, "MAP_EXT");
    return header(u32(pos + 1), 2, 5, "MAP_EXT");
  }

  /**
   * Reads an atom in any encoding: Latin-1 ({@code ATOM_EXT}, {@code SMALL_ATOM_EXT}), UTF-8
   * ({@code ATOM_UTF8_EXT}, {@code SMALL_ATOM_UTF8_EXT}), or {@code ATOM_CACHE_REF} resolved
   * through the table given to {@link #reset}. Text is checked as {@link TermDecoder} checks
   * it (strict UTF-8, at most {@link DecodeLimits#maxAtomChars()} characters), and atoms
   * decoded recently come from the decoder's cache rather than being made again.
   */
  public ErlAtom atom() throws TermDecodeException {
    int tag = tag("an atom");
    switch (tag) {
      case Ext.ATOM_CACHE_REF:
        {
          need(pos, 2, "ATOM_CACHE_REF");
          ErlAtom a = cacheRef(pos);
          pos += 2;
          return a;
        }
      case Ext.ATOM:
      case Ext.SMALL_ATOM:
      case Ext.ATOM_UTF8:
      case Ext.SMALL_ATOM_UTF8:
        {
          ByteBuffer in = view();
          ErlAtom a = decoder.decodeAtom(in, refs);
          pos = in.position();
          return a;
        }
      default:
        throw mismatch("an atom", tag, pos);
    }
  }

  /**
   * Reads the next term if it is the atom {@code expected}, comparing the encoded bytes
   * without making an atom; for dispatching on a message's tag.
   *
   * @return true if the next term is {@code expected}, which has then been read; false,
   *     having read nothing, if it is another atom or no atom
   * @throws TermDecodeException at the end of the input, or if the next term is a truncated
   *     atom or an atom cache reference that does not resolve
   */
  public boolean atomIs(ErlAtom expected) throws TermDecodeException {
    Objects.requireNonNull(expected, "expected");
    int tag = tag("an atom");
    int head;
    int n;
    switch (tag) {
      case Ext.ATOM_CACHE_REF:
        need(pos, 2, "ATOM_CACHE_REF");
        if (!cacheRef(pos).equals(expected)) {
          return false;
        }
        pos += 2;
        return true;
      case Ext.SMALL_ATOM_UTF8:
      case Ext.SMALL_ATOM:
        need(pos, 2, Ext.name(tag));
        n = array[pos + 1] & 0xff;
        head = 2;
        break;
      case Ext.ATOM_UTF8:
      case Ext.ATOM:
        need(pos, 3, Ext.name(tag));
        n = u16(pos + 1);
        head = 3;
        break;
      default:
        return false;
    }
    int from = pos + head;
    need(from, n, "atom text");
    boolean same;
    if (tag == Ext.SMALL_ATOM_UTF8 || tag == Ext.ATOM_UTF8) {
      byte[] b = expected.utf8();
      same = b.length == n && Arrays.equals(b, 0, n, array, from, from + n);
    } else {
      String name = expected.name(); // Latin-1: one byte per char
      same = name.length() == n;
      for (int i = 0; same && i < n; i++) {
        same = name.charAt(i) == (array[from + i] & 0xff);
      }
    }
    if (!same) {
      return false;
    }
    int max = decoder.limits().maxAtomChars();
    if (expected.codePointCount() > max) {
      throw new TermDecodeException(
          "atom of " + expected.codePointCount() + " characters exceeds the limit of " + max, pos);
    }
    pos = from + n;
    return true;
  }

  /**
   * Reads an integer that fits in a {@code long}: {@code SMALL_INTEGER_EXT},
   * {@code INTEGER_EXT}, or a {@code SMALL_BIG_EXT} or {@code LARGE_BIG_EXT} of that range.
   *
   * @throws TermDecodeException also for a big integer outside the range of {@code long}, which
   *     {@link #term()} reads
   */
  public long longValue() throws TermDecodeException {
    int tag = tag("an integer");
    int at = pos;
    switch (tag) {
      case Ext.SMALL_INTEGER:
        need(at, 2, "SMALL_INTEGER_EXT");
        pos += 2;
        return array[at + 1] & 0xff;
      case Ext.INTEGER:
        need(at, 5, "INTEGER_EXT");
        pos += 5;
        return (int) TermBuffer.INT.get(array, at + 1);
      case Ext.SMALL_BIG:
        need(at, 2, "SMALL_BIG_EXT");
        return big(at, 2, array[at + 1] & 0xff);
      case Ext.LARGE_BIG:
        need(at, 5, "LARGE_BIG_EXT");
        return big(at, 5, u32(at + 1));
      default:
        throw mismatch("an integer", tag, at);
    }
  }

  /** Reads a {@code NEW_FLOAT_EXT} or the older text {@code FLOAT_EXT}. */
  public double doubleValue() throws TermDecodeException {
    int tag = tag("a float");
    if (tag == Ext.NEW_FLOAT) {
      need(pos, 9, "NEW_FLOAT_EXT");
      double d = Double.longBitsToDouble((long) TermBuffer.LONG.get(array, pos + 1));
      if (!Double.isFinite(d)) {
        throw new TermDecodeException("NEW_FLOAT_EXT holds " + d + ", which is not an Erlang float", pos);
      }
      pos += 9;
      return d;
    }
    if (tag == Ext.FLOAT) {
      return ((ErlFloat) decodeTerm()).value();
    }
    throw mismatch("a float", tag, pos);
  }

  /**
   * The length of the {@code BINARY_EXT} that is next, without reading it.
   *
   * @throws TermDecodeException also for a bitstring ({@code BIT_BINARY_EXT}), which
   *     {@link #term()} reads, and for a length beyond the bytes left
   */
  public int binaryLength() throws TermDecodeException {
    int tag = tag("a binary");
    if (tag == Ext.BINARY) {
      need(pos, 5, "BINARY_EXT");
      long n = u32(pos + 1);
      need(pos + 5, n, "BINARY_EXT");
      return (int) n;
    }
    if (tag == Ext.BIT_BINARY) {
      throw new TermDecodeException(
          "expected a binary, found a bitstring (tag 77); read it with term()", pos);
    }
    throw mismatch("a binary", tag, pos);
  }

  /**
   * Reads a {@code BINARY_EXT} and returns a read-only view of its bytes in the array,
   * without copying them: the view is valid only while the array is not reused.
   */
  public ByteBuffer binary() throws TermDecodeException {
    int n = binaryLength();
    ByteBuffer b = ByteBuffer.wrap(array, pos + 5, n).slice().asReadOnlyBuffer();
    pos += 5 + n;
    return b;
  }

  /**
   * Reads a {@code BINARY_EXT} into {@code dst} from {@code off}.
   *
   * @return the number of bytes copied, the binary's length
   * @throws IllegalArgumentException if they do not fit in {@code dst} from {@code off}; the
   *     binary is then not read
   * @throws IndexOutOfBoundsException if {@code off} is outside {@code dst}
   */
  public int binary(byte[] dst, int off) throws TermDecodeException {
    Objects.checkFromIndexSize(off, 0, dst.length);
    int n = binaryLength();
    if (n > dst.length - off) {
      throw new IllegalArgumentException(
          "binary of " + n + " bytes does not fit in the " + (dst.length - off)
              + " bytes of dst from offset " + off);
    }
    System.arraycopy(array, pos + 5, dst, off, n);
    pos += 5 + n;
    return n;
  }

  /**
   * Reads a {@code STRING_EXT}, the encoding of a list of bytes, as a Latin-1 string, or an
   * empty list as {@code ""}. A list of bytes encoded as {@code LIST_EXT} (as Erlang encodes
   * one of more than 65,535 elements) is not read: {@link #term()} reads it.
   */
  public String string() throws TermDecodeException {
    int tag = tag("a string");
    if (tag == Ext.NIL) {
      pos++;
      return "";
    }
    if (tag != Ext.STRING) {
      throw mismatch("a string", tag, pos);
    }
    need(pos, 3, "STRING_EXT");
    int n = u16(pos + 1);
    need(pos + 3, n, "STRING_EXT");
    String s = new String(array, pos + 3, n, StandardCharsets.ISO_8859_1);
    pos += 3 + n;
    return s;
  }

  /** Reads a pid ({@code NEW_PID_EXT} or {@code PID_EXT}). */
  public ErlPid pid() throws TermDecodeException {
    int tag = tag("a pid");
    if (tag != Ext.NEW_PID && tag != Ext.PID) {
      throw mismatch("a pid", tag, pos);
    }
    return (ErlPid) decodeTerm();
  }

  /**
   * Reads a reference ({@code NEWER_REFERENCE_EXT}, {@code NEW_REFERENCE_EXT} or
   * {@code REFERENCE_EXT}).
   */
  public ErlRef ref() throws TermDecodeException {
    int tag = tag("a reference");
    if (tag != Ext.NEWER_REFERENCE && tag != Ext.NEW_REFERENCE && tag != Ext.REFERENCE) {
      throw mismatch("a reference", tag, pos);
    }
    return (ErlRef) decodeTerm();
  }

  /**
   * Decodes the next term, whatever it is, with a {@link TermDecoder} that enforces the limits
   * given to {@link #reset} and copies binaries out of the array.
   */
  public ErlTerm term() throws TermDecodeException {
    tag("a term");
    return decodeTerm();
  }

  /**
   * Passes over the next term, whatever it is, without recursion and without allocating: a
   * term nested a million deep takes no more stack than a flat one. Every length is checked
   * against the bytes left, but contents are not: a term that is skipped may still be one
   * that {@link #term()} rejects, such as a map with a duplicate key or an atom that is not
   * UTF-8. As {@code ei_skip_term} does, a fun ({@code NEW_FUN_EXT}) is passed over by its
   * declared size once the fields before its free variables have been checked.
   */
  public void skip() throws TermDecodeException {
    int p = pos;
    long pending = 1; // terms still to pass over, each at least one byte long
    while (pending > 0) {
      pending--;
      if (p >= end) {
        throw new TermDecodeException("truncated input: expected a term, found the end of the input", p);
      }
      int at = p;
      int tag = array[at] & 0xff;
      switch (tag) {
        case Ext.SMALL_INTEGER:
          p = fixed(at, 2, tag);
          break;
        case Ext.INTEGER:
          p = fixed(at, 5, tag);
          break;
        case Ext.NEW_FLOAT:
          p = fixed(at, 9, tag);
          break;
        case Ext.FLOAT:
          p = fixed(at, 32, tag);
          break;
        case Ext.SMALL_BIG:
          need(at, 2, "SMALL_BIG_EXT");
          p = bigEnd(at, 2, array[at + 1] & 0xff);
          break;
        case Ext.LARGE_BIG:
          need(at, 5, "LARGE_BIG_EXT");
          p = bigEnd(at, 5, u32(at + 1));
          break;
        case Ext.ATOM_CACHE_REF:
        case Ext.ATOM:
        case Ext.SMALL_ATOM:
        case Ext.ATOM_UTF8:
        case Ext.SMALL_ATOM_UTF8:
          p = atomEnd(at);
          break;
        case Ext.NIL:
          p = at + 1;
          break;
        case Ext.STRING:
          need(at, 3, "STRING_EXT");
          p = sized(at, 3, u16(at + 1), tag);
          break;
        case Ext.BINARY:
          need(at, 5, "BINARY_EXT");
          p = sized(at, 5, u32(at + 1), tag);
          break;
        case Ext.BIT_BINARY:
          {
            need(at, 6, "BIT_BINARY_EXT");
            long n = u32(at + 1);
            int bits = array[at + 5] & 0xff;
            if (bits > 8 || (bits == 0 && n > 0)) {
              throw new TermDecodeException(
                  "expected " + (n > 0 ? "1" : "0") + "..8 bits in BIT_BINARY_EXT's last byte, found " + bits,
                  at + 5);
            }
            p = sized(at, 6, n, tag);
            break;
          }
        case Ext.SMALL_TUPLE:
          need(at, 2, "SMALL_TUPLE_EXT");
          p = at + 2;
          pending = more(pending, array[at + 1] & 0xff, p, at, tag);
          break;
        case Ext.LARGE_TUPLE:
          need(at, 5, "LARGE_TUPLE_EXT");
          p = at + 5;
          pending = more(pending, u32(at + 1), p, at, tag);
          break;
        case Ext.LIST:
          need(at, 5, "LIST_EXT");
          p = at + 5;
          pending = more(pending, u32(at + 1) + 1, p, at, tag); // the elements and the tail
          break;
        case Ext.MAP:
          need(at, 5, "MAP_EXT");
          p = at + 5;
          pending = more(pending, 2 * u32(at + 1), p, at, tag);
          break;
        case Ext.PID:
          p = fixed(atomEnd(at + 1), 9, tag); // id, serial, creation:8
          break;
        case Ext.NEW_PID:
          p = fixed(atomEnd(at + 1), 12, tag);
          break;
        case Ext.PORT:
          p = fixed(atomEnd(at + 1), 5, tag);
          break;
        case Ext.NEW_PORT:
          p = fixed(atomEnd(at + 1), 8, tag);
          break;
        case Ext.V4_PORT:
          p = fixed(atomEnd(at + 1), 12, tag);
          break;
        case Ext.REFERENCE:
          p = fixed(atomEnd(at + 1), 5, tag);
          break;
        case Ext.NEW_REFERENCE:
        case Ext.NEWER_REFERENCE:
          {
            need(at, 3, Ext.name(tag));
            int ids = u16(at + 1);
            if (ids < 1 || ids > ErlRef.MAX_IDS) {
              throw new TermDecodeException(
                  "expected 1..5 reference ids in " + Ext.name(tag) + ", found " + ids, at + 1);
            }
            int creation = tag == Ext.NEWER_REFERENCE ? 4 : 1;
            p = fixed(atomEnd(at + 3), creation + 4 * ids, tag);
            break;
          }
        case Ext.EXPORT:
          {
            p = atomEnd(atomEnd(at + 1));
            need(p, 2, "EXPORT_EXT arity");
            if ((array[p] & 0xff) != Ext.SMALL_INTEGER) {
              throw new TermDecodeException(
                  "expected EXPORT_EXT arity as SMALL_INTEGER_EXT (97), found " + Ext.name(array[p] & 0xff), p);
            }
            p += 2;
            break;
          }
        case Ext.NEW_FUN:
          p = funEnd(at);
          break;
        case Ext.FUN:
          throw new TermDecodeException("FUN_EXT (117) was removed in OTP 23 and is not supported", at);
        case Ext.LOCAL:
          throw new TermDecodeException("LOCAL_EXT (121) can only be decoded by the node that encoded it", at);
        case Ext.COMPRESSED:
          throw new TermDecodeException("a compressed term (80) can only be read by TermDecoder.decode", at);
        case Ext.VERSION:
          throw new TermDecodeException("expected a term tag, found a nested version byte 131", at);
        default:
          throw new TermDecodeException("expected a term tag, found unknown tag " + tag, at);
      }
    }
    pos = p;
  }

  // ---- helpers; "at" and "p" are indexes in the array, never past end ----

  /** The tag at the position, or an error naming {@code expected} at the end of the input. */
  private int tag(String expected) throws TermDecodeException {
    if (pos >= end) {
      throw new TermDecodeException("expected " + expected + ", found the end of the input", pos);
    }
    return array[pos] & 0xff;
  }

  /** Checks that {@code n >= 0} bytes of {@code what} are there from {@code at}. */
  private void need(int at, long n, String what) throws TermDecodeException {
    if (n > end - at) {
      throw new TermDecodeException(
          "truncated input: expected " + n + " bytes of " + what + ", found " + (end - at), at);
    }
  }

  private int u16(int at) {
    return (short) TermBuffer.SHORT.get(array, at) & 0xffff;
  }

  private long u32(int at) {
    return (int) TermBuffer.INT.get(array, at) & 0xffffffffL;
  }

  /**
   * Reads a container header of {@code head} bytes declaring {@code n} items of at least
   * {@code minBytesEach} bytes, and returns {@code n}.
   */
  private int header(long n, int minBytesEach, int head, String what) throws TermDecodeException {
    elements(n, minBytesEach, head, what);
    pos += head;
    return (int) n;
  }

  /** Checks that {@code n} items of at least {@code minBytesEach} bytes can follow the header. */
  private void elements(long n, int minBytesEach, int head, String what) throws TermDecodeException {
    long left = end - pos - head;
    if (n * minBytesEach > left) {
      throw new TermDecodeException(
          "truncated input: " + what + " declares " + n + " elements, but only " + left
              + " bytes follow",
          pos);
    }
  }

  private TermDecodeException mismatch(String expected, int tag, int at) {
    return new TermDecodeException("expected " + expected + ", found " + kind(tag) + " (tag " + tag + ")", at);
  }

  /** What a tag encodes, for messages: "a binary". */
  private static String kind(int tag) {
    switch (tag) {
      case Ext.SMALL_INTEGER: case Ext.INTEGER: case Ext.SMALL_BIG: case Ext.LARGE_BIG:
        return "an integer";
      case Ext.NEW_FLOAT: case Ext.FLOAT:
        return "a float";
      case Ext.ATOM: case Ext.SMALL_ATOM: case Ext.ATOM_UTF8: case Ext.SMALL_ATOM_UTF8:
        return "an atom";
      case Ext.ATOM_CACHE_REF:
        return "an atom cache reference";
      case Ext.SMALL_TUPLE: case Ext.LARGE_TUPLE:
        return "a tuple";
      case Ext.NIL:
        return "an empty list";
      case Ext.STRING:
        return "a string";
      case Ext.LIST:
        return "a list";
      case Ext.BINARY:
        return "a binary";
      case Ext.BIT_BINARY:
        return "a bitstring";
      case Ext.MAP:
        return "a map";
      case Ext.PID: case Ext.NEW_PID:
        return "a pid";
      case Ext.PORT: case Ext.NEW_PORT: case Ext.V4_PORT:
        return "a port";
      case Ext.REFERENCE: case Ext.NEW_REFERENCE: case Ext.NEWER_REFERENCE:
        return "a reference";
      case Ext.NEW_FUN: case Ext.EXPORT: case Ext.FUN:
        return "a fun";
      case Ext.LOCAL:
        return "a local term";
      case Ext.COMPRESSED:
        return "a compressed term";
      case Ext.VERSION:
        return "a version byte";
      default:
        return "an unknown tag";
    }
  }

  /** The atom that the {@code ATOM_CACHE_REF} at {@code at} (2 bytes, checked) stands for. */
  private ErlAtom cacheRef(int at) throws TermDecodeException {
    int i = array[at + 1] & 0xff;
    if (refs == null) {
      throw new TermDecodeException("ATOM_CACHE_REF " + i + " without an atom cache", at);
    }
    if (i >= refs.length || refs[i] == null) {
      throw new TermDecodeException("ATOM_CACHE_REF " + i + " refers to no atom in the cache", at);
    }
    return refs[i];
  }

  private ByteBuffer view() {
    ByteBuffer v = view;
    if (v == null) {
      v = view = ByteBuffer.wrap(array);
    }
    v.limit(end).position(pos);
    return v;
  }

  /** Decodes the term at the position with {@link #decoder}, advancing past it on success. */
  private ErlTerm decodeTerm() throws TermDecodeException {
    ByteBuffer in = view();
    ErlTerm t = decoder.decodeTerm(in, refs);
    pos = in.position();
    return t;
  }

  /** A big integer's value, with its tag at {@code at} and its sign after a head of {@code head}. */
  private long big(int at, int head, long n) throws TermDecodeException {
    int digits = bigEnd(at, head, n) - (int) n; // checks the sign and the length
    // Little-endian digits: any beyond the eighth must be zero for the value to fit.
    for (int i = (int) n - 1; i >= 8; i--) {
      if (array[digits + i] != 0) {
        throw doesNotFit(at);
      }
    }
    long mag = 0;
    for (int i = (int) Math.min(n, 8) - 1; i >= 0; i--) {
      mag = (mag << 8) | (array[digits + i] & 0xff);
    }
    boolean negative = array[at + head] != 0;
    if (mag < 0 && !(negative && mag == Long.MIN_VALUE)) {
      throw doesNotFit(at);
    }
    pos = digits + (int) n;
    return negative ? -mag : mag;
  }

  private static TermDecodeException doesNotFit(int at) {
    return new TermDecodeException("integer does not fit in a long; read it with term()", at);
  }

  /** The end of a big integer whose header of {@code head} bytes at {@code at} declares n digits. */
  private int bigEnd(int at, int head, long n) throws TermDecodeException {
    need(at + head, n + 1, "big integer sign and digits");
    int sign = array[at + head] & 0xff;
    if (sign > 1) {
      throw new TermDecodeException("expected big integer sign 0 or 1, found " + sign, at + head);
    }
    return at + head + 1 + (int) n;
  }

  /** The end of {@code n} bytes of the term tagged {@code tag} from {@code at}, once checked. */
  private int fixed(int at, int n, int tag) throws TermDecodeException {
    need(at, n, Ext.name(tag));
    return at + n;
  }

  /** The end of a term with a header of {@code head} bytes and {@code n} bytes after it. */
  private int sized(int at, int head, long n, int tag) throws TermDecodeException {
    need(at + head, n, Ext.name(tag));
    return at + head + (int) n;
  }

  /**
   * Adds the {@code n} items of the container at {@code at}, whose items start at {@code p},
   * to {@code pending}, checking that all of those terms can still fit in the bytes left.
   */
  private long more(long pending, long n, int p, int at, int tag) throws TermDecodeException {
    long total = pending + n; // n < 2^33, so no overflow
    if (total > end - p) {
      throw new TermDecodeException(
          "truncated input: " + Ext.name(tag) + " declares " + n + " elements, but only "
              + (end - p) + " bytes follow",
          at);
    }
    return total;
  }

  /** The end of the atom (any encoding, or a resolvable cache reference) at {@code at}. */
  private int atomEnd(int at) throws TermDecodeException {
    need(at, 1, "an atom");
    int tag = array[at] & 0xff;
    switch (tag) {
      case Ext.ATOM_CACHE_REF:
        need(at, 2, "ATOM_CACHE_REF");
        cacheRef(at);
        return at + 2;
      case Ext.SMALL_ATOM:
      case Ext.SMALL_ATOM_UTF8:
        need(at, 2, Ext.name(tag));
        return sized(at, 2, array[at + 1] & 0xff, tag);
      case Ext.ATOM:
      case Ext.ATOM_UTF8:
        need(at, 3, Ext.name(tag));
        return sized(at, 3, u16(at + 1), tag);
      default:
        throw mismatch("an atom", tag, at);
    }
  }

  /** The end of a SMALL_INTEGER_EXT or INTEGER_EXT at {@code at}, as a fun's fields are. */
  private int smallOrIntegerEnd(int at, String what) throws TermDecodeException {
    need(at, 1, what);
    int tag = array[at] & 0xff;
    if (tag == Ext.SMALL_INTEGER) {
      return fixed(at, 2, tag);
    }
    if (tag == Ext.INTEGER) {
      return fixed(at, 5, tag);
    }
    throw new TermDecodeException(
        "expected " + what + " as SMALL_INTEGER_EXT or INTEGER_EXT, found " + Ext.name(tag), at);
  }

  /**
   * The end of the {@code NEW_FUN_EXT} at {@code at}, by its size, after checking the fields
   * before the free variables:
   *
   * <pre>
   *   112 | size:32 | arity:8 | uniq:16 bytes | index:32 | numFree:32 | module | oldIndex
   *       | oldUniq | pid | free variables ...
   *         ^ size counts from here (itself included) to the end of the free variables
   * </pre>
   */
  private int funEnd(int at) throws TermDecodeException {
    need(at, 5, "NEW_FUN_EXT");
    long size = u32(at + 1);
    int fieldsEnd = at + 30; // through numFree
    if (size < 29) {
      throw new TermDecodeException("NEW_FUN_EXT declares " + size + " bytes, fewer than its fields take", at);
    }
    need(at + 1, size, "NEW_FUN_EXT");
    int funEnd = at + 1 + (int) size;
    long numFree = u32(at + 26);
    int p = atomEnd(fieldsEnd);
    p = smallOrIntegerEnd(p, "NEW_FUN_EXT old index");
    p = smallOrIntegerEnd(p, "NEW_FUN_EXT old uniq");
    need(p, 1, "NEW_FUN_EXT pid");
    int pidTag = array[p] & 0xff;
    if (pidTag == Ext.NEW_PID) {
      p = fixed(atomEnd(p + 1), 12, pidTag);
    } else if (pidTag == Ext.PID) {
      p = fixed(atomEnd(p + 1), 9, pidTag);
    } else {
      throw mismatch("a pid", pidTag, p);
    }
    if (p > funEnd || numFree > funEnd - p) {
      throw new TermDecodeException(
          "NEW_FUN_EXT declares " + size + " bytes, fewer than its fields and " + numFree
              + " free variables take",
          at);
    }
    return funEnd;
  }
}
