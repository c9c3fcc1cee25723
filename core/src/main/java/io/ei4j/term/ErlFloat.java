package io.ei4j.term;

/**
 * An Erlang float: a finite IEEE 754 double.
 *
 * <p>Equality follows OTP 25, where {@code 0.0 =:= -0.0}; the encoder still writes the sign it
 * was given, as {@code term_to_binary/1} does. Erlang has no NaN or infinity, so neither can be
 * made.
 */
public final class ErlFloat implements ErlTerm {
  private final double value;

  private ErlFloat(double value) {
    this.value = value;
  }

  /**
   * The float with this value.
   *
   * @throws IllegalArgumentException for NaN or an infinity, which Erlang cannot represent
   */
  public static ErlFloat of(double value) {
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException("Erlang floats are finite, got " + value);
    }
    return new ErlFloat(value);
  }

  /** The value. */
  public double value() {
    return value;
  }

  @Override
  public boolean equals(Object o) {
    return o == this || (o instanceof ErlFloat f && f.value == value);
  }

  @Override
  public int hashCode() {
    return value == 0.0 ? 0 : Double.hashCode(value);
  }

  /** The shortest decimal form that reads back to the same value, in Erlang syntax. */
  @Override
  public String toString() {
    return TermPrinter.print(this);
  }
}
