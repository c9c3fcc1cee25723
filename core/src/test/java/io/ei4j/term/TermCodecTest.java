package io.ei4j.term;

import static io.ei4j.term.TermVectors.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Byte-exact encoding and decoding of every tag, against vectors written from the spec. */
class TermCodecTest {
  static Stream<TermVectors.Vector> canonical() {
    return TermVectors.canonical().stream();
  }

  static Stream<TermVectors.Vector> decodeOnly() {
    return TermVectors.decodeOnlyVectors().stream();
  }

  private static String hex(byte[] b) {
    return HexFormat.ofDelimiter(" ").formatHex(b);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("canonical")
  void encodesExactly(TermVectors.Vector v) {
    assertEquals(hex(v.bytes()), hex(TermEncoder.toBytes(v.term())));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("canonical")
  void decodesExactly(TermVectors.Vector v) throws Exception {
    ErlTerm t = new TermDecoder().decode(v.bytes());
    assertEquals(v.term(), t);
    assertEquals(v.term().hashCode(), t.hashCode());
    assertEquals(0, v.term().compareTo(t));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("decodeOnly")
  void decodesOlderAndNonMinimalEncodings(TermVectors.Vector v) throws Exception {
    ErlTerm t = new TermDecoder().decode(v.bytes());
    assertEquals(v.term(), t);
    // Re-encoding gives the canonical form, which decodes to the same term.
    assertEquals(v.term(), new TermDecoder().decode(TermEncoder.toBytes(t)));
  }

  @Test
  void byteListsUpTo65535ElementsAreStrings() throws Exception {
    ErlTerm[] bytes = new ErlTerm[65536];
    java.util.Arrays.fill(bytes, ErlInteger.of(7));
    byte[] atLimit = TermEncoder.toBytes(ErlList.of(java.util.Arrays.copyOf(bytes, 65535)));
    assertEquals(107, atLimit[1]);
    assertEquals(3 + 65535, atLimit.length - 1);
    byte[] over = TermEncoder.toBytes(ErlList.of(bytes));
    assertEquals(108, over[1]);
    assertEquals(5 + 2 * 65536 + 1, over.length - 1);
    assertEquals(ErlList.of(bytes), new TermDecoder().decode(over));
  }

  @Test
  void decodeAdvancesPositionPastOneTermAndReadsNoFurther() throws Exception {
    byte[] two = bytes(0xEE, 131, 97, 1, 131, 119, 2, "ok", 0xFF);
    ByteBuffer in = ByteBuffer.wrap(two);
    in.position(1);
    TermDecoder d = new TermDecoder();
    assertEquals(ErlInteger.of(1), d.decode(in));
    assertEquals(4, in.position());
    assertEquals(ErlAtom.OK, d.decode(in));
    assertEquals(9, in.position());
  }

  @Test
  void failedDecodeLeavesPositionAlone() {
    ByteBuffer in = ByteBuffer.wrap(bytes(131, 104, 2, 97, 1));
    assertThrows(TermDecodeException.class, () -> new TermDecoder().decode(in));
    assertEquals(0, in.position());
  }

  @Test
  void decodesFromDirectAndReadOnlyBuffers() throws Exception {
    byte[] b = TermEncoder.toBytes(TermVectors.everything());
    ByteBuffer direct = ByteBuffer.allocateDirect(b.length);
    direct.put(b).flip();
    assertEquals(TermVectors.everything(), new TermDecoder().sharingBinaries().decode(direct));
    ByteBuffer ro = ByteBuffer.wrap(b).asReadOnlyBuffer();
    assertEquals(TermVectors.everything(), new TermDecoder().sharingBinaries().decode(ro));
  }

  @Test
  void decodeTermReadsWithoutVersionByte() throws Exception {
    ByteBuffer in = ByteBuffer.wrap(bytes(104, 2, 82, 0, 82, 1));
    ErlAtom[] cache = {ErlAtom.of("foo"), ErlAtom.of("bar")};
    assertEquals(Terms.tuple(Terms.atom("foo"), Terms.atom("bar")), new TermDecoder().decodeTerm(in, cache));
    assertEquals(6, in.position());
  }

  @Test
  void atomCacheRefsResolveOnlyWithACache() throws Exception {
    byte[] b = bytes(131, 88, 82, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1);
    ErlAtom[] cache = new ErlAtom[4];
    cache[3] = TermVectors.AB;
    assertEquals(ErlPid.of(TermVectors.AB, 1, 0, 1), new TermDecoder().decode(ByteBuffer.wrap(b), cache));
    TermDecodeException none = assertThrows(TermDecodeException.class, () -> new TermDecoder().decode(b));
    assertTrue(none.getMessage().contains("ATOM_CACHE_REF 3"), none.getMessage());
    TermDecodeException missing =
        assertThrows(TermDecodeException.class, () -> new TermDecoder().decode(ByteBuffer.wrap(b), new ErlAtom[2]));
    assertEquals(2, missing.offset());
  }

  @Test
  void localExtAndFunExtAreRejectedWithAClearMessage() {
    TermDecodeException local =
        assertThrows(TermDecodeException.class, () -> new TermDecoder().decode(bytes(131, 121, 1, 2, 3)));
    assertTrue(local.getMessage().contains("LOCAL_EXT"), local.getMessage());
    assertEquals(1, local.offset());
    TermDecodeException fun =
        assertThrows(TermDecodeException.class, () -> new TermDecoder().decode(bytes(131, 117, 0, 0, 0, 0)));
    assertTrue(fun.getMessage().contains("FUN_EXT (117)"), fun.getMessage());
  }

  @Test
  void compressedTermsDecodeAndEncodeLikeErlang() throws Exception {
    ErlTerm t = Terms.list(Terms.string("a".repeat(200)), Terms.binary(new byte[300]));
    TermBuffer out = new TermBuffer();
    TermEncoder.encodeCompressed(t, out, 6);
    byte[] c = out.toByteArray();
    assertEquals(131, c[0] & 0xff);
    assertEquals(80, c[1]);
    byte[] plain = TermEncoder.toBytes(t);
    assertEquals(plain.length - 1, ByteBuffer.wrap(c, 2, 4).getInt());
    assertTrue(c.length < plain.length / 4, "compressed " + c.length + " of " + plain.length);
    assertEquals(t, new TermDecoder().decode(c));

    // Too small to gain from compression: written plain, as Erlang does.
    out.reset();
    TermEncoder.encodeCompressed(ErlAtom.OK, out, 9);
    assertArrayEquals(bytes(131, 119, 2, "ok"), out.toByteArray());
    out.reset();
    TermEncoder.encodeCompressed(t, out, 0);
    assertArrayEquals(plain, out.toByteArray());
    assertThrows(IllegalArgumentException.class, () -> TermEncoder.encodeCompressed(t, new TermBuffer(), 10));
  }

  @Test
  void compressedBinariesShareTheInflatedArrayOnly() throws Exception {
    byte[] payload = new byte[1000];
    TermBuffer out = new TermBuffer();
    TermEncoder.encodeCompressed(ErlBinary.of(payload), out, 6);
    ErlBinary b = (ErlBinary) new TermDecoder().decode(out.toByteArray());
    assertEquals(1000, b.size());
  }

  @Test
  void binariesAreCopiedUnlessSharingIsAskedFor() throws Exception {
    byte[] in = bytes(131, 109, 0, 0, 0, 3, 1, 2, 3);
    ErlBinary copied = (ErlBinary) new TermDecoder().decode(in);
    ErlBinary shared = (ErlBinary) new TermDecoder().sharingBinaries().decode(in);
    in[7] = 42;
    assertArrayEquals(new byte[] {1, 2, 3}, copied.toByteArray());
    assertArrayEquals(new byte[] {1, 42, 3}, shared.toByteArray());
  }

  @Test
  void reusedBufferKeepsItsArrayAndEncodingAllocatesNothing() {
    ErlTerm t =
        Terms.tuple(
            Terms.atom("$gen_call"),
            Terms.tuple(ErlPid.of(TermVectors.AB, 1, 2, 3), ErlRef.of(TermVectors.AB, 3, 1, 2, 3)),
            Terms.list(1, 2.5, "text", Terms.map("k", 1L << 40)));
    TermBuffer buf = new TermBuffer(16);
    TermEncoder.encode(t, buf);
    byte[] expected = buf.toByteArray();
    byte[] array = buf.array();
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    for (int i = 0; i < 20_000; i++) {
      buf.reset();
      TermEncoder.encode(t, buf);
    }
    long before = mx.getCurrentThreadAllocatedBytes();
    int rounds = 100_000;
    for (int i = 0; i < rounds; i++) {
      buf.reset();
      TermEncoder.encode(t, buf);
    }
    long perCall = (mx.getCurrentThreadAllocatedBytes() - before) / rounds;
    assertSame(array, buf.array());
    assertArrayEquals(expected, buf.toByteArray());
    assertTrue(perCall < 8, "encoding allocated " + perCall + " bytes per call");
  }

  @Test
  void everyLevelCompressesACompressibleTermAndDecodesBack() throws Exception {
    for (int level = 1; level <= 9; level++) {
      TermBuffer b = new TermBuffer();
      TermEncoder.encodeCompressed(TermVectors.everything(), b, level);
      assertEquals(80, b.array()[1], "level " + level);
      assertEquals(TermVectors.everything(), new TermDecoder().decode(b.toByteArray()));
    }
  }

}
