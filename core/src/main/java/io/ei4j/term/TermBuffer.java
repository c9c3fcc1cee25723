package io.ei4j.term;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A growable byte buffer that terms are encoded into, meant to be reused: {@link #reset()}
 * keeps the backing array, so encoding message after message into one buffer allocates
 * nothing once it has grown to the largest message.
 *
 * <p>Multi-byte values are written big-endian, as the external term format and the
 * distribution protocol use. Not thread-safe.
 *
 * <h2>Referenced binaries</h2>
 * A buffer made to {@linkplain #referenceBinariesFrom reference large binaries} does not copy
 * the bytes of an {@link ErlBinary} of at least that size when {@link TermEncoder} encodes
 * it: it writes the binary's tag and length into its array and records where the binary's
 * own bytes belong. The content is then the array with those ranges spliced in:
 *
 * <pre>
 *   array:    | 131 104 3 ... 109 len:32 |            | 106 |
 *   content:  | 131 104 3 ... 109 len:32 | binary ... | 106 |
 *                                         ^ recorded position, array index 12
 * </pre>
 *
 * {@link #asByteBuffers} hands the content to a gathering write as it lies, so a large binary
 * is copied once, by the write, instead of into the buffer and again by the write. Every
 * method that needs the content in one array ({@link #array}, {@link #asByteBuffer},
 * {@link #toByteArray}, {@link #setInt}, {@link #truncate}) first copies the referenced
 * bytes in, after which the buffer holds no references. The referenced arrays are those the
 * binaries own (see {@link ErlBinary}'s ownership rule): the buffer reads them only while
 * its content is read, and {@link #reset} forgets them.
 */
public final class TermBuffer {
  /** Arrays larger than this cannot be allocated on common JVMs. */
  private static final int MAX_CAPACITY = Integer.MAX_VALUE - 8;
  /**
   * Big-endian 16/32/64-bit views of a byte array, shared by the encoder and the decoder:
   * one store or load for a multi-byte value instead of one per byte.
   */
  static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);
  static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
  static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  private byte[] buf;
  /**
   * The number of bytes written. The encoder in this package writes straight into the array
   * that {@link #room} returns and then advances this.
   */
  int len;

  /**
   * Encoded binaries of at least this many bytes are referenced rather than copied;
   * {@link Integer#MAX_VALUE} (larger than any array) turns referencing off.
   */
  int referenceFrom = Integer.MAX_VALUE;
  /** The referenced arrays, with the range of each and where in {@link #buf} it belongs. */
  private byte[][] refArrays = NO_REFS;
  private int[] refOffsets = NO_INTS;
  private int[] refLengths = NO_INTS;
  private int[] refPositions = NO_INTS;
  private int refCount;
  /** The sum of {@link #refLengths}: the content is {@code len + refBytes} bytes. */
  private int refBytes;

  private static final byte[][] NO_REFS = new byte[0][];
  private static final int[] NO_INTS = new int[0];

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

  /**
   * Makes {@link TermEncoder} reference binaries and bitstrings of at least {@code minBytes}
   * bytes instead of copying them (see the class comment); {@link Integer#MAX_VALUE}, the
   * default, copies every binary. Applies to binaries encoded from now on.
   *
   * @throws IllegalArgumentException if {@code minBytes} is below 1
   */
  public void referenceBinariesFrom(int minBytes) {
    if (minBytes < 1) {
      throw new IllegalArgumentException("binaries to reference must be at least 1 byte, got " + minBytes);
    }
    referenceFrom = minBytes;
  }

  /** Empties the buffer, keeping its capacity and forgetting any referenced binaries. */
  public void reset() {
    len = 0;
    dropReferences();
  }

  /** The number of bytes written, referenced binaries included. */
  public int length() {
    return len + refBytes;
  }

  /** How many binaries the content references rather than holds (see the class comment). */
  public int referenceCount() {
    return refCount;
  }

  /** The size of the backing array, which referenced binaries do not occupy. */
  public int capacity() {
    return buf.length;
  }

  /**
   * The backing array; bytes {@code 0..length()-1} are valid (referenced binaries are copied
   * in first). The array is replaced when the buffer grows, so do not keep it across writes.
   */
  public byte[] array() {
    inline();
    return buf;
  }

  /**
   * A view of bytes {@code 0..length()-1}, sharing the backing array (no copy, except that
   * referenced binaries are copied in first).
   */
  public ByteBuffer asByteBuffer() {
    inline();
    return ByteBuffer.wrap(buf, 0, len);
  }

  /**
   * Views of bytes {@code from..to-1} of the content, in order and without copying: slices of
   * the backing array, and read-only views of the referenced binaries' arrays. Empty pieces
   * are left out, so the result is empty when {@code from == to}. The views are valid until
   * the buffer is next written to or reset; their positions and limits are their own.
   *
   * @throws IndexOutOfBoundsException if the range is not inside {@code 0..length()}
   */
  public ByteBuffer[] asByteBuffers(int from, int to) {
    Objects.checkFromToIndex(from, to, length());
    int count = 0;
    ByteBuffer[] out = new ByteBuffer[Math.min(2 * refCount + 1, to - from)];
    int at = 0; // content index of the piece looked at
    int arrayFrom = 0;
    for (int i = 0; i <= refCount && at < to; i++) {
      int arrayTo = i < refCount ? refPositions[i] : len;
      // the array's bytes arrayFrom..arrayTo-1, at content index at
      int n = arrayTo - arrayFrom;
      int lo = Math.max(from, at);
      int hi = Math.min(to, at + n);
      if (lo < hi) {
        out[count++] = ByteBuffer.wrap(buf, arrayFrom + (lo - at), hi - lo);
      }
      at += n;
      if (i < refCount && at < to) {
        n = refLengths[i];
        lo = Math.max(from, at);
        hi = Math.min(to, at + n);
        if (lo < hi) {
          out[count++] = ByteBuffer.wrap(refArrays[i], refOffsets[i] + (lo - at), hi - lo).asReadOnlyBuffer();
        }
        at += n;
      }
      arrayFrom = arrayTo;
    }
    return count == out.length ? out : Arrays.copyOf(out, count);
  }

  /** A copy of bytes {@code 0..length()-1}. */
  public byte[] toByteArray() {
    inline();
    return Arrays.copyOf(buf, len);
  }

  /**
   * Records that {@code n > 0} bytes of {@code a} from {@code off} belong at the current end
   * of the content, without copying them.
   *
   * @throws IllegalStateException if the content would exceed the largest array size
   */
  void reference(byte[] a, int off, int n) {
    if ((long) len + refBytes + n > MAX_CAPACITY) {
      throw new IllegalStateException("term buffer cannot hold " + ((long) len + refBytes + n) + " bytes");
    }
    if (refCount == refArrays.length) {
      int cap = Math.max(4, refCount * 2);
      refArrays = Arrays.copyOf(refArrays, cap);
      refOffsets = Arrays.copyOf(refOffsets, cap);
      refLengths = Arrays.copyOf(refLengths, cap);
      refPositions = Arrays.copyOf(refPositions, cap);
    }
    refArrays[refCount] = a;
    refOffsets[refCount] = off;
    refLengths[refCount] = n;
    refPositions[refCount] = len;
    refCount++;
    refBytes += n;
  }

  /** Copies the referenced binaries into the array, which then holds the whole content. */
  private void inline() {
    if (refCount == 0) {
      return;
    }
    int total = len + refBytes; // at most MAX_CAPACITY, checked as references were added
    byte[] b = new byte[Math.max(total, buf.length)];
    int at = 0;
    int arrayFrom = 0;
    for (int i = 0; i < refCount; i++) {
      int n = refPositions[i] - arrayFrom;
      System.arraycopy(buf, arrayFrom, b, at, n);
      at += n;
      System.arraycopy(refArrays[i], refOffsets[i], b, at, refLengths[i]);
      at += refLengths[i];
      arrayFrom = refPositions[i];
    }
    System.arraycopy(buf, arrayFrom, b, at, len - arrayFrom);
    buf = b;
    len = total;
    dropReferences();
  }

  private void dropReferences() {
    if (refCount > 0) {
      Arrays.fill(refArrays, 0, refCount, null);
      refCount = 0;
      refBytes = 0;
    }
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
    if (need + refBytes > MAX_CAPACITY) {
      throw new IllegalStateException("term buffer cannot hold " + (need + refBytes) + " bytes");
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
    Objects.checkFromIndexSize(off, n, a.length);
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

  /**
   * Overwrites 4 bytes at {@code index} (which must be below {@code length() - 3}); referenced
   * binaries are copied in first unless all of them lie beyond those 4 bytes.
   */
  public void setInt(int index, int v) {
    Objects.checkFromIndexSize(index, 4, length());
    if (refCount > 0 && index + 4 > refPositions[0]) {
      inline();
    }
    INT.set(buf, index, v);
  }

  /** Shortens the buffer to {@code newLength} bytes (referenced binaries are copied in first). */
  public void truncate(int newLength) {
    if (newLength < 0 || newLength > length()) {
      throw new IllegalArgumentException("cannot truncate " + length() + " bytes to " + newLength);
    }
    inline();
    len = newLength;
  }
}
