package io.ei4j.term;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads terms in the external term format, every tag of {@code erl_ext_dist} as of OTP 25/26.
 *
 * <p>Reading is straight from the caller's {@link ByteBuffer} or array, without copying the
 * input first. Input is untrusted: every length is checked against the bytes left and the
 * {@link DecodeLimits} before anything is allocated, nesting is bounded by
 * {@link DecodeLimits#maxDepth()}, and a compressed term's declared size is checked against
 * {@link DecodeLimits#maxInflatedBytes()} before inflating. Every problem, truncation
 * included, is a {@link TermDecodeException}; no other exception escapes for any input.
 *
 * <p>Tags the decoder reads and what they become:
 *
 * <pre>
 *   80  compressed term             inflated, then read
 *   70  NEW_FLOAT_EXT, 99 FLOAT_EXT ErlFloat
 *   97  SMALL_INTEGER, 98 INTEGER, 110 SMALL_BIG, 111 LARGE_BIG   ErlInteger
 *  100  ATOM, 115 SMALL_ATOM (Latin-1), 118 ATOM_UTF8, 119 SMALL_ATOM_UTF8   ErlAtom
 *   82  ATOM_CACHE_REF              the atom at that index of the cache given to decode
 *  104  SMALL_TUPLE, 105 LARGE_TUPLE ErlTuple
 *  106  NIL, 107 STRING, 108 LIST   ErlList (STRING_EXT: a list of small integers)
 *  109  BINARY, 77 BIT_BINARY       ErlBinary
 *  116  MAP                         ErlMap (a duplicate key is an error, as in Erlang)
 *  103  PID, 88 NEW_PID             ErlPid
 *  102  PORT, 89 NEW_PORT, 120 V4_PORT   ErlPort
 *  101  REFERENCE, 114 NEW_REFERENCE, 90 NEWER_REFERENCE   ErlRef
 *  112  NEW_FUN                     ErlFun
 *  113  EXPORT                      ErlExportFun
 *  117  FUN_EXT                     rejected: removed in OTP 23, no node sends it
 *  121  LOCAL_EXT                   rejected: only the node that wrote it can read it
 * </pre>
 *
 * <p><b>Binaries.</b> By default a decoded binary owns a copy of its bytes. A decoder from
 * {@link #sharingBinaries()} instead makes binaries that point into the input array when the
 * input is array-backed: no copy, but the caller must then never modify (or reuse) the input
 * while the terms live. Binaries inside a compressed term always point into the private
 * inflated array, which nothing else can modify.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class TermDecoder {
  /**
   * Atoms decoded recently, shared by all decoders: a fixed number of slots indexed by a hash
   * of the atom's bytes, so repeated atoms decode without allocating and a peer cannot grow it.
   * Slots are written without locking; atoms are immutable, so a reader sees either a whole
   * atom or an older one.
   */
  private static final ErlAtom[] ATOM_CACHE = new ErlAtom[4096];
  /**
   * Nesting read by recursion; deeper containers are filled from an explicit stack. Small
   * enough that even interpreted frames fit in a 128 KiB thread stack with room to spare.
   */
  private static final int RECURSION_LIMIT = 64;

  private final DecodeLimits limits;
  private final boolean shareBinaries;

  /** A decoder with {@link DecodeLimits#DEFAULT} that copies binaries. */
  public TermDecoder() {
    this(DecodeLimits.DEFAULT);
  }

  /** A decoder with these limits that copies binaries. */
  public TermDecoder(DecodeLimits limits) {
    this(limits, false);
  }

  private TermDecoder(DecodeLimits limits, boolean shareBinaries) {
    this.limits = Objects.requireNonNull(limits, "limits");
    this.shareBinaries = shareBinaries;
  }

  /**
   * A decoder with the same limits whose binaries share the input array instead of copying
   * it; see the class documentation for the ownership rule this imposes on callers.
   */
  public TermDecoder sharingBinaries() {
    return new TermDecoder(limits, true);
  }

  /** The limits this decoder enforces. */
  public DecodeLimits limits() {
    return limits;
  }

  /**
   * Reads the version byte 131 and one term starting at {@code in.position()}, and advances
   * the position past them. On failure the position is left unchanged.
   */
  public ErlTerm decode(ByteBuffer in) throws TermDecodeException {
    return decode(in, null);
  }

  /** Reads the version byte 131 and one term that must fill exactly {@code len} bytes. */
  public ErlTerm decode(byte[] a, int off, int len) throws TermDecodeException {
    Objects.checkFromIndexSize(off, len, a.length);
    Reader r = new Reader(a, off, off + len, null, shareBinaries, "");
    ErlTerm t = r.versioned();
    if (r.pos != off + len) {
      throw new TermDecodeException(
          "expected the end of the input after the term, found " + (off + len - r.pos)
              + " more bytes",
          r.pos);
    }
    return t;
  }

  /** As {@link #decode(byte[], int, int)} for the whole array. */
  public ErlTerm decode(byte[] a) throws TermDecodeException {
    return decode(a, 0, a.length);
  }

  /**
   * As {@link #decode(ByteBuffer)}, resolving {@code ATOM_CACHE_REF} index {@code i} to
   * {@code atomCacheRefs[i]}. A reference with no cache, past its end, or to a null entry is a
   * {@link TermDecodeException}.
   */
  public ErlTerm decode(ByteBuffer in, ErlAtom[] atomCacheRefs) throws TermDecodeException {
    Reader r = new Reader(in, atomCacheRefs);
    ErlTerm t = r.versioned();
    in.position(r.pos);
    return t;
  }

  /**
   * Reads one term that has no version byte in front (as inside a distribution header),
   * starting at {@code in.position()} and advancing past it.
   */
  public ErlTerm decodeTerm(ByteBuffer in, ErlAtom[] atomCacheRefs) throws TermDecodeException {
    Reader r = new Reader(in, atomCacheRefs);
    ErlTerm t = r.term();
    in.position(r.pos);
    return t;
  }

  /** Reads an atom in any atom encoding, or ATOM_CACHE_REF, without a version byte. */
  public ErlAtom decodeAtom(ByteBuffer in, ErlAtom[] atomCacheRefs) throws TermDecodeException {
    Reader r = new Reader(in, atomCacheRefs);
    ErlAtom a = r.atom();
    in.position(r.pos);
    return a;
  }

  /**
   * The state of one decode call. It reads an array directly when it has one, so that decoding
   * an array needs no {@link ByteBuffer} around it; {@link #buf} is then null.
   */
  private final class Reader {
    private final ByteBuffer buf;
    private final int limit;
    private final byte[] array;
    private final int arrayOffset;
    private final ErlAtom[] cache;
    private final boolean share;
    private final String where;
    private int pos;
    private final int end;

    Reader(ByteBuffer in, ErlAtom[] cache) {
      this(in, cache, shareBinaries, "");
    }

    Reader(ByteBuffer in, ErlAtom[] cache, boolean share, String where) {
      this.buf = in;
      this.cache = cache;
      this.where = where;
      if (in.hasArray()) {
        this.array = in.array();
        this.arrayOffset = in.arrayOffset();
        this.share = share;
      } else {
        this.array = null;
        this.arrayOffset = 0;
        this.share = false;
      }
      this.pos = in.position();
      this.limit = in.limit();
      this.end = (int) Math.min(limit, (long) pos + limits.maxTermBytes());
    }

    /** Reads {@code a} from index {@code from} up to {@code to}; positions are array indexes. */
    Reader(byte[] a, int from, int to, ErlAtom[] cache, boolean share, String where) {
      this.buf = null;
      this.array = a;
      this.arrayOffset = 0;
      this.cache = cache;
      this.share = share;
      this.where = where;
      this.pos = from;
      this.limit = to;
      this.end = (int) Math.min(to, (long) from + limits.maxTermBytes());
    }

    /** Reads the version byte 131 and one term, inflating it first if it is compressed. */
    ErlTerm versioned() throws TermDecodeException {
      int v = u8();
      if (v != Ext.VERSION) {
        throw new TermDecodeException("expected version byte 131, found " + v, pos - 1);
      }
      if (peek() == Ext.COMPRESSED) {
        pos++;
        return compressed();
      }
      return term();
    }

    private TermDecodeException error(String message, int at) {
      return new TermDecodeException(message + where, at);
    }

    private void need(int n, String what) throws TermDecodeException {
      if (n < 0 || n > end - pos) {
        if (end < limit && n <= limit - pos && n >= 0) {
          throw error(
              "term exceeds maxTermBytes (" + limits.maxTermBytes() + ") reading " + what, pos);
        }
        throw error(
            "truncated input: expected " + n + " bytes of " + what + ", found " + (end - pos),
            pos);
      }
    }

    /** Checks a length field against the bytes left, before anything is allocated for it. */
    private int length(long n, long minBytesEach, String what, int at) throws TermDecodeException {
      if (n < 0 || n * minBytesEach > end - pos) {
        if (n * minBytesEach > limits.maxTermBytes()) {
          throw error(what + " length " + n + " exceeds maxTermBytes (" + limits.maxTermBytes() + ")", at);
        }
        throw error(
            "truncated input: " + what + " declares " + n + " elements needing at least "
                + n * minBytesEach + " bytes, but only " + (end - pos) + " are left",
            at);
      }
      return (int) n;
    }

    private int peek() throws TermDecodeException {
      need(1, "a tag");
      return byteAt(pos) & 0xff;
    }

    /** The byte at position {@code p}, which the caller has checked is before {@link #end}. */
    private byte byteAt(int p) {
      return array != null ? array[arrayOffset + p] : buf.get(p);
    }

    private int u8() throws TermDecodeException {
      need(1, "a byte");
      return (array != null ? array[arrayOffset + pos++] : buf.get(pos++)) & 0xff;
    }

    private int u16() throws TermDecodeException {
      need(2, "a 16-bit length");
      int v = array != null
          ? (short) TermBuffer.SHORT.get(array, arrayOffset + pos) & 0xffff
          : ((buf.get(pos) & 0xff) << 8) | (buf.get(pos + 1) & 0xff);
      pos += 2;
      return v;
    }

    private int i32(String what) throws TermDecodeException {
      need(4, what);
      int v = array != null
          ? (int) TermBuffer.INT.get(array, arrayOffset + pos)
          : ((buf.get(pos) & 0xff) << 24)
              | ((buf.get(pos + 1) & 0xff) << 16)
              | ((buf.get(pos + 2) & 0xff) << 8)
              | (buf.get(pos + 3) & 0xff);
      pos += 4;
      return v;
    }

    private long u32(String what) throws TermDecodeException {
      return i32(what) & 0xffffffffL;
    }

    private long i64(String what) throws TermDecodeException {
      need(8, what);
      if (array != null) {
        long v = (long) TermBuffer.LONG.get(array, arrayOffset + pos);
        pos += 8;
        return v;
      }
      long hi = i32(what) & 0xffffffffL;
      long lo = i32(what) & 0xffffffffL;
      return (hi << 32) | lo;
    }

    private byte[] bytes(int n) {
      byte[] b;
      if (array != null) {
        int from = arrayOffset + pos;
        b = Arrays.copyOfRange(array, from, from + n); // no zeroing before the copy
      } else {
        b = new byte[n];
        buf.get(pos, b, 0, n);
      }
      pos += n;
      return b;
    }

    ErlTerm compressed() throws TermDecodeException {
      int at = pos - 1;
      long size = u32("the uncompressed size");
      if (size > limits.maxInflatedBytes()) {
        throw error(
            "compressed term declares " + size + " uncompressed bytes, over the limit of "
                + limits.maxInflatedBytes(),
            at);
      }
      // Deflate expands at most 1032 times (a run of one byte); a declared size that the bytes
      // left could never inflate to is forged, and is rejected before allocating for it.
      if (size > (end - pos) * 1032L + 64) {
        throw error(
            "compressed term declares " + size + " uncompressed bytes, more than the "
                + (end - pos) + " bytes that follow can inflate to",
            at);
      }
      if (size > Integer.MAX_VALUE - 8) {
        throw error("compressed term declares " + size + " bytes, more than an array holds", at);
      }
      byte[] plain = new byte[(int) size];
      Inflater inflater = new Inflater();
      int inflated;
      try {
        if (array != null) {
          inflater.setInput(array, arrayOffset + pos, end - pos);
        } else {
          inflater.setInput(buf.slice(pos, end - pos));
        }
        inflated = 0;
        while (inflated < plain.length && !inflater.finished()) {
          int n = inflater.inflate(plain, inflated, plain.length - inflated);
          if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
            break;
          }
          inflated += n;
        }
        if (inflated == plain.length && !inflater.finished()) {
          byte[] probe = new byte[1];
          if (inflater.inflate(probe) > 0) {
            throw error("compressed data inflates to more than the declared " + size + " bytes", at);
          }
        }
        if (!inflater.finished()) {
          throw error(
              "truncated compressed data: inflated " + inflated + " of the declared " + size
                  + " bytes",
              end);
        }
        if (inflated != plain.length) {
          throw error(
              "compressed data inflates to " + inflated + " bytes, but declares " + size, at);
        }
        pos += (int) inflater.getBytesRead();
      } catch (DataFormatException e) {
        throw new TermDecodeException("corrupt compressed data: " + e.getMessage() + where, at, e);
      } finally {
        inflater.end();
      }
      Reader inner =
          new Reader(plain, 0, plain.length, cache, true, " (in the inflated data of the compressed term at offset " + at + ")");
      ErlTerm t = inner.term();
      if (inner.pos != plain.length) {
        throw inner.error(
            "expected the end of the inflated data, found " + (plain.length - inner.pos)
                + " more bytes",
            inner.pos);
      }
      return t;
    }

    /**
     * Reads one term. Containers nested up to {@link #RECURSION_LIMIT} deep are read by
     * recursion; deeper ones are filled from an explicit stack of {@link Frame}s, so nesting
     * beyond that costs heap (bounded by maxDepth), never Java stack.
     */
    ErlTerm term() throws TermDecodeException {
      return value(0);
    }

    /**
     * Reads one term inside {@code depth} open containers: tuples, proper-or-not lists and
     * maps directly into their element arrays, other containers through a {@link Frame}.
     * Small and 32-bit integers, small UTF-8 atoms and binaries are read here too, without the
     * detour through {@link #item}'s switch and its {@code Object} result; anything malformed
     * falls through to {@link #item}, which reports it.
     */
    private ErlTerm value(int depth) throws TermDecodeException {
      int at = pos;
      if (array != null && pos < end) {
        int tag = array[arrayOffset + pos] & 0xff;
        switch (tag) {
          case Ext.SMALL_INTEGER:
            if (end - pos >= 2) {
              pos += 2;
              return ErlInteger.of(array[arrayOffset + at + 1] & 0xff);
            }
            break;
          case Ext.INTEGER:
            if (end - pos >= 5) {
              pos += 5;
              return ErlInteger.of((int) TermBuffer.INT.get(array, arrayOffset + at + 1));
            }
            break;
          case Ext.SMALL_ATOM_UTF8:
            return atom();
          case Ext.BINARY:
            if (end - pos >= 5) {
              int n = (int) TermBuffer.INT.get(array, arrayOffset + at + 1);
              if (n >= 0 && n <= end - pos - 5) {
                pos += 5;
                return binary(n, 8);
              }
            }
            break; // item() reports the bad length
          case Ext.SMALL_TUPLE:
            if (end - pos >= 2 && depth < RECURSION_LIMIT) {
              int n = array[arrayOffset + at + 1] & 0xff;
              if (n == 0) {
                pos += 2;
                return ErlTuple.EMPTY;
              }
              if (n > end - pos - 2) {
                break; // item() reports the truncation
              }
              open(depth, at);
              pos += 2;
              ErlTerm[] items = new ErlTerm[n];
              for (int i = 0; i < n; i++) {
                items[i] = value(depth + 1);
              }
              return ErlTuple.ofTrusted(items);
            }
            break;
          case Ext.LIST:
            if (depth < RECURSION_LIMIT) {
              pos++;
              int n = length(u32("LIST_EXT length"), 1, "LIST_EXT", at);
              // Each element takes a byte at least, and so does the tail.
              length(n + 1L, 1, "LIST_EXT", at);
              open(depth, at);
              ErlTerm[] items = new ErlTerm[n];
              for (int i = 0; i < n; i++) {
                items[i] = value(depth + 1);
              }
              return list(items, value(depth + 1));
            }
            break;
          case Ext.MAP:
            if (depth < RECURSION_LIMIT) {
              pos++;
              int n = length(u32("MAP_EXT arity"), 2, "MAP_EXT", at);
              if (n == 0) {
                return ErlMap.EMPTY;
              }
              open(depth, at);
              ErlTerm[] k = new ErlTerm[n];
              ErlTerm[] v = new ErlTerm[n];
              for (int i = 0; i < n; i++) {
                k[i] = value(depth + 1);
                v[i] = value(depth + 1);
              }
              return map(k, v, at);
            }
            break;
          default:
            break;
        }
      }
      Object item = item();
      if (!(item instanceof Frame f)) {
        return (ErlTerm) item;
      }
      open(depth, at);
      if (depth >= RECURSION_LIMIT) {
        return iteratively(f, depth);
      }
      for (int i = f.filled; i < f.needed; i++) {
        f.add(value(depth + 1));
      }
      return build(f);
    }

    /** Checks that a container with items may open inside {@code depth} others. */
    private void open(int depth, int at) throws TermDecodeException {
      if (depth >= limits.maxDepth()) {
        throw error("term nests deeper than maxDepth (" + limits.maxDepth() + ")", at);
      }
    }

    /**
     * Fills {@code first}, a container opened inside {@code baseDepth} others, and everything
     * nested in it from an explicit stack of frames instead of recursion.
     */
    private ErlTerm iteratively(Frame first, int baseDepth) throws TermDecodeException {
      Frame top = null;
      int depth = baseDepth;
      Object item = first;
      while (true) {
        ErlTerm value;
        if (item instanceof Frame f) {
          f.parent = top;
          if (!f.complete()) {
            top = f;
            depth++;
            int at = pos;
            item = item();
            if (item instanceof Frame) {
              open(depth, at);
            }
            continue;
          }
          value = build(f);
        } else {
          value = (ErlTerm) item;
        }
        while (true) {
          if (top == null) {
            return value;
          }
          top.add(value);
          if (!top.complete()) {
            break;
          }
          value = build(top);
          top = top.parent;
          depth--;
        }
        int at = pos;
        item = item();
        if (item instanceof Frame) {
          open(depth, at);
        }
      }
    }

    /** A leaf term, or a {@link Frame} for a container whose items follow. */
    private Object item() throws TermDecodeException {
      int at = pos;
      int tag = u8();
      switch (tag) {
        case Ext.SMALL_INTEGER:
          return ErlInteger.of(u8());
        case Ext.INTEGER:
          return ErlInteger.of(i32("INTEGER_EXT"));
        case Ext.SMALL_ATOM_UTF8:
        case Ext.ATOM_UTF8:
        case Ext.SMALL_ATOM:
        case Ext.ATOM:
        case Ext.ATOM_CACHE_REF:
          pos = at;
          return atom();
        case Ext.SMALL_TUPLE:
          return tuple(u8(), at);
        case Ext.LARGE_TUPLE:
          return tuple(u32("LARGE_TUPLE_EXT arity"), at);
        case Ext.NIL:
          return ErlList.NIL;
        case Ext.STRING:
          {
            int n = length(u16(), 1, "STRING_EXT", at);
            ErlTerm[] elems = new ErlTerm[n];
            for (int i = 0; i < n; i++) {
              elems[i] = ErlInteger.of(byteAt(pos + i) & 0xff);
            }
            pos += n;
            return ErlList.ofTrusted(elems, null);
          }
        case Ext.LIST:
          {
            int n = length(u32("LIST_EXT length"), 1, "LIST_EXT", at);
            // Each element takes a byte at least, and so does the tail.
            length(n + 1L, 1, "LIST_EXT", at);
            return new Frame(Frame.LIST, at, n, n + 1);
          }
        case Ext.BINARY:
          {
            int n = length(u32("BINARY_EXT length"), 1, "BINARY_EXT", at);
            return binary(n, 8);
          }
        case Ext.BIT_BINARY:
          {
            long declared = u32("BIT_BINARY_EXT length");
            int bits = u8();
            int n = length(declared, 1, "BIT_BINARY_EXT", at);
            if (n == 0) {
              if (bits > 8) {
                throw error("expected 0..8 bits in BIT_BINARY_EXT's last byte, found " + bits, pos - 1);
              }
              return ErlBinary.EMPTY;
            }
            if (bits < 1 || bits > 8) {
              throw error("expected 1..8 bits in BIT_BINARY_EXT's last byte, found " + bits, pos - 1);
            }
            return binary(n, bits);
          }
        case Ext.NEW_FLOAT:
          {
            double d = Double.longBitsToDouble(i64("NEW_FLOAT_EXT"));
            if (!Double.isFinite(d)) {
              throw error("NEW_FLOAT_EXT holds " + d + ", which is not an Erlang float", at);
            }
            return ErlFloat.of(d);
          }
        case Ext.FLOAT:
          return oldFloat(at);
        case Ext.SMALL_BIG:
          return big(u8(), at);
        case Ext.LARGE_BIG:
          return big(length(u32("LARGE_BIG_EXT length"), 1, "LARGE_BIG_EXT", at), at);
        case Ext.MAP:
          {
            int n = length(u32("MAP_EXT arity"), 2, "MAP_EXT", at);
            return n == 0 ? ErlMap.EMPTY : new Frame(Frame.MAP, at, 2 * n, 2 * n);
          }
        case Ext.NEW_PID:
        case Ext.PID:
          pos = at;
          return pid();
        case Ext.NEW_PORT:
          {
            ErlAtom node = atom();
            long id = u32("NEW_PORT_EXT id");
            return ErlPort.of(node, id, i32("NEW_PORT_EXT creation"));
          }
        case Ext.PORT:
          {
            ErlAtom node = atom();
            long id = u32("PORT_EXT id");
            return ErlPort.of(node, id, u8());
          }
        case Ext.V4_PORT:
          {
            ErlAtom node = atom();
            long id = i64("V4_PORT_EXT id");
            return ErlPort.of(node, id, i32("V4_PORT_EXT creation"));
          }
        case Ext.REFERENCE:
          {
            ErlAtom node = atom();
            int id = i32("REFERENCE_EXT id");
            return ErlRef.ofTrusted(node, u8(), new int[] {id});
          }
        case Ext.NEW_REFERENCE:
        case Ext.NEWER_REFERENCE:
          {
            int n = u16();
            if (n < 1 || n > ErlRef.MAX_IDS) {
              throw error("expected 1..5 reference ids in " + Ext.name(tag) + ", found " + n, pos - 2);
            }
            ErlAtom node = atom();
            int creation = tag == Ext.NEWER_REFERENCE ? i32("reference creation") : u8();
            need(4 * n, "reference ids");
            int[] ids = new int[n];
            for (int i = 0; i < n; i++) {
              ids[i] = i32("reference id");
            }
            return ErlRef.ofTrusted(node, creation, ids);
          }
        case Ext.EXPORT:
          {
            ErlAtom module = atom();
            ErlAtom function = atom();
            int t = u8();
            if (t != Ext.SMALL_INTEGER) {
              throw error("expected EXPORT_EXT arity as SMALL_INTEGER_EXT (97), found " + Ext.name(t), pos - 1);
            }
            return ErlExportFun.of(module, function, u8());
          }
        case Ext.NEW_FUN:
          return fun(at);
        case Ext.FUN:
          throw error("FUN_EXT (117) was removed in OTP 23 and is not supported", at);
        case Ext.LOCAL:
          throw error(
              "LOCAL_EXT (121) can only be decoded by the node that encoded it", at);
        case Ext.COMPRESSED:
          throw error("a compressed term (80) may only follow the version byte", at);
        case Ext.VERSION:
          throw error("expected a term tag, found a nested version byte 131", at);
        default:
          throw error("expected a term tag, found unknown tag " + tag, at);
      }
    }

    private Object tuple(long arity, int at) throws TermDecodeException {
      int n = length(arity, 1, "tuple", at);
      return n == 0 ? ErlTuple.EMPTY : new Frame(Frame.TUPLE, at, n, n);
    }

    /** Builds a container once all its items have been read. */
    private ErlTerm build(Frame f) throws TermDecodeException {
      switch (f.kind) {
        case Frame.TUPLE:
          return ErlTuple.ofTrusted(f.items);
        case Frame.LIST:
          return list(f.items, f.tail);
        case Frame.MAP:
          {
            int n = f.items.length / 2;
            ErlTerm[] k = new ErlTerm[n];
            ErlTerm[] v = new ErlTerm[n];
            for (int i = 0; i < n; i++) {
              k[i] = f.items[2 * i];
              v[i] = f.items[2 * i + 1];
            }
            return map(k, v, f.at);
          }
        default:
          {
            FunHeader h = f.fun;
            if (pos - h.start != h.size) {
              throw error(
                  "NEW_FUN_EXT declares " + h.size + " bytes, but its fields take " + (pos - h.start),
                  f.at);
            }
            return ErlFun.ofTrusted(
                h.module, h.arity, h.uniq, h.index, h.oldIndex, h.oldUniq, h.pid, f.items);
          }
      }
    }

    /** A LIST_EXT's list: its elements, then a tail that may itself be a list to join. */
    private ErlTerm list(ErlTerm[] elems, ErlTerm tail) {
      if (tail instanceof ErlList l) {
        if (l.isNil()) {
          return ErlList.ofTrusted(elems, null);
        }
        ErlTerm[] more = l.array();
        ErlTerm[] all = Arrays.copyOf(elems, elems.length + more.length);
        System.arraycopy(more, 0, all, elems.length, more.length);
        return ErlList.ofTrusted(all, l.tailOrNull());
      }
      return elems.length == 0 ? tail : ErlList.ofTrusted(elems, tail);
    }

    private ErlMap map(ErlTerm[] k, ErlTerm[] v, int at) throws TermDecodeException {
      ErlMap m = ErlMap.sortedOrNull(k, v);
      if (m == null) {
        throw error("MAP_EXT has a duplicate key", at);
      }
      return m;
    }

    private ErlBinary binary(int n, int bits) {
      ErlBinary b;
      if (share) {
        b = bits == 8
            ? ErlBinary.of(array, arrayOffset + pos, n)
            : ErlBinary.bitstring(array, arrayOffset + pos, n, bits);
        pos += n;
      } else {
        byte[] data = bytes(n);
        b = bits == 8 ? ErlBinary.of(data) : ErlBinary.bitstring(data, bits);
      }
      return b;
    }

    private ErlFloat oldFloat(int at) throws TermDecodeException {
      need(31, "FLOAT_EXT");
      StringBuilder sb = new StringBuilder(31);
      int i = 0;
      for (; i < 31; i++) {
        int c = byteAt(pos + i) & 0xff;
        if (c == 0) {
          break;
        }
        sb.append((char) c);
      }
      for (; i < 31; i++) {
        if (byteAt(pos + i) != 0) {
          throw error("expected NUL padding after the FLOAT_EXT digits", pos + i);
        }
      }
      pos += 31;
      String s = sb.toString().trim();
      if (!s.matches("[+-]?[0-9]+(\\.[0-9]*)?([eE][+-]?[0-9]+)?")) {
        throw error("expected a decimal float in FLOAT_EXT, found \"" + s + "\"", at);
      }
      double d = Double.parseDouble(s);
      if (!Double.isFinite(d)) {
        throw error("FLOAT_EXT value " + s + " is out of the double range", at);
      }
      return ErlFloat.of(d);
    }

    private ErlInteger big(int n, int at) throws TermDecodeException {
      int sign = u8();
      if (sign > 1) {
        throw error("expected big integer sign 0 or 1, found " + sign, pos - 1);
      }
      need(n, "big integer digits");
      if (n <= 8) {
        long mag = 0;
        for (int i = n - 1; i >= 0; i--) {
          mag = (mag << 8) | (byteAt(pos + i) & 0xff);
        }
        pos += n;
        if (mag >= 0) {
          return ErlInteger.of(sign == 0 ? mag : -mag);
        }
        if (sign == 1 && mag == Long.MIN_VALUE) {
          return ErlInteger.of(Long.MIN_VALUE);
        }
        BigInteger b = new BigInteger(1, new byte[] {
            (byte) (mag >>> 56), (byte) (mag >>> 48), (byte) (mag >>> 40), (byte) (mag >>> 32),
            (byte) (mag >>> 24), (byte) (mag >>> 16), (byte) (mag >>> 8), (byte) mag});
        return ErlInteger.of(sign == 0 ? b : b.negate());
      }
      byte[] be = new byte[n];
      for (int i = 0; i < n; i++) {
        be[n - 1 - i] = byteAt(pos + i);
      }
      pos += n;
      BigInteger b = new BigInteger(1, be);
      return ErlInteger.of(sign == 0 ? b : b.negate());
    }

    private ErlPid pid() throws TermDecodeException {
      int at = pos;
      int tag = u8();
      if (tag != Ext.NEW_PID && tag != Ext.PID) {
        throw error("expected a pid (NEW_PID_EXT or PID_EXT), found " + Ext.name(tag), at);
      }
      ErlAtom node = atom();
      int id = i32("pid id");
      int serial = i32("pid serial");
      int creation = tag == Ext.NEW_PID ? i32("pid creation") : u8();
      return ErlPid.of(node, id, serial, creation);
    }

    private int smallOrInteger(String what) throws TermDecodeException {
      int at = pos;
      int tag = u8();
      if (tag == Ext.SMALL_INTEGER) {
        return u8();
      }
      if (tag == Ext.INTEGER) {
        return i32(what);
      }
      throw error("expected " + what + " as SMALL_INTEGER_EXT or INTEGER_EXT, found " + Ext.name(tag), at);
    }

    private Frame fun(int at) throws TermDecodeException {
      FunHeader h = new FunHeader();
      h.size = u32("NEW_FUN_EXT size");
      h.start = pos - 4;
      length(h.size - 4, 1, "NEW_FUN_EXT", at);
      h.arity = u8();
      need(16, "NEW_FUN_EXT uniq");
      h.uniq = bytes(16);
      h.index = i32("NEW_FUN_EXT index");
      int numFree =
          length(u32("NEW_FUN_EXT free variable count"), 1, "NEW_FUN_EXT free variables", at);
      h.module = atom();
      h.oldIndex = smallOrInteger("NEW_FUN_EXT old index");
      h.oldUniq = smallOrInteger("NEW_FUN_EXT old uniq");
      h.pid = pid();
      Frame f = new Frame(Frame.FUN, at, numFree, numFree);
      f.fun = h;
      return f;
    }

    ErlAtom atom() throws TermDecodeException {
      int at = pos;
      int tag = u8();
      int n;
      boolean utf8;
      switch (tag) {
        case Ext.SMALL_ATOM_UTF8:
          n = u8();
          utf8 = true;
          break;
        case Ext.ATOM_UTF8:
          n = u16();
          utf8 = true;
          break;
        case Ext.SMALL_ATOM:
          n = u8();
          utf8 = false;
          break;
        case Ext.ATOM:
          n = u16();
          utf8 = false;
          break;
        case Ext.ATOM_CACHE_REF:
          {
            int i = u8();
            if (cache == null) {
              throw error("ATOM_CACHE_REF " + i + " outside a distribution header's atom cache", at);
            }
            if (i >= cache.length || cache[i] == null) {
              throw error("ATOM_CACHE_REF " + i + " refers to no atom in the cache", at);
            }
            return cache[i];
          }
        default:
          throw error("expected an atom, found " + Ext.name(tag), at);
      }
      need(n, "atom text");
      int maxChars = limits.maxAtomChars();
      int slot = atomSlot(n);
      ErlAtom cached = cachedAtom(slot, n, utf8);
      if (cached != null && cached.codePointCount() <= maxChars) {
        pos += n;
        return cached;
      }
      ErlAtom a = decodeAtomText(n, utf8, maxChars, at);
      if (utf8 || a.utf8().length == n) {
        ATOM_CACHE[slot] = a;
      }
      return a;
    }

    /**
     * The cached atom whose text is the next {@code n} input bytes, or null. A Latin-1 atom's
     * bytes equal its UTF-8 bytes only when it is ASCII.
     */
    private ErlAtom cachedAtom(int slot, int n, boolean utf8) {
      ErlAtom a = ATOM_CACHE[slot];
      if (a == null) {
        return null;
      }
      byte[] b = a.utf8();
      if (b.length != n || (!utf8 && a.name().length() != n)) {
        return null;
      }
      if (array != null) {
        int from = arrayOffset + pos;
        return Arrays.equals(b, 0, n, array, from, from + n) ? a : null;
      }
      for (int i = 0; i < n; i++) {
        if (b[i] != byteAt(pos + i)) {
          return null;
        }
      }
      return a;
    }

    private int atomSlot(int n) {
      int h = n;
      if (array != null) {
        int from = arrayOffset + pos;
        for (int i = 0; i < n; i++) {
          h = 31 * h + array[from + i];
        }
      } else {
        for (int i = 0; i < n; i++) {
          h = 31 * h + byteAt(pos + i);
        }
      }
      h ^= h >>> 16;
      return h & (ATOM_CACHE.length - 1);
    }

    private ErlAtom decodeAtomText(int n, boolean utf8, int maxChars, int at)
        throws TermDecodeException {
      if (!utf8) {
        if (n > maxChars) {
          throw error("atom of " + n + " characters exceeds the limit of " + maxChars, at);
        }
        return latin1Atom(n);
      }
      if (n > 4 * maxChars) {
        throw error("UTF-8 atom of " + n + " bytes exceeds the limit of " + maxChars + " characters", at);
      }
      boolean ascii = true;
      for (int i = 0; i < n && ascii; i++) {
        ascii = byteAt(pos + i) >= 0;
      }
      if (ascii) {
        if (n > maxChars) {
          throw error("atom of " + n + " characters exceeds the limit of " + maxChars, at);
        }
        byte[] b = bytes(n);
        return ErlAtom.ofTrusted(new String(b, StandardCharsets.ISO_8859_1), b);
      }
      byte[] b = bytes(n);
      String name;
      try {
        CharBuffer cb =
            StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(b));
        name = cb.toString();
      } catch (CharacterCodingException e) {
        throw new TermDecodeException("atom text is not valid UTF-8" + where, at, e);
      }
      int cps = name.codePointCount(0, name.length());
      if (cps > maxChars) {
        throw error("atom of " + cps + " characters exceeds the limit of " + maxChars, at);
      }
      return ErlAtom.ofTrusted(name, b);
    }

    private ErlAtom latin1Atom(int n) {
      boolean ascii = true;
      for (int i = 0; i < n && ascii; i++) {
        ascii = byteAt(pos + i) >= 0;
      }
      byte[] raw = bytes(n);
      String name = new String(raw, StandardCharsets.ISO_8859_1);
      return ErlAtom.ofTrusted(name, ascii ? raw : name.getBytes(StandardCharsets.UTF_8));
    }
  }
  /** The fields of a NEW_FUN_EXT that precede its free variables. */
  private static final class FunHeader {
    long size;
    int start;
    int arity;
    byte[] uniq;
    int index;
    ErlAtom module;
    int oldIndex;
    int oldUniq;
    ErlPid pid;
  }

  /** A container whose items are being read: a tuple, a list and its tail, a map, a fun. */
  private static final class Frame {
    static final int TUPLE = 0;
    static final int LIST = 1;
    static final int MAP = 2;
    static final int FUN = 3;

    final int kind;
    final int at;
    final ErlTerm[] items;
    final int needed;
    int filled;
    ErlTerm tail;
    Frame parent;
    FunHeader fun;

    /** {@code n} item slots; a list needs one more item, its tail. */
    Frame(int kind, int at, int n, int needed) {
      this.kind = kind;
      this.at = at;
      this.items = new ErlTerm[n];
      this.needed = needed;
    }

    void add(ErlTerm t) {
      if (filled < items.length) {
        items[filled] = t;
      } else {
        tail = t;
      }
      filled++;
    }

    boolean complete() {
      return filled == needed;
    }
  }
}
