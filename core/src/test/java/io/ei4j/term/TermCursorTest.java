package io.ei4j.term;

import static io.ei4j.term.TermVectors.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * {@link TermCursor} against the encoder's output and the hand-written vectors of
 * {@link TermVectors}, with {@link TermDecoder} as the reference for where each term ends.
 */
class TermCursorTest {
  private static final TermDecoder DECODER = new TermDecoder();
  private static final ErlAtom FLOOD = ErlAtom.of("flood");
  /** Bytes around a term in its array, which the cursor must neither read nor step into. */
  private static final int PAD = 7;

  /** {@code body} at index {@link #PAD} of a larger array, surrounded by bytes 0xEE. */
  private static byte[] padded(byte[] body) {
    byte[] a = new byte[PAD + body.length + 5];
    Arrays.fill(a, (byte) 0xEE);
    System.arraycopy(body, 0, a, PAD, body.length);
    return a;
  }

  /** A cursor over {@code term} encoded with or without the version byte, past that byte. */
  private static TermCursor cursor(ErlTerm term, boolean versioned) {
    TermBuffer b = new TermBuffer();
    if (versioned) {
      TermEncoder.encode(term, b);
    } else {
      TermEncoder.encodeTerm(term, b);
    }
    byte[] body = b.toByteArray();
    TermCursor c = new TermCursor().reset(padded(body), PAD, body.length, null);
    assertEquals(versioned, c.version());
    assertEquals(PAD + (versioned ? 1 : 0), c.position());
    return c;
  }

  private static TermCursor over(byte[] b) {
    return new TermCursor().reset(b, 0, b.length, null);
  }

  private static void assertAtEnd(TermCursor c) {
    assertFalse(c.hasRemaining(), () -> c.remaining() + " bytes left");
  }

  /** The bytes of {@code v} without its version byte. */
  private static byte[] bare(byte[] versioned) {
    return Arrays.copyOfRange(versioned, 1, versioned.length);
  }

  private static List<TermVectors.Vector> vectors() {
    List<TermVectors.Vector> all = new ArrayList<>(TermVectors.canonical());
    all.addAll(TermVectors.decodeOnlyVectors());
    ErlTerm everything = TermVectors.everything();
    all.add(new TermVectors.Vector("everything", everything, TermEncoder.toBytes(everything)));
    return all;
  }

  /**
   * Reads one term with the cursor's own readers, containers header by header, and builds it,
   * so that the result can be compared with what {@link TermDecoder} makes of the same bytes.
   */
  private static ErlTerm read(TermCursor c) throws TermDecodeException {
    int tag = c.type();
    switch (tag) {
      case 97: case 98: case 110: case 111:
        {
          int at = c.position();
          try {
            return ErlInteger.of(c.longValue());
          } catch (TermDecodeException e) {
            assertTrue(e.getMessage().contains("does not fit in a long"), e.getMessage());
            assertEquals(at, c.position());
            return c.term();
          }
        }
      case 70: case 99:
        return ErlFloat.of(c.doubleValue());
      case 82: case 100: case 115: case 118: case 119:
        return c.atom();
      case 104: case 105:
        {
          ErlTerm[] items = new ErlTerm[c.tupleHeader()];
          for (int i = 0; i < items.length; i++) {
            items[i] = read(c);
          }
          return ErlTuple.of(items);
        }
      case 106: case 108:
        {
          int n = c.listHeader();
          if (n == 0 && tag == 106) {
            return ErlList.NIL;
          }
          List<ErlTerm> items = new ArrayList<>();
          for (int i = 0; i < n; i++) {
            items.add(read(c));
          }
          ErlTerm tail = read(c);
          return n == 0 ? tail : ErlList.improper(items, tail);
        }
      case 107:
        return ErlList.ofString(c.string());
      case 116:
        {
          Map<ErlTerm, ErlTerm> m = new LinkedHashMap<>();
          for (int i = c.mapHeader(); i > 0; i--) {
            ErlTerm k = read(c);
            m.put(k, read(c));
          }
          return ErlMap.of(m);
        }
      case 109:
        {
          byte[] b = new byte[c.binaryLength() + 3];
          int n = c.binary(b, 3);
          return ErlBinary.of(b, 3, n);
        }
      case 88: case 103:
        return c.pid();
      case 90: case 101: case 114:
        return c.ref();
      default:
        return c.term();
    }
  }

  /** Where {@link TermDecoder} ends the bare term at the start of {@code b}. */
  private static int decoderEnd(byte[] b, int from, int to, ErlAtom[] refs) throws TermDecodeException {
    ByteBuffer in = ByteBuffer.wrap(b, from, to - from);
    DECODER.decodeTerm(in, refs);
    return in.position();
  }

  @Test
  void everyReaderReadsWhatTheEncoderWrote() throws Exception {
    for (boolean versioned : new boolean[] {false, true}) {
      for (long v : new long[] {0, 1, 255, 256, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 1L << 31,
          -(1L << 31) - 1, 1L << 40, Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1}) {
        TermCursor c = cursor(ErlInteger.of(v), versioned);
        assertEquals(v, c.longValue());
        assertAtEnd(c);
      }
      for (double d : new double[] {0.0, -0.0, 1.5, -1e300, Double.MAX_VALUE, Double.MIN_VALUE}) {
        TermCursor c = cursor(ErlFloat.of(d), versioned);
        assertEquals(Double.doubleToLongBits(d), Double.doubleToLongBits(c.doubleValue()));
        assertAtEnd(c);
      }
      for (String name : new String[] {"ok", "", "ñ😀", "ж".repeat(200), "a".repeat(255), "$gen_call"}) {
        ErlAtom a = ErlAtom.of(name);
        assertEquals(a, cursor(a, versioned).atom());
        TermCursor c = cursor(a, versioned);
        int at = c.position();
        assertFalse(c.atomIs(ErlAtom.of(name.isEmpty() ? "x" : "x" + name.substring(1))));
        assertEquals(at, c.position());
        assertTrue(c.atomIs(a));
        assertAtEnd(c);
      }
      for (int n : new int[] {0, 3, 1000}) {
        byte[] data = new byte[n];
        for (int i = 0; i < n; i++) {
          data[i] = (byte) (i * 7);
        }
        TermCursor c = cursor(ErlBinary.of(data), versioned);
        assertEquals(n, c.binaryLength());
        ByteBuffer view = c.binary();
        assertAtEnd(c);
        byte[] got = new byte[view.remaining()];
        view.get(got);
        assertArrayEquals(data, got);
        byte[] dst = new byte[n + 2];
        c = cursor(ErlBinary.of(data), versioned);
        assertEquals(n, c.binary(dst, 2));
        assertArrayEquals(data, Arrays.copyOfRange(dst, 2, n + 2));
        assertAtEnd(c);
      }
      StringBuilder allBytes = new StringBuilder();
      for (char ch = 0; ch < 256; ch++) {
        allBytes.append(ch);
      }
      for (String s : new String[] {"hi", "", allBytes.toString()}) {
        TermCursor c = cursor(Terms.string(s), versioned);
        assertEquals(s, c.string());
        assertAtEnd(c);
      }

      TermCursor c = cursor(Terms.tuple(FLOOD, 1, 2.5, Terms.list(7, Terms.string("x")), Terms.map(ErlAtom.of("k"), 300)), versioned);
      assertEquals(5, c.tupleHeader());
      assertTrue(c.atomIs(FLOOD));
      assertEquals(1, c.longValue());
      assertEquals(2.5, c.doubleValue());
      assertEquals(2, c.listHeader());
      assertEquals(7, c.longValue());
      assertEquals("x", c.string());
      assertEquals(0, c.listHeader()); // the tail
      assertEquals(1, c.mapHeader());
      assertEquals(ErlAtom.of("k"), c.atom());
      assertEquals(300, c.longValue());
      assertAtEnd(c);

      ErlTerm[] many = new ErlTerm[300];
      Arrays.fill(many, ErlAtom.OK);
      c = cursor(ErlTuple.of(many), versioned);
      assertEquals(300, c.tupleHeader());
      for (int i = 0; i < 300; i++) {
        assertTrue(c.atomIs(ErlAtom.OK));
      }
      assertAtEnd(c);

      c = cursor(ErlList.improper(List.of(ErlInteger.of(1), ErlAtom.OK), ErlAtom.ERROR), versioned);
      assertEquals(2, c.listHeader());
      assertEquals(1, c.longValue());
      assertEquals(ErlAtom.OK, c.atom());
      assertEquals(ErlAtom.ERROR, c.atom());
      assertAtEnd(c);

      ErlPid pid = ErlPid.of(TermVectors.AB, 42, 1, 0xF0000001);
      ErlRef ref = ErlRef.of(TermVectors.AB, 7, 1, 2, 3);
      c = cursor(Terms.tuple(pid, ref), versioned);
      assertEquals(2, c.tupleHeader());
      assertEquals(pid, c.pid());
      assertEquals(ref, c.ref());
      assertAtEnd(c);

      ErlTerm everything = TermVectors.everything();
      c = cursor(everything, versioned);
      assertEquals(everything, c.term());
      assertAtEnd(c);
      assertEquals(everything, read(cursor(everything, versioned)));
    }
  }

  @Test
  void everyVectorReadsAsTheDecoderReadsIt() throws Exception {
    for (TermVectors.Vector v : vectors()) {
      byte[] a = padded(bare(v.bytes()));
      TermCursor c = new TermCursor().reset(a, PAD, v.bytes().length - 1, null);
      assertEquals(v.term(), read(c), v.name());
      assertAtEnd(c);
      if (v.term() instanceof ErlAtom atom) {
        c.position(PAD);
        assertTrue(c.atomIs(atom), v.name());
        assertAtEnd(c);
      }
      c.reset(a, PAD - 1, v.bytes().length, null);
      c.position(PAD);
      assertEquals(v.term(), c.term(), v.name());
      assertAtEnd(c);
    }
  }

  @Test
  void aFloodMessageIsWalkedWithoutCopyingItsBinary() throws Exception {
    byte[] payload = new byte[1 << 20];
    for (int i = 0; i < payload.length; i++) {
      payload[i] = (byte) (i * 31 + 1);
    }
    TermBuffer out = new TermBuffer();
    TermEncoder.encode(Terms.tuple(FLOOD, 123, ErlBinary.of(payload)), out);
    byte[] frame = out.array(); // a reused buffer: longer than the message
    int length = out.length();

    TermCursor c = new TermCursor();
    assertSame(c, c.reset(frame, 0, length, null));
    assertTrue(c.version());
    assertEquals(3, c.tupleHeader());
    assertTrue(c.atomIs(FLOOD));
    assertEquals(123, c.longValue());
    assertEquals(payload.length, c.binaryLength());
    int binaryAt = c.position();
    ByteBuffer slice = c.binary();
    assertAtEnd(c);
    assertEquals(length, c.position());
    assertTrue(slice.isReadOnly());
    assertEquals(0, slice.position());
    assertEquals(payload.length, slice.remaining());
    assertEquals(ByteBuffer.wrap(payload), slice);
    // The slice is a view of the frame: a change to the frame shows through it.
    frame[binaryAt + 5] ^= (byte) 0xFF;
    frame[length - 1] ^= (byte) 0xFF;
    assertEquals((byte) ~payload[0], slice.get(0));
    assertEquals((byte) ~payload[payload.length - 1], slice.get(payload.length - 1));
    frame[binaryAt + 5] ^= (byte) 0xFF;
    frame[length - 1] ^= (byte) 0xFF;

    // Walking the message again and again allocates nothing.
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (int i = 0; i < 20_000; i++) {
      sum += walk(c, frame, length);
    }
    long before = mx.getCurrentThreadAllocatedBytes();
    int rounds = 100_000;
    for (int i = 0; i < rounds; i++) {
      sum += walk(c, frame, length);
    }
    long perWalk = (mx.getCurrentThreadAllocatedBytes() - before) / rounds;
    assertEquals(120_000L * (123 + payload.length), sum);
    assertTrue(perWalk < 8, "a walk allocated " + perWalk + " bytes");
  }

  private static long walk(TermCursor c, byte[] frame, int length) throws TermDecodeException {
    c.reset(frame, 0, length, null);
    if (!c.version() || c.tupleHeader() != 3 || !c.atomIs(FLOOD)) {
      throw new AssertionError("not a flood message");
    }
    long seq = c.longValue();
    int n = c.binaryLength();
    c.skip();
    return seq + n;
  }

  @Test
  void atomCacheRefsResolveThroughTheTable() throws Exception {
    ErlAtom node = ErlAtom.of("n@h");
    ErlAtom[] refs = {FLOOD, null, node};
    // {Ref 0, <Ref 2 . 1.2.3>, Ref 1}: the last resolves to nothing.
    byte[] b = bytes(104, 3, 82, 0, 88, 82, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 82, 1);
    TermCursor c = new TermCursor().reset(b, 0, b.length, refs);
    assertEquals(3, c.tupleHeader());
    assertEquals(82, c.type());
    assertEquals(FLOOD, c.atom());
    assertEquals(ErlPid.of(node, 1, 2, 3), c.pid());
    int at = c.position();
    assertEquals(82, c.type());
    TermDecodeException e = assertThrows(TermDecodeException.class, c::atom);
    assertTrue(e.getMessage().contains("ATOM_CACHE_REF 1 refers to no atom"), e.getMessage());
    assertEquals(at, e.offset());
    assertEquals(at, c.position());
    assertThrows(TermDecodeException.class, () -> c.atomIs(FLOOD));
    assertEquals(at, c.position());

    c.reset(b, 2, 2, refs);
    assertFalse(c.atomIs(node));
    assertTrue(c.atomIs(FLOOD));
    c.reset(b, 2, 2, refs);
    c.skip();
    assertAtEnd(c);
    c.reset(b, 0, b.length, refs);
    assertThrows(TermDecodeException.class, c::skip); // the last element does not resolve
    assertThrows(TermDecodeException.class, c::term);
    assertEquals(0, c.position());
    refs[1] = ErlAtom.OK;
    assertEquals(Terms.tuple(FLOOD, ErlPid.of(node, 1, 2, 3), ErlAtom.OK), c.term());
    c.reset(b, 0, b.length, refs);
    c.skip();
    assertEquals(b.length, c.position());

    byte[] outOfRange = bytes(82, 3);
    c.reset(outOfRange, 0, 2, refs);
    e = assertThrows(TermDecodeException.class, c::atom);
    assertTrue(e.getMessage().contains("ATOM_CACHE_REF 3 refers to no atom"), e.getMessage());
    assertThrows(TermDecodeException.class, c::skip);
    assertEquals(0, c.position());

    c.reset(b, 0, b.length, null);
    assertEquals(3, c.tupleHeader());
    e = assertThrows(TermDecodeException.class, c::atom);
    assertTrue(e.getMessage().contains("without an atom cache"), e.getMessage());
    assertEquals(2, c.position());
    c.reset(b, 4, b.length - 4, null);
    assertThrows(TermDecodeException.class, c::pid);
    assertThrows(TermDecodeException.class, c::skip);
    assertEquals(4, c.position());
  }

  @Test
  void skipEndsWhereTheDecoderEnds() throws Exception {
    TermCursor c = new TermCursor();
    for (TermVectors.Vector v : vectors()) {
      byte[] b = bare(v.bytes());
      byte[] a = padded(b);
      c.reset(a, PAD, a.length - PAD, null); // the padding after the term is readable too
      c.skip();
      assertEquals(decoderEnd(a, PAD, a.length, null), c.position(), v.name());
      assertEquals(PAD + b.length, c.position(), v.name());
    }
    // All of them in one tuple, and in one list with an improper tail.
    List<ErlTerm> terms = new ArrayList<>();
    for (TermVectors.Vector v : vectors()) {
      terms.add(v.term());
    }
    for (ErlTerm t : List.of(ErlTuple.of(terms), ErlList.improper(terms, ErlAtom.OK))) {
      byte[] b = padded(TermEncoder.toBytes(t));
      c.reset(b, 0, b.length, null);
      c.position(PAD + 1);
      c.skip();
      assertEquals(decoderEnd(b, PAD + 1, b.length, null), c.position());
    }
  }

  @Test
  void skipPassesOverAMillionLevelsWithoutRecursion() throws Exception {
    int depth = 1_000_000;
    ByteBuffer lists = ByteBuffer.allocate(depth * 6 + 2);
    for (int i = 0; i < depth; i++) {
      lists.put((byte) 108).putInt(1);
    }
    lists.put((byte) 97).put((byte) 1);
    for (int i = 0; i < depth; i++) {
      lists.put((byte) 106);
    }
    ByteBuffer tuples = ByteBuffer.allocate(depth * 2 + 2);
    for (int i = 0; i < depth; i++) {
      tuples.put((byte) 104).put((byte) 1);
    }
    tuples.put((byte) 106);
    tuples.put((byte) 0x11); // not part of the term
    for (byte[] b : new byte[][] {lists.array(), tuples.array()}) {
      TermCursor c = over(b);
      c.skip();
      assertEquals(decoderEnd(b, 0, b.length, null), c.position());
      // One byte short, the nesting is rejected as a whole and the position kept.
      c.reset(b, 0, c.position() - 1, null);
      assertThrows(TermDecodeException.class, c::skip);
      assertEquals(0, c.position());
    }
  }

  /** Readers for one tag; each must fail on any prefix of a term of that tag. */
  private static List<Executable> leafReaders(TermCursor c, int tag) {
    List<Executable> r = new ArrayList<>(List.of(c::skip, c::term));
    switch (tag) {
      case 97, 98, 110, 111 -> r.add(c::longValue);
      case 70, 99 -> r.add(c::doubleValue);
      case 100, 115, 118, 119 -> {
        r.add(c::atom);
        r.add(() -> c.atomIs(ErlAtom.of("\uFFFF")));
      }
      case 107 -> r.add(c::string);
      case 109 -> {
        r.add(c::binary);
        r.add(c::binaryLength);
        r.add(() -> c.binary(new byte[10_000], 0));
      }
      case 88, 103 -> r.add(c::pid);
      case 90, 101, 114 -> r.add(c::ref);
      default -> { }
    }
    return r;
  }

  @Test
  void everyPrefixOfEveryVectorFailsWithThePositionKept() throws Exception {
    int checked = 0;
    for (TermVectors.Vector v : vectors()) {
      byte[] b = bare(v.bytes());
      for (int n = 0; n < b.length; n++) {
        // The bytes past the cursor's end are there in the array, but out of its range.
        TermCursor c = new TermCursor().reset(b, 0, n, null);
        int tag = b[0] & 0xff;
        for (Executable read : leafReaders(c, tag)) {
          TermDecodeException e =
              assertThrows(TermDecodeException.class, read, () -> v.name() + " cut to " + c.remaining());
          assertTrue(e.offset() >= 0 && e.offset() <= n, e.getMessage());
          assertEquals(0, c.position(), v.name());
          checked++;
        }
        // Container headers may be whole in a prefix; if not, they fail and keep the position.
        for (Executable header : List.<Executable>of(c::tupleHeader, c::listHeader, c::mapHeader)) {
          try {
            header.execute();
          } catch (TermDecodeException e) {
            assertEquals(0, c.position(), v.name());
          } catch (Throwable e) {
            throw new AssertionError(v.name(), e);
          }
          c.position(0);
        }
      }
    }
    assertTrue(checked > 5_000, "checked " + checked);
  }

  @Test
  void forgedLengthsFailBeforeAnythingIsAllocated() throws Exception {
    byte[] ff = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF};
    byte[][] forged = {
      bytes(109, 0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3), // BINARY_EXT of 2 GiB
      bytes(108, ff, 106), // LIST_EXT of 2^32 - 1 elements
      bytes(105, ff, 97, 1), // LARGE_TUPLE_EXT of arity 2^32 - 1
      bytes(116, ff, 97, 1, 97, 2), // MAP_EXT
      bytes(111, ff, 0, 1), // LARGE_BIG_EXT
      bytes(107, 0xFF, 0xFF, 1), // STRING_EXT
      bytes(77, ff, 3, 1), // BIT_BINARY_EXT
      bytes(112, ff, 1), // NEW_FUN_EXT size
      bytes(118, 0xFF, 0xFF, "a"), // ATOM_UTF8_EXT
      bytes(90, 0xFF, 0xFF, 119, 1, "a"), // NEWER_REFERENCE_EXT with 65535 ids
      bytes(104, 2, 97, 1, 108, ff, 106), // a forged list inside a tuple
      bytes(104, 3, 108, 0, 0, 0, 3, 97, 1, 97, 2), // arities that fit alone but not together
    };
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long before = mx.getCurrentThreadAllocatedBytes();
    TermCursor c = new TermCursor();
    for (byte[] b : forged) {
      c.reset(b, 0, b.length, null);
      List<Executable> readers = leafReaders(c, b[0] & 0xff);
      switch (b[0] & 0xff) {
        case 108 -> readers.add(c::listHeader);
        case 105 -> readers.add(c::tupleHeader);
        case 116 -> readers.add(c::mapHeader);
        default -> { }
      }
      for (Executable read : readers) {
        TermDecodeException e = assertThrows(TermDecodeException.class, read, () -> Arrays.toString(b));
        assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("expected")
            || e.getMessage().contains("exceeds"), e.getMessage());
        assertEquals(0, c.position());
      }
    }
    long allocated = mx.getCurrentThreadAllocatedBytes() - before;
    assertTrue(allocated < (1 << 20), "allocated " + allocated + " bytes");
  }

  @Test
  void aWrongTypeNamesWhatWasExpectedAndWhatWasFound() throws Exception {
    byte[] binary = bytes(109, 0, 0, 0, 1, 5);
    String[][] cases = {
      {"tupleHeader", "109,0,0,0,1,5", "expected a tuple, found a binary (tag 109)"},
      {"listHeader", "107,0,2,104,105", "expected a list, found a string (tag 107); read it with string() or term()"},
      {"binary", "77,0,0,0,1,3,128", "expected a binary, found a bitstring (tag 77); read it with term()"},
      {"longValue", "119,2,111,107", "expected an integer, found an atom (tag 119)"},
      {"atom", "106", "expected an atom, found an empty list (tag 106)"},
      {"mapHeader", "108,0,0,0,0,106", "expected a map, found a list (tag 108)"},
      {"doubleValue", "97,1", "expected a float, found an integer (tag 97)"},
      {"string", "108,0,0,0,1,97,104,106", "expected a string, found a list (tag 108)"},
      {"pid", "90,0,1,119,1,97,0,0,0,1,0,0,0,1", "expected a pid, found a reference (tag 90)"},
      {"ref", "104,0", "expected a reference, found a tuple (tag 104)"},
      {"longValue", "110,9,0,0,0,0,0,0,0,0,0,1", "integer does not fit in a long; read it with term()"},
      {"longValue", "110,8,0,0,0,0,0,0,0,0,128", "integer does not fit in a long"},
      {"tupleHeader", "", "expected a tuple, found the end of the input"},
      {"skip", "200", "expected a term tag, found unknown tag 200"},
      {"skip", "104,2,97,1,131", "nested version byte"},
      {"skip", "131,80,0,0,0,1", "nested version byte"},
      {"skip", "80,0,0,0,1", "compressed term (80)"},
      {"atom", "200", "expected an atom, found an unknown tag (tag 200)"},
      {"pid", "88,97,1", "expected an atom"},
      {"skip", "88,97,1", "expected an atom, found an integer (tag 97)"},
    };
    for (String[] k : cases) {
      byte[] b = new byte[k[1].isEmpty() ? 0 : k[1].split(",").length];
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) Integer.parseInt(k[1].split(",")[i]);
      }
      byte[] a = padded(b);
      TermCursor c = new TermCursor().reset(a, PAD, b.length, null);
      Executable read = switch (k[0]) {
        case "tupleHeader" -> c::tupleHeader;
        case "listHeader" -> c::listHeader;
        case "mapHeader" -> c::mapHeader;
        case "binary" -> c::binary;
        case "longValue" -> c::longValue;
        case "doubleValue" -> c::doubleValue;
        case "atom" -> c::atom;
        case "string" -> c::string;
        case "pid" -> c::pid;
        case "ref" -> c::ref;
        default -> c::skip;
      };
      TermDecodeException e = assertThrows(TermDecodeException.class, read, k[1]);
      assertTrue(e.getMessage().startsWith(k[2]) || e.getMessage().contains(k[2]), k[1] + ": " + e.getMessage());
      assertEquals(PAD, c.position(), k[1]);
    }
    TermCursor c = over(binary);
    assertFalse(c.atomIs(FLOOD)); // not an atom: no error, nothing read
    assertEquals(0, c.position());
    TermDecodeException e = assertThrows(TermDecodeException.class, c::tupleHeader);
    assertEquals("expected a tuple, found a binary (tag 109) (at offset 0)", e.getMessage());
    assertEquals(109, c.type());
    c.reset(binary, 6, 0, null);
    assertThrows(TermDecodeException.class, c::type);
    assertThrows(TermDecodeException.class, () -> c.atomIs(FLOOD));
  }

  @Test
  void positionsVersionsAndBoundsAreTheCallersToSet() throws Exception {
    TermCursor c = new TermCursor();
    assertFalse(c.hasRemaining());
    assertFalse(c.version());
    assertThrows(TermDecodeException.class, c::type);

    byte[] a = bytes(0, 131, 97, 1, 97, 2, 0);
    assertThrows(IndexOutOfBoundsException.class, () -> c.reset(a, 5, 3, null));
    assertThrows(IndexOutOfBoundsException.class, () -> c.reset(a, -1, 1, null));
    c.reset(a, 1, 5, null);
    assertEquals(1, c.position());
    assertEquals(5, c.remaining());
    assertTrue(c.version());
    assertFalse(c.version()); // only one, and not a term's tag
    assertEquals(2, c.position());
    int at = c.position();
    assertEquals(1, c.longValue());
    c.position(at);
    assertEquals(1, c.longValue());
    assertEquals(2, c.longValue());
    assertEquals(6, c.position());
    assertFalse(c.hasRemaining());
    assertThrows(IllegalArgumentException.class, () -> c.position(0));
    assertThrows(IllegalArgumentException.class, () -> c.position(7));
    c.position(1);
    assertEquals(131, c.type()); // the version byte, unread, is reported as it is

    byte[] bin = bytes(109, 0, 0, 0, 3, 1, 2, 3);
    c.reset(bin, 0, bin.length, null);
    IllegalArgumentException small = assertThrows(IllegalArgumentException.class, () -> c.binary(new byte[4], 2));
    assertTrue(small.getMessage().contains("does not fit"), small.getMessage());
    assertThrows(IndexOutOfBoundsException.class, () -> c.binary(new byte[4], 5));
    assertEquals(0, c.position());
    assertEquals(3, c.binary(new byte[4], 1));
  }

  @Test
  void limitsBoundWhatTheCursorDecodes() throws Exception {
    byte[] deep = TermEncoder.toBytes(Terms.list(Terms.list(Terms.list(ErlAtom.OK))));
    byte[] longAtom = bytes(119, 11, "abcdefghijk");
    DecodeLimits tight = new DecodeLimits(2, 10, 1000, 1000);
    TermCursor c = new TermCursor();
    c.reset(deep, 1, deep.length - 1, null, tight);
    TermDecodeException e = assertThrows(TermDecodeException.class, c::term);
    assertTrue(e.getMessage().contains("maxDepth (2)"), e.getMessage());
    c.skip(); // skipping builds nothing, and so is not bound by the depth
    assertAtEnd(c);
    c.reset(longAtom, 0, longAtom.length, null, tight);
    assertThrows(TermDecodeException.class, c::atom);
    assertThrows(TermDecodeException.class, () -> c.atomIs(ErlAtom.of("abcdefghijk")));
    assertEquals(0, c.position());
    c.reset(longAtom, 0, longAtom.length, null); // back to the defaults
    assertTrue(c.atomIs(ErlAtom.of("abcdefghijk")));
  }
}
