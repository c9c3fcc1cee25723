package io.ei4j.term;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A growable byte buffer that terms are encoded into, meant to be reused: {@link #reset()}
 * keeps the backing array, so encoding message after message into one buffer allocates
 * nothing once it has grown to the largest message.
 *
 * <p>Multi-byte values are written big-endian, as the external term format and the
 * distribution protocol use. Not thread-safe.
 */
public final class TermBuffer {
  /** Arrays larger than this cannot be allocated on common JVMs. */
  private static final int MAX_CAPACITY = Integer.MAX_VALUE - 8;
  /** Big-endian multi-byte stores into the array: one store each instead of one per byte. */
  /** Big-endian 16/32/64-bit views of a byte array, shared by the encoder and the decoder. */
  static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);
  static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
  static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  private byte[] buf;
  /**
   * The number of bytes written. The encoder in this package writes straight into the array
   * that {@link #room} returns and then advances this.
   */
  int len;

  /** A buffer with a 256-byte initial capacity. */
  public TermBuffer() {
    this(256);
  }

  /**
   * A buffer with this initial capacity.
   *
   * @throws IllegalArgumentException if the capacity is negative
   */
  public TermBuffer(int initialCapacity) {
    if (initialCapacity < 0) {
      throw new IllegalArgumentException("negative capacity: " + initialCapacity);
    }
    buf = new byte[initialCapacity];
  }

  /** Empties the buffer, keeping its capacity. */
  public void reset() {
    len = 0;
  }

  /** The number of bytes written. */
  public int length() {
    return len;
  }

  /**
   * The backing array; bytes {@code 0..length()-1} are valid. The array is replaced when the
   * buffer grows, so do not keep it across writes.
   */
  public byte[] array() {
    return buf;
  }

  /** A view of bytes {@code 0..length()-1}, sharing the backing array (no copy). */
  public ByteBuffer asByteBuffer() {
    return ByteBuffer.wrap(buf, 0, len);
  }

  /** A copy of bytes {@code 0..length()-1}. */
  public byte[] toByteArray() {
    return Arrays.copyOf(buf, len);
  }

  /**
   * Makes room for {@code n} more bytes.
   *
   * @throws IllegalStateException if the buffer would exceed the largest array size
   */
  public void ensureCapacity(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("negative size: " + n);
    }
    if (n > buf.length - len) {
      grow(n);
    }
  }

  /**
   * Makes room for {@code n >= 0} more bytes and returns the backing array, into which the
   * caller may then write bytes {@code len .. len + n - 1} before advancing {@link #len}.
   */
  byte[] room(int n) {
    byte[] b = buf;
    if (n > b.length - len) {
      grow(n);
      b = buf;
    }
    return b;
  }

  private void grow(int n) {
    long need = (long) len + n;
    if (need > MAX_CAPACITY) {
      throw new IllegalStateException("term buffer cannot hold " + need + " bytes");
    }
    long cap = Math.max(need, Math.max(64L, (long) buf.length * 2));
    buf = Arrays.copyOf(buf, (int) Math.min(cap, MAX_CAPACITY));
  }

  /** Appends one byte. */
  public TermBuffer put(byte b) {
    if (len == buf.length) {
      grow(1);
    }
    buf[len++] = b;
    return this;
  }

  /** Appends the low 8 bits of {@code b}. */
  public TermBuffer put(int b) {
    return put((byte) b);
  }

  /** Appends the low 16 bits of {@code v}, big-endian. */
  public TermBuffer putShort(int v) {
    ensureCapacity(2);
    SHORT.set(buf, len, (short) v);
    len += 2;
    return this;
  }

  /** Appends {@code v}, big-endian. */
  public TermBuffer putInt(int v) {
    ensureCapacity(4);
    INT.set(buf, len, v);
    len += 4;
    return this;
  }

  /** Appends {@code v}, big-endian. */
  public TermBuffer putLong(long v) {
    ensureCapacity(8);
    LONG.set(buf, len, v);
    len += 8;
    return this;
  }

  /** Appends {@code n} bytes of {@code a} from {@code off}. */
  public TermBuffer put(byte[] a, int off, int n) {
    java.util.Objects.checkFromIndexSize(off, n, a.length);
    ensureCapacity(n);
    System.arraycopy(a, off, buf, len, n);
    len += n;
    return this;
  }

  /** Appends all of {@code a}. */
  public TermBuffer put(byte[] a) {
    return put(a, 0, a.length);
  }

  /** Appends the remaining bytes of {@code src}, advancing its position. */
  public TermBuffer put(ByteBuffer src) {
    int n = src.remaining();
    ensureCapacity(n);
    src.get(buf, len, n);
    len += n;
    return this;
  }

  /** Overwrites 4 bytes at {@code index} (which must be below {@code length() - 3}). */
  public void setInt(int index, int v) {
    java.util.Objects.checkFromIndexSize(index, 4, len);
    INT.set(buf, index, v);
  }

  /** Shortens the buffer to {@code newLength} bytes. */
  public void truncate(int newLength) {
    if (newLength < 0 || newLength > len) {
      throw new IllegalArgumentException("cannot truncate " + len + " bytes to " + newLength);
    }
    len = newLength;
  }
}
