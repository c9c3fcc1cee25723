package io.ei4j.term;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An Erlang atom: a name of at most 255 Unicode code points.
 *
 * <p>Atoms compare by their code points (equivalently, by their UTF-8 bytes), as Erlang does.
 * The encoder writes the UTF-8 form ({@code SMALL_ATOM_UTF8_EXT} or {@code ATOM_UTF8_EXT});
 * the UTF-8 bytes and that whole encoding are computed once, when the atom is made, so that
 * encoding an atom is a copy of a few 8-byte words.
 *
 * <p>A fixed set of common atoms is interned; {@link #of} returns the shared instance for them
 * and a new instance otherwise. Atoms read from the network are never added to a global table,
 * so a peer cannot grow this JVM's memory by sending many distinct atoms.
 */
public final class ErlAtom implements ErlTerm {
  /** The most code points an atom may have, as in Erlang. */
  public static final int MAX_CHARS = 255;

  private static final Map<String, ErlAtom> COMMON = new ConcurrentHashMap<>();

  public static final ErlAtom TRUE = common("true");
  public static final ErlAtom FALSE = common("false");
  public static final ErlAtom OK = common("ok");
  public static final ErlAtom ERROR = common("error");
  public static final ErlAtom UNDEFINED = common("undefined");

  static {
    for (String s :
        new String[] {
          "nonode@nohost", "badarg", "badrpc", "normal", "noproc", "noconnection", "kill",
          "killed", "shutdown", "timeout", "EXIT", "DOWN", "process", "call", "cast", "nil",
          "infinity", "rex", "$gen_call", "$gen_cast", "reply", "stop", "exit", "throw",
          "nodedown", "nodeup", "erlang", "alias", "port", "link", "monitor", "unlink"
        }) {
      common(s);
    }
  }

  private final String name;
  private final byte[] utf8;
  private final int hash;
  private final int codePoints;
  /**
   * The atom as the encoder writes it, {@code SMALL_ATOM_UTF8_EXT} or {@code ATOM_UTF8_EXT}
   * (tag, length, UTF-8 bytes), followed by zeros up to a multiple of 8 bytes, so that the
   * encoder copies it in whole 8-byte words: one store for an atom of up to 6 bytes.
   */
  private final byte[] ext;
  /** The number of bytes of {@link #ext} that are the encoding; the rest is padding. */
  private final int extLength;

  private ErlAtom(String name, byte[] utf8) {
    this.name = name;
    this.utf8 = utf8;
    this.hash = Arrays.hashCode(utf8);
    this.codePoints = name.length() == utf8.length ? utf8.length : name.codePointCount(0, name.length());
    int n = utf8.length;
    int head = n < 256 ? 2 : 3;
    byte[] x = new byte[(head + n + 7) & ~7];
    if (n < 256) {
      x[0] = Ext.SMALL_ATOM_UTF8;
      x[1] = (byte) n;
    } else {
      x[0] = Ext.ATOM_UTF8;
      x[1] = (byte) (n >>> 8);
      x[2] = (byte) n;
    }
    System.arraycopy(utf8, 0, x, head, n);
    this.ext = x;
    this.extLength = head + n;
  }

  private static ErlAtom common(String name) {
    return COMMON.computeIfAbsent(name, n -> new ErlAtom(n, n.getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * The atom with this name.
   *
   * @throws IllegalArgumentException if the name has more than 255 code points or contains an
   *     unpaired surrogate (Erlang atoms hold Unicode code points, and UTF-8 cannot encode a lone
   *     surrogate)
   */
  public static ErlAtom of(String name) {
    Objects.requireNonNull(name, "name");
    ErlAtom common = COMMON.get(name);
    if (common != null) {
      return common;
    }
    int cps = name.codePointCount(0, name.length());
    if (cps > MAX_CHARS) {
      throw new IllegalArgumentException(
          "atom too long: " + cps + " code points, at most " + MAX_CHARS + " allowed");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < name.length()
          && Character.isLowSurrogate(name.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new IllegalArgumentException("atom contains an unpaired surrogate at index " + i);
      }
    }
    return new ErlAtom(name, name.getBytes(StandardCharsets.UTF_8));
  }

  /** Made by the decoder, which has validated the name and owns the byte array. */
  static ErlAtom ofTrusted(String name, byte[] utf8) {
    ErlAtom common = COMMON.get(name);
    return common != null ? common : new ErlAtom(name, utf8);
  }

  /** The atom {@code true} or {@code false}. */
  public static ErlAtom of(boolean value) {
    return value ? TRUE : FALSE;
  }

  /** The atom's name. */
  public String name() {
    return name;
  }

  /** The UTF-8 bytes of the name; the caller must not modify the array. */
  byte[] utf8() {
    return utf8;
  }

  /**
   * The encoded atom (tag, length, UTF-8) padded with zeros to a multiple of 8 bytes; the
   * caller must not modify the array. {@link #extLength()} bytes of it are the encoding.
   */
  byte[] ext() {
    return ext;
  }

  /** The length of the encoded atom, without the padding of {@link #ext()}. */
  int extLength() {
    return extLength;
  }

  /** The number of code points in the name. */
  int codePointCount() {
    return codePoints;
  }

  /** True if this is the atom {@code true} or {@code false}. */
  public boolean isBoolean() {
    return this.equals(TRUE) || this.equals(FALSE);
  }

  @Override
  public boolean equals(Object o) {
    return o == this || (o instanceof ErlAtom a && a.hash == hash && Arrays.equals(a.utf8, utf8));
  }

  @Override
  public int hashCode() {
    return hash;
  }

  /** The name as Erlang prints it, quoted when needed: {@code ok}, {@code 'hello world'}. */
  @Override
  public String toString() {
    return TermPrinter.print(this);
  }
}
