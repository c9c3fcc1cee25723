package io.ei4j.term;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import org.junit.jupiter.api.Test;

/**
 * {@link TermBuffer#referenceBinariesFrom}: a buffer that references large binaries holds the
 * same content, byte for byte, as one that copies them, through every way of reading it.
 */
class TermBufferReferenceTest {
  private static byte[] bytes(int n, int seed) {
    byte[] a = new byte[n];
    for (int i = 0; i < n; i++) {
      a[i] = (byte) (seed + 7 * i);
    }
    return a;
  }

  /**
   * Binaries of 9, 8 and 7 bytes (the last one a slice of a larger array), a 10-byte
   * bitstring whose unused low bits are set, a 1-byte bitstring and an empty binary.
   */
  private static ErlTerm term() {
    byte[] wide = bytes(20, 3);
    byte[] bits = bytes(10, 5);
    bits[9] = (byte) 0xff;
    return ErlTuple.of(
        ErlAtom.of("seq"),
        ErlBinary.of(bytes(9, 1)),
        ErlList.of(ErlBinary.of(bytes(8, 2)), ErlInteger.of(42), ErlBinary.of(wide, 6, 7)),
        ErlBinary.bitstring(bits, 3),
        ErlBinary.bitstring(new byte[] {(byte) 0xff}, 2),
        ErlBinary.EMPTY,
        ErlAtom.of("end"));
  }

  private static byte[] copying(ErlTerm t) {
    TermBuffer b = new TermBuffer();
    TermEncoder.encode(t, b);
    return b.toByteArray();
  }

  private static TermBuffer referencing(ErlTerm t) {
    TermBuffer b = new TermBuffer();
    b.referenceBinariesFrom(7);
    TermEncoder.encode(t, b);
    return b;
  }

  private static byte[] concat(ByteBuffer[] pieces) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (ByteBuffer p : pieces) {
      byte[] a = new byte[p.remaining()];
      p.duplicate().get(a);
      out.writeBytes(a);
    }
    return out.toByteArray();
  }

  @Test
  void binariesFromTheThresholdAreReferencedNotCopied() throws TermDecodeException {
    TermBuffer b = referencing(term());
    byte[] expected = copying(term());
    assertEquals(4, b.referenceCount(), "9, 8 and 7 bytes, and 9 whole bytes of the 10-byte bitstring");
    assertEquals(expected.length, b.length());
    ByteBuffer[] pieces = b.asByteBuffers(0, b.length());
    assertEquals(9, pieces.length, "array, binary, array, binary, array, binary, array, bitstring, array");
    assertArrayEquals(expected, concat(pieces));
    assertEquals(4, b.referenceCount(), "viewing copies nothing in");
    assertEquals(term(), new TermDecoder().decode(concat(pieces)));
  }

  @Test
  void everySubrangeIsTheSameBytes() {
    byte[] expected = copying(term());
    TermBuffer b = referencing(term());
    for (int from = 0; from <= expected.length; from++) {
      for (int to = from; to <= expected.length; to++) {
        ByteBuffer[] pieces = b.asByteBuffers(from, to);
        byte[] want = java.util.Arrays.copyOfRange(expected, from, to);
        assertArrayEquals(want, concat(pieces), from + ".." + to);
        for (ByteBuffer p : pieces) {
          assertTrue(p.hasRemaining(), "no empty pieces in " + from + ".." + to);
        }
      }
    }
    assertThrows(IndexOutOfBoundsException.class, () -> b.asByteBuffers(0, expected.length + 1));
    assertThrows(IndexOutOfBoundsException.class, () -> b.asByteBuffers(2, 1));
  }

  @Test
  void referencedBytesAreHandedOutReadOnly() {
    byte[] owned = bytes(100, 9);
    TermBuffer b = new TermBuffer();
    b.referenceBinariesFrom(64);
    TermEncoder.encode(ErlBinary.of(owned), b);
    ByteBuffer[] pieces = b.asByteBuffers(0, b.length());
    assertEquals(2, pieces.length);
    assertTrue(pieces[1].isReadOnly());
    assertThrows(ReadOnlyBufferException.class, () -> pieces[1].put(0, (byte) 1));
    assertArrayEquals(bytes(100, 9), owned);
  }

  @Test
  void contiguousAccessCopiesTheReferencesIn() {
    byte[] expected = copying(term());
    TermBuffer a = referencing(term());
    assertArrayEquals(expected, a.toByteArray());
    assertEquals(0, a.referenceCount());
    assertEquals(expected.length, a.length());

    TermBuffer b = referencing(term());
    byte[] arr = b.array();
    assertEquals(0, b.referenceCount());
    assertArrayEquals(expected, java.util.Arrays.copyOf(arr, b.length()));

    TermBuffer c = referencing(term());
    ByteBuffer whole = c.asByteBuffer();
    assertEquals(0, c.referenceCount());
    assertArrayEquals(expected, concat(new ByteBuffer[] {whole}));

    // Appending after references keeps them where they are.
    TermBuffer d = referencing(term());
    d.putInt(0x01020304);
    byte[] tail = java.util.Arrays.copyOf(expected, expected.length + 4);
    tail[expected.length] = 1;
    tail[expected.length + 1] = 2;
    tail[expected.length + 2] = 3;
    tail[expected.length + 3] = 4;
    assertArrayEquals(tail, concat(d.asByteBuffers(0, d.length())));
    assertEquals(4, d.referenceCount());
    d.truncate(expected.length);
    assertEquals(0, d.referenceCount());
    assertArrayEquals(expected, d.toByteArray());
  }

  @Test
  void setIntBeforeTheFirstReferenceLeavesItReferenced() {
    TermBuffer b = new TermBuffer();
    b.referenceBinariesFrom(7);
    b.putInt(0);
    TermEncoder.encode(term(), b);
    b.setInt(0, 0x0a0b0c0d);
    assertEquals(4, b.referenceCount());
    byte[] got = concat(b.asByteBuffers(0, b.length()));
    assertArrayEquals(new byte[] {10, 11, 12, 13}, java.util.Arrays.copyOf(got, 4));
    assertArrayEquals(copying(term()), java.util.Arrays.copyOfRange(got, 4, got.length));

    // 4 bytes that reach into a referenced binary: copied in first, then overwritten.
    int at = b.length() - 5;
    b.setInt(at, -1);
    assertEquals(0, b.referenceCount());
    assertEquals(-1, TermBuffer.INT.get(b.array(), at));
  }

  @Test
  void resetForgetsTheReferences() {
    TermBuffer b = referencing(term());
    b.reset();
    assertEquals(0, b.referenceCount());
    assertEquals(0, b.length());
    assertEquals(0, b.asByteBuffers(0, 0).length);
    TermEncoder.encode(ErlAtom.of("ok"), b);
    assertArrayEquals(copying(ErlAtom.of("ok")), b.toByteArray());
  }

  @Test
  void referencingIsOffByDefaultAndNeedsAPositiveSize() {
    TermBuffer b = new TermBuffer();
    TermEncoder.encode(term(), b);
    assertEquals(0, b.referenceCount());
    assertThrows(IllegalArgumentException.class, () -> b.referenceBinariesFrom(0));
  }
}
