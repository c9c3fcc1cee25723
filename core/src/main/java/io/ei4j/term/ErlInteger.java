package io.ei4j.term;

import java.math.BigInteger;
import java.util.Objects;

/**
 * An Erlang integer of any size.
 *
 * <p>Values that fit in a {@code long} are held as one; others as a {@link BigInteger}. The
 * representation is canonical: {@code of(BigInteger.ONE)} equals {@code of(1)}.
 */
public final class ErlInteger implements ErlTerm {
  private static final ErlInteger[] SMALL = new ErlInteger[256 + 128];

  static {
    for (int i = 0; i < SMALL.length; i++) {
      SMALL[i] = new ErlInteger(i - 128, null);
    }
  }

  private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

  private final long value;
  /** Null when the value fits in a long. */
  private final BigInteger big;
  /**
   * The magnitude of {@link #big} as little-endian bytes without leading zeros, as the
   * external format writes it: made on the first encode and kept, so that encoding the same
   * big integer again allocates nothing. Volatile so that a thread that sees the array also
   * sees its contents; two threads encoding at once may both make it, with equal results.
   */
  private volatile byte[] magnitudeLE;

  private ErlInteger(long value, BigInteger big) {
    this.value = value;
    this.big = big;
  }

  /** The integer with this value; values in -128..255 are shared instances. */
  public static ErlInteger of(long value) {
    if (value >= -128 && value <= 255) {
      return SMALL[(int) value + 128];
    }
    return new ErlInteger(value, null);
  }

  /** The integer with this value, held as a {@code long} when it fits in one. */
  public static ErlInteger of(BigInteger value) {
    Objects.requireNonNull(value, "value");
    if (value.compareTo(LONG_MIN) >= 0 && value.compareTo(LONG_MAX) <= 0) {
      return of(value.longValue());
    }
    return new ErlInteger(0, value);
  }

  /** True if the value fits in a {@code long}. */
  public boolean isLong() {
    return big == null;
  }

  /** True if the value fits in an {@code int}. */
  public boolean isInt() {
    return big == null && value == (int) value;
  }

  /**
   * The value as a {@code long}.
   *
   * @throws ArithmeticException if it does not fit
   */
  public long longValue() {
    if (big != null) {
      throw new ArithmeticException("integer does not fit in a long: " + big);
    }
    return value;
  }

  /**
   * The value as an {@code int}.
   *
   * @throws ArithmeticException if it does not fit
   */
  public int intValue() {
    long v = longValue();
    if (v != (int) v) {
      throw new ArithmeticException("integer does not fit in an int: " + v);
    }
    return (int) v;
  }

  /** The value as a {@link BigInteger}, whatever its size. */
  public BigInteger bigValue() {
    return big != null ? big : BigInteger.valueOf(value);
  }

  /** The value as the nearest {@code double}, as Erlang's {@code float/1} converts it. */
  double doubleValue() {
    return big != null ? big.doubleValue() : (double) value;
  }

  /** The big value, or null when the value fits in a long. */
  BigInteger bigOrNull() {
    return big;
  }

  /**
   * The magnitude of the big value as little-endian bytes, the most significant one nonzero;
   * only for a value that does not fit in a long. The caller must not modify the array.
   */
  byte[] bigMagnitudeLittleEndian() {
    byte[] m = magnitudeLE;
    if (m == null) {
      BigInteger abs = big.abs();
      byte[] be = abs.toByteArray(); // big-endian two's complement: may lead with a 0 byte
      int n = (abs.bitLength() + 7) / 8;
      m = new byte[n];
      for (int k = 0; k < n; k++) {
        m[k] = be[be.length - 1 - k];
      }
      magnitudeLE = m;
    }
    return m;
  }

  @Override
  public boolean equals(Object o) {
    if (o == this) {
      return true;
    }
    if (!(o instanceof ErlInteger i)) {
      return false;
    }
    return big == null ? i.big == null && i.value == value : big.equals(i.big);
  }

  @Override
  public int hashCode() {
    return big == null ? Long.hashCode(value) : big.hashCode();
  }

  /** The decimal value, as Erlang prints it. */
  @Override
  public String toString() {
    return big == null ? Long.toString(value) : big.toString();
  }
}
