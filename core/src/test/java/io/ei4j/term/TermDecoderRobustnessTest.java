package io.ei4j.term;

import static io.ei4j.term.TermVectors.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;

/**
 * Untrusted input: truncated at every byte, corrupted at random, forged lengths, deep nesting,
 * oversized compressed terms. Every failure must be a {@link TermDecodeException}; nothing may
 * allocate according to a forged length.
 */
class TermDecoderRobustnessTest {
  private static final TermDecoder DECODER = new TermDecoder();

  private static List<byte[]> corpus() {
    List<byte[]> all = new ArrayList<>();
    for (TermVectors.Vector v : TermVectors.canonical()) {
      all.add(v.bytes());
    }
    all.addAll(TermVectors.decodeOnly());
    all.add(TermEncoder.toBytes(TermVectors.everything()));
    TermBuffer c = new TermBuffer();
    TermEncoder.encodeCompressed(TermVectors.everything(), c, 6);
    all.add(c.toByteArray());
    return all;
  }

  /** Decodes, allowing only success or a TermDecodeException. */
  private static ErlTerm decodeOrReject(byte[] b, int len) {
    try {
      return DECODER.decode(ByteBuffer.wrap(b, 0, len));
    } catch (TermDecodeException expected) {
      assertTrue(expected.offset() >= 0 && expected.offset() <= Math.max(len, 1L << 31), expected.getMessage());
      return null;
    } catch (RuntimeException | Error e) {
      throw new AssertionError("decoding " + Arrays.toString(Arrays.copyOf(b, len)) + " threw " + e, e);
    }
  }

  @Test
  void everyPrefixOfEveryVectorIsATermDecodeException() {
    int prefixes = 0;
    for (byte[] b : corpus()) {
      for (int n = 0; n < b.length; n++) {
        final int len = n;
        TermDecodeException e =
            assertThrows(
                TermDecodeException.class,
                () -> DECODER.decode(ByteBuffer.wrap(b, 0, len)),
                () -> "prefix of " + len + " of " + b.length + " bytes: " + Arrays.toString(b));
        assertTrue(e.offset() <= len, e.getMessage());
        prefixes++;
      }
      assertEquals(b.length, decodeLength(b));
    }
    assertTrue(prefixes > 1000, "prefixes: " + prefixes);
  }

  private static int decodeLength(byte[] b) {
    ByteBuffer in = ByteBuffer.wrap(b);
    try {
      DECODER.decode(in);
    } catch (TermDecodeException e) {
      throw new AssertionError(e);
    }
    return in.position();
  }

  @Test
  void randomCorruptionNeverThrowsAnythingElse() {
    Random r = new Random(42);
    int decoded = 0;
    int rejected = 0;
    for (byte[] orig : corpus()) {
      for (int i = 0; i < 300; i++) {
        byte[] b = orig.clone();
        int flips = 1 + r.nextInt(3);
        for (int f = 0; f < flips; f++) {
          b[1 + r.nextInt(b.length - 1)] = (byte) (r.nextInt(4) == 0 ? 0xFF : r.nextInt(256));
        }
        if (decodeOrReject(b, b.length) == null) {
          rejected++;
        } else {
          decoded++;
        }
      }
    }
    assertTrue(rejected > 0 && decoded > 0, "decoded " + decoded + ", rejected " + rejected);
  }

  @Test
  void forgedLengthsAreCheckedAgainstTheBytesLeftBeforeAllocating() {
    byte[][] forged = {
      bytes(131, 109, 0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3), // BINARY_EXT of 2 GiB
      bytes(131, 109, 0xFF, 0xFF, 0xFF, 0xFF, 1), // BINARY_EXT of 4 GiB
      bytes(131, 108, 0xFF, 0xFF, 0xFF, 0xFF, 106), // LIST_EXT of 4 billion
      bytes(131, 105, 0x7F, 0xFF, 0xFF, 0xFF, 97, 1), // LARGE_TUPLE_EXT
      bytes(131, 116, 0x7F, 0xFF, 0xFF, 0xFF, 97, 1, 97, 2), // MAP_EXT
      bytes(131, 111, 0x7F, 0xFF, 0xFF, 0xFF, 0, 1), // LARGE_BIG_EXT
      bytes(131, 107, 0xFF, 0xFF, 1), // STRING_EXT
      bytes(131, 77, 0xFF, 0xFF, 0xFF, 0xFF, 3, 1), // BIT_BINARY_EXT
      bytes(131, 112, 0xFF, 0xFF, 0xFF, 0xFF, 1), // NEW_FUN_EXT size
      bytes(131, 118, 0xFF, 0xFF, "a"), // ATOM_UTF8_EXT
      bytes(131, 90, 0xFF, 0xFF, 119, 1, "a"), // NEWER_REFERENCE_EXT with 65535 ids
    };
    for (byte[] b : forged) {
      TermDecodeException e = assertThrows(TermDecodeException.class, () -> DECODER.decode(b), Arrays.toString(b));
      assertTrue(e.getMessage().contains("expected") || e.getMessage().contains("exceeds")
          || e.getMessage().contains("truncated"), e.getMessage());
    }
  }

  @Test
  void nestingDeeperThanTheLimitIsRejectedWithoutStackOverflow() throws Exception {
    DecodeLimits limits = DecodeLimits.DEFAULT.withMaxDepth(100);
    TermDecoder d = new TermDecoder(limits);
    assertEquals(100, depth(d.decode(nested(100))));
    TermDecodeException e = assertThrows(TermDecodeException.class, () -> d.decode(nested(101)));
    assertTrue(e.getMessage().contains("maxDepth (100)"), e.getMessage());
    // The default has no depth limit, as Erlang: a million levels of [[[...]]] decode.
    assertEquals(1_000_000, depth(DECODER.decode(nested(1_000_000))));
    assertThrows(TermDecodeException.class, () -> new TermDecoder(DecodeLimits.DEFAULT.withMaxDepth(1_000)).decode(nested(1_000_000)));
    // The decoder keeps containers on the heap: a million levels decode when allowed, even on
    // a small stack.
    Thread small = new Thread(null, () -> {
      try {
        TermDecoder deep = new TermDecoder(DecodeLimits.DEFAULT.withMaxDepth(2_000_000));
        assertEquals(1_000_000, depth(deep.decode(nested(1_000_000))));
      } catch (TermDecodeException ex) {
        throw new AssertionError(ex);
      }
    }, "small-stack", 128 * 1024);
    java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
    small.setUncaughtExceptionHandler((t, ex) -> failure.set(ex));
    small.start();
    small.join();
    if (failure.get() != null) {
      throw new AssertionError("decoding on a 128 KiB stack failed", failure.get());
    }
    // A term 1,000 deep can be used: encoded, printed, hashed, compared.
    ErlTerm limit = DECODER.decode(nested(1_000));
    assertEquals(limit, DECODER.decode(TermEncoder.toBytes(limit)));
    String printed = limit.toString();
    assertEquals("[".repeat(1000) + "1" + "]".repeat(1000), printed);
    // The parser, for text people write, stops at 500 levels with a clean error.
    assertEquals(500, depth(Terms.parse("[".repeat(500) + "1" + "]".repeat(500))));
    assertThrows(TermParseException.class, () -> Terms.parse("[".repeat(501) + "1" + "]".repeat(501)));
    assertEquals(limit.hashCode(), DECODER.decode(nested(1000)).hashCode());
    assertEquals(0, limit.compareTo(DECODER.decode(nested(1000))));
    // Long flat lists are not deep.
    ErlTerm[] many = new ErlTerm[100_000];
    Arrays.fill(many, ErlAtom.OK);
    assertEquals(100_000, ((ErlList) d.decode(TermEncoder.toBytes(ErlList.of(many)))).size());
  }

  @Test
  void encodingAndPrintingDoNotRecurseOnDeepTerms() throws Exception {
    ErlTerm t = ErlInteger.of(7);
    for (int i = 0; i < 200_000; i++) {
      t = i % 3 == 0 ? ErlTuple.of(t, ErlAtom.OK) : i % 3 == 1 ? ErlList.of(t) : ErlMap.of(java.util.Map.of(ErlAtom.OK, t));
    }
    ErlTerm deep = t;
    assertEquals(Boolean.TRUE, onSmallStack(256 * 1024, () -> {
      byte[] bytes = TermEncoder.toBytes(deep);
      ErlTerm back = new TermDecoder(DecodeLimits.DEFAULT.withMaxDepth(300_000)).decode(bytes);
      return java.util.Arrays.equals(bytes, TermEncoder.toBytes(back)) && deep.toString().equals(back.toString());
    }));
  }

  /**
   * Runs {@code check} on a new thread with a stack of {@code stackBytes}: what it returned,
   * or what it threw (a {@link StackOverflowError} included), for the caller to assert on.
   */
  private static Object onSmallStack(long stackBytes, java.util.concurrent.Callable<Boolean> check) throws InterruptedException {
    java.util.concurrent.atomic.AtomicReference<Object> result = new java.util.concurrent.atomic.AtomicReference<>();
    Thread small = new Thread(null, () -> {
      try {
        result.set(check.call());
      } catch (Throwable e) {
        result.set(e);
      }
    }, "small-stack", stackBytes);
    small.start();
    small.join();
    return result.get();
  }

  @Test
  void termsNestedThroughLastElementsEncodeAndDecodeOnASmallStack() throws Exception {
    // The shape of most deep terms: each level is the last element of a tuple, a proper
    // list, an improper list's tail or a map's last value. The encoder loops over last
    // elements and the decoder leaves recursion after a bounded depth, so a million levels
    // need no more than a 128 KiB stack, in both directions.
    ErlTerm t = ErlAtom.of("leaf");
    for (int i = 0; i < 1_000_000; i++) {
      switch (i % 4) {
        case 0 -> t = ErlTuple.of(ErlInteger.of(i), t);
        case 1 -> t = ErlList.of(ErlAtom.OK, t);
        case 2 -> t = ErlList.improper(List.of(ErlInteger.of(i)), t);
        default -> t = ErlMap.of(java.util.Map.of(ErlAtom.ERROR, ErlAtom.OK, ErlAtom.OK, t));
      }
    }
    ErlTerm deep = t;
    assertEquals(Boolean.TRUE, onSmallStack(128 * 1024, () -> {
      byte[] bytes = TermEncoder.toBytes(deep);
      ErlTerm back = new TermDecoder(DecodeLimits.DEFAULT.withMaxDepth(2_000_000)).decode(bytes);
      return Arrays.equals(bytes, TermEncoder.toBytes(back));
    }));
  }

  @Test
  void lastElementsAndTheEndsOfTheirListsAreWrittenInOrder() throws Exception {
    ErlAtom a = ErlAtom.of("a");
    ErlAtom c = ErlAtom.of("c");
    ErlAtom d = ErlAtom.of("d");
    // [{1, [a]}, c | d]: the [] of [a] comes before c, and the improper tail d last.
    ErlTerm improper = ErlList.improper(List.of(ErlTuple.of(ErlInteger.of(1), ErlList.of(a)), c), d);
    assertArrayEquals(
        bytes(131, 108, 0, 0, 0, 2, 104, 2, 97, 1, 108, 0, 0, 0, 1, 119, 1, "a", 106, 119, 1, "c", 119, 1, "d"),
        TermEncoder.toBytes(improper));
    // [{[[z]]}]: three lists end together after z.
    ErlTerm ends = ErlList.of(ErlTuple.of(ErlList.of(ErlList.of(ErlAtom.of("z")))));
    assertArrayEquals(
        bytes(131, 108, 0, 0, 0, 1, 104, 1, 108, 0, 0, 0, 1, 108, 0, 0, 0, 1, 119, 1, "z", 106, 106, 106),
        TermEncoder.toBytes(ends));
    // {[#{k => [v]}], x}: a list inside a map's last value, then a tuple's last element.
    ErlTerm mixed = ErlTuple.of(
        ErlList.of(ErlMap.of(java.util.Map.of(ErlAtom.of("k"), ErlList.of(ErlAtom.of("v"))))), ErlAtom.of("x"));
    assertArrayEquals(
        bytes(131, 104, 2, 108, 0, 0, 0, 1, 116, 0, 0, 0, 1, 119, 1, "k", 108, 0, 0, 0, 1, 119, 1, "v", 106, 106,
            119, 1, "x"),
        TermEncoder.toBytes(mixed));
    for (ErlTerm term : List.of(improper, ends, mixed)) {
      assertEquals(term, DECODER.decode(TermEncoder.toBytes(term)));
    }
  }

  @Test
  void termsCrossingTheRecursionBoundaryKeepTheirShape() throws Exception {
    // Siblings before and after a nested subterm, at every depth from 1 to 300, so that
    // decoding switches from recursion to the explicit stack (and back) mid-term.
    for (int depth : new int[] {1, 63, 64, 65, 66, 127, 128, 129, 300}) {
      ErlTerm t = ErlInteger.of(-1);
      for (int i = 0; i < depth; i++) {
        switch (i % 3) {
          case 0 -> t = ErlTuple.of(ErlAtom.OK, t, ErlInteger.of(i));
          case 1 -> t = ErlList.of(ErlFloat.of(i), t, ErlBinary.of(new byte[] {(byte) i}));
          default -> t = ErlMap.of(java.util.Map.of(ErlInteger.of(i), t, ErlAtom.ERROR, ErlList.of()));
        }
      }
      byte[] bytes = TermEncoder.toBytes(t);
      ErlTerm back = DECODER.decode(bytes);
      assertEquals(t, back, "depth " + depth);
      assertArrayEquals(bytes, TermEncoder.toBytes(back), "depth " + depth);
      assertEquals(t, DECODER.decode(ByteBuffer.wrap(bytes).asReadOnlyBuffer()), "read-only buffer, depth " + depth);
      assertEquals(t, DECODER.sharingBinaries().decode(bytes), "sharing, depth " + depth);
    }
  }

  /** {@code depth} one-element lists around 1: [[...[1]...]]. */
  private static byte[] nested(int depth) {
    ByteBuffer b = ByteBuffer.allocate(1 + depth * 5 + 2 + depth);
    b.put((byte) 131);
    for (int i = 0; i < depth; i++) {
      b.put((byte) 108).putInt(1);
    }
    b.put((byte) 97).put((byte) 1);
    for (int i = 0; i < depth; i++) {
      b.put((byte) 106);
    }
    return b.array();
  }

  private static int depth(ErlTerm t) {
    int d = 0;
    while (t instanceof ErlList l && !l.isNil()) {
      d++;
      t = l.get(0);
    }
    return d;
  }

  @Test
  void compressedSizeIsCheckedBeforeInflating() throws Exception {
    byte[] big = new byte[10_000];
    TermBuffer out = new TermBuffer();
    TermEncoder.encodeCompressed(ErlBinary.of(big), out, 6);
    byte[] c = out.toByteArray();
    TermDecoder small = new TermDecoder(DecodeLimits.DEFAULT.withMaxInflatedBytes(1_000));
    TermDecodeException e = assertThrows(TermDecodeException.class, () -> small.decode(c));
    assertTrue(e.getMessage().contains("over the limit of 1000"), e.getMessage());
    assertEquals(1, e.offset());

    // A forged size of 4 GiB, or of 60 MiB (under the limit), with a few bytes of data:
    // rejected before anything is allocated for it.
    byte[] forged = bytes(131, 80, 0xFF, 0xFF, 0xFF, 0xFF, 0x78, 0x9C, 3, 0);
    assertThrows(TermDecodeException.class, () -> DECODER.decode(forged));
    byte[] forgedSmall = bytes(131, 80, 0x03, 0xC0, 0, 0, 0x78, 0x9C, 3, 0);
    assertTrue(assertThrows(TermDecodeException.class, () -> DECODER.decode(forgedSmall))
        .getMessage().contains("can inflate to"));
    // The most compressible input there is still decodes.
    byte[] zeros = new byte[1_000_000];
    TermBuffer best = new TermBuffer();
    TermEncoder.encodeCompressed(ErlBinary.of(zeros), best, 9);
    assertEquals(ErlBinary.of(zeros), DECODER.decode(best.toByteArray()));

    // Declared size smaller or larger than the real inflated size.
    byte[] tooSmall = c.clone();
    ByteBuffer.wrap(tooSmall).putInt(2, 10_004);
    assertTrue(assertThrows(TermDecodeException.class, () -> DECODER.decode(tooSmall))
        .getMessage().contains("more than the declared"));
    byte[] tooLarge = c.clone();
    ByteBuffer.wrap(tooLarge).putInt(2, 10_006);
    assertThrows(TermDecodeException.class, () -> DECODER.decode(tooLarge));

    // Not zlib at all.
    assertTrue(assertThrows(TermDecodeException.class,
        () -> DECODER.decode(bytes(131, 80, 0, 0, 0, 2, 1, 2, 3, 4)))
        .getMessage().contains("compressed"));
  }

  @Test
  void aCompressedTermMustFillItsInflatedBytesExactly() {
    byte[] plain = bytes(97, 1, 97, 2);
    Deflater d = new Deflater();
    d.setInput(plain);
    d.finish();
    byte[] z = new byte[64];
    int n = d.deflate(z);
    d.end();
    ByteBuffer b = ByteBuffer.allocate(6 + n);
    b.put((byte) 131).put((byte) 80).putInt(plain.length).put(z, 0, n);
    TermDecodeException e = assertThrows(TermDecodeException.class, () -> DECODER.decode(b.array()));
    assertTrue(e.getMessage().contains("inflated data"), e.getMessage());
  }

  @Test
  void maxTermBytesBoundsTheInput() throws Exception {
    byte[] b = TermEncoder.toBytes(ErlBinary.of(new byte[100]));
    TermDecoder tight = new TermDecoder(DecodeLimits.DEFAULT.withMaxTermBytes(50));
    TermDecodeException e = assertThrows(TermDecodeException.class, () -> tight.decode(b));
    assertTrue(e.getMessage().contains("maxTermBytes"), e.getMessage());
    assertEquals(ErlBinary.of(new byte[100]), new TermDecoder(DecodeLimits.DEFAULT.withMaxTermBytes(106)).decode(b));
  }

  @Test
  void atomsAreValidatedAndLimited() throws Exception {
    byte[] latin = new byte[256];
    Arrays.fill(latin, (byte) 'a');
    assertThrows(TermDecodeException.class, () -> DECODER.decode(bytes(131, 100, 1, 0, latin)));
    assertEquals(ErlAtom.of("a".repeat(255)), DECODER.decode(bytes(131, 100, 0, 255, Arrays.copyOf(latin, 255))));
    String cjk = "中".repeat(256);
    byte[] utf8 = cjk.getBytes(StandardCharsets.UTF_8);
    assertThrows(TermDecodeException.class,
        () -> DECODER.decode(bytes(131, 118, utf8.length >> 8, utf8.length & 0xFF, utf8)));
    TermDecodeException bad = assertThrows(TermDecodeException.class,
        () -> DECODER.decode(bytes(131, 119, 2, 0xC3, 0x28)));
    assertTrue(bad.getMessage().contains("UTF-8"), bad.getMessage());
    // The shared atom cache neither bypasses a stricter decoder's limit...
    assertEquals(ErlAtom.of("abcdefghijk"), DECODER.decode(bytes(131, 119, 11, "abcdefghijk")));
    TermDecoder short10 = new TermDecoder(new DecodeLimits(10, 10, 1000, 1000));
    assertThrows(TermDecodeException.class, () -> short10.decode(bytes(131, 119, 11, "abcdefghijk")));
    // ...nor confuses Latin-1 bytes with the same UTF-8 bytes.
    assertEquals(ErlAtom.of("é"), DECODER.decode(bytes(131, 119, 2, 0xC3, 0xA9)));
    assertEquals(ErlAtom.of("Ã©"), DECODER.decode(bytes(131, 100, 0, 2, 0xC3, 0xA9)));
    assertEquals(ErlAtom.of("é"), DECODER.decode(bytes(131, 119, 2, 0xC3, 0xA9)));
  }

  @Test
  void malformedFieldsNameWhatWasExpected() {
    String[][] cases = {
      {"expected version byte 131, found 130", "130,97,1"},
      {"unknown tag 200", "131,200"},
      {"expected 1..8 bits", "131,77,0,0,0,1,9,1"},
      {"expected big integer sign 0 or 1, found 2", "131,110,1,2,5"},
      {"duplicate key", "131,116,0,0,0,2,97,1,97,1,97,1,97,2"},
      {"expected an atom", "131,88,97,1,0,0,0,1,0,0,0,0,0,0,0,1"},
      {"expected EXPORT_EXT arity as SMALL_INTEGER_EXT", "131,113,119,1,109,119,1,102,98,0,0,0,1"},
      {"expected 1..5 reference ids", "131,90,0,6,119,1,97,0,0,0,1"},
      {"is not an Erlang float", "131,70,127,240,0,0,0,0,0,0"},
      {"expected a decimal float in FLOAT_EXT", "131,99,78,97,78,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0"},
      {"nested version byte", "131,131,97,1"},
      {"may only follow the version byte", "131,104,1,80,0,0,0,1"},
      {"expected the end of the input", "131,97,1,0"},
    };
    for (String[] c : cases) {
      String[] parts = c[1].split(",");
      byte[] b = new byte[parts.length];
      for (int i = 0; i < parts.length; i++) {
        b[i] = (byte) Integer.parseInt(parts[i]);
      }
      try {
        DECODER.decode(b);
        fail("decoded " + c[1]);
      } catch (TermDecodeException e) {
        assertTrue(e.getMessage().contains(c[0]), c[1] + ": " + e.getMessage());
      }
    }
  }

  @Test
  void newFunSizeMustMatchItsFields() throws Exception {
    TermVectors.Vector fun = TermVectors.canonical().stream()
        .filter(v -> v.name().equals("NEW_FUN_EXT")).findFirst().orElseThrow();
    byte[] b = fun.bytes().clone();
    ByteBuffer.wrap(b).putInt(2, ByteBuffer.wrap(b).getInt(2) - 1);
    TermDecodeException e = assertThrows(TermDecodeException.class, () -> DECODER.decode(b));
    assertTrue(e.getMessage().contains("NEW_FUN_EXT declares"), e.getMessage());
  }
}
