package io.ei4j.term;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * An Erlang binary or bitstring.
 *
 * <p>A binary is a whole number of bytes ({@link #bitsInLastByte()} is 8). A bitstring's last
 * byte holds {@code bitsInLastByte()} (1..7) significant bits in its most significant
 * positions, as in {@code BIT_BINARY_EXT}; the remaining low bits take no part in equality,
 * ordering or hashing and are written as zeros.
 *
 * <p><b>Ownership.</b> {@link #of(byte[])}, {@link #of(byte[], int, int)} and
 * {@link #bitstring} take the array without copying it: the caller must not modify it
 * afterwards. A decoder made with {@link TermDecoder#sharingBinaries()} does the same with its
 * input. {@link #toByteArray()} always returns a fresh copy, and {@link #asReadOnlyBuffer()} a
 * read-only view.
 */
public final class ErlBinary implements ErlTerm {
  private static final byte[] NO_BYTES = new byte[0];

  /** The empty binary {@code <<>>}. */
  public static final ErlBinary EMPTY = new ErlBinary(NO_BYTES, 0, 0, 8);

  private final byte[] data;
  private final int offset;
  private final int length;
  private final int bits;

  private ErlBinary(byte[] data, int offset, int length, int bits) {
    this.data = data;
    this.offset = offset;
    this.length = length;
    this.bits = bits;
  }

  /** A binary holding {@code bytes}, which it now owns (no copy). */
  public static ErlBinary of(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    return new ErlBinary(bytes, 0, bytes.length, 8);
  }

  /**
   * A binary holding {@code len} bytes of {@code a} from {@code off}; it now owns that range
   * (no copy).
   *
   * @throws IndexOutOfBoundsException if the range is not inside the array
   */
  public static ErlBinary of(byte[] a, int off, int len) {
    Objects.checkFromIndexSize(off, len, a.length);
    return new ErlBinary(a, off, len, 8);
  }

  /**
   * A bitstring of {@code (a.length - 1) * 8 + bitsInLastByte} bits; the significant bits of the
   * last byte are its high bits. Takes ownership of the array (no copy).
   *
   * @throws IllegalArgumentException if {@code bitsInLastByte} is not in 1..8, or the array is
   *     empty while {@code bitsInLastByte} is not 8
   */
  public static ErlBinary bitstring(byte[] a, int bitsInLastByte) {
    return bitstring(a, 0, a.length, bitsInLastByte);
  }

  /** As {@link #bitstring(byte[], int)} for {@code len} bytes of {@code a} from {@code off}. */
  public static ErlBinary bitstring(byte[] a, int off, int len, int bitsInLastByte) {
    Objects.checkFromIndexSize(off, len, a.length);
    if (bitsInLastByte < 1 || bitsInLastByte > 8) {
      throw new IllegalArgumentException("bitsInLastByte must be 1..8, got " + bitsInLastByte);
    }
    if (len == 0 && bitsInLastByte != 8) {
      throw new IllegalArgumentException("an empty bitstring has no last byte");
    }
    return new ErlBinary(a, off, len, bitsInLastByte);
  }

  /** The number of bytes, counting a partial last byte. */
  public int size() {
    return length;
  }

  /** The number of bits: {@code size() * 8} for a binary. */
  public long bitSize() {
    return length == 0 ? 0 : (length - 1) * 8L + bits;
  }

  /** Significant bits in the last byte: 8 for a binary, 1..7 for other bitstrings. */
  public int bitsInLastByte() {
    return bits;
  }

  /** True if this is a binary (a whole number of bytes). */
  public boolean isBinary() {
    return bits == 8;
  }

  /** The byte at {@code index}; for a bitstring's last byte, only its significant bits. */
  public int byteAt(int index) {
    Objects.checkIndex(index, length);
    int b = data[offset + index] & 0xff;
    return index == length - 1 ? b & lastByteMask() : b;
  }

  /** A copy of the bytes; a bitstring's unused low bits are zero in the copy. */
  public byte[] toByteArray() {
    byte[] copy = Arrays.copyOfRange(data, offset, offset + length);
    if (length > 0) {
      copy[length - 1] &= (byte) lastByteMask();
    }
    return copy;
  }

  /**
   * A read-only view of the bytes, without copying them. For a bitstring the last byte is as
   * stored, its unused low bits included.
   */
  public ByteBuffer asReadOnlyBuffer() {
    return ByteBuffer.wrap(data, offset, length).slice().asReadOnlyBuffer();
  }

  int lastByteMask() {
    return (0xff << (8 - bits)) & 0xff;
  }

  byte[] array() {
    return data;
  }

  int arrayOffset() {
    return offset;
  }

  @Override
  public boolean equals(Object o) {
    if (o == this) {
      return true;
    }
    if (!(o instanceof ErlBinary b) || b.length != length || b.bits != bits) {
      return false;
    }
    if (length == 0) {
      return true;
    }
    if (!Arrays.equals(data, offset, offset + length - 1, b.data, b.offset, b.offset + length - 1)) {
      return false;
    }
    return byteAt(length - 1) == b.byteAt(length - 1);
  }

  @Override
  public int hashCode() {
    int h = 31 * bits + length;
    int end = offset + length - 1;
    for (int i = offset; i < end; i++) {
      h = 31 * h + data[i];
    }
    if (length > 0) {
      h = 31 * h + byteAt(length - 1);
    }
    return h;
  }

  /** Erlang syntax: {@code <<"abc">>} when printable, else {@code <<1,2,3>>}; {@code <<1,2:3>>}. */
  @Override
  public String toString() {
    return TermPrinter.print(this);
  }
}
