package io.ei4j.term;

import static io.ei4j.term.Terms.atom;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * External-format vectors written by hand from {@code erl_ext_dist}: each canonical vector is
 * what {@code term_to_binary(T, [{minor_version, 2}])} writes for its term; the decode-only
 * vectors use the older or non-minimal encodings that a peer may still send.
 */
final class TermVectors {
  private TermVectors() {}

  record Vector(String name, ErlTerm term, byte[] bytes) {
    @Override
    public String toString() {
      return name;
    }
  }

  /** Bytes from ints (one byte each) and strings (their UTF-8 bytes). */
  static byte[] bytes(Object... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object p : parts) {
      if (p instanceof Integer i) {
        out.write(i);
      } else if (p instanceof String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
      } else if (p instanceof byte[] b) {
        out.writeBytes(b);
      } else {
        throw new IllegalArgumentException(String.valueOf(p));
      }
    }
    return out.toByteArray();
  }

  private static byte[] u32(long v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  static final ErlAtom AB = atom("a@b");
  /** SMALL_ATOM_UTF8_EXT of a@b. */
  static final byte[] AB_EXT = bytes(119, 3, "a@b");

  static List<Vector> canonical() {
    List<Vector> v = new ArrayList<>();
    v.add(new Vector("SMALL_INTEGER_EXT 0", ErlInteger.of(0), bytes(131, 97, 0)));
    v.add(new Vector("SMALL_INTEGER_EXT 255", ErlInteger.of(255), bytes(131, 97, 255)));
    v.add(new Vector("INTEGER_EXT 256", ErlInteger.of(256), bytes(131, 98, 0, 0, 1, 0)));
    v.add(new Vector("INTEGER_EXT -1", ErlInteger.of(-1), bytes(131, 98, 255, 255, 255, 255)));
    v.add(new Vector("INTEGER_EXT min", ErlInteger.of(Integer.MIN_VALUE), bytes(131, 98, 128, 0, 0, 0)));
    v.add(new Vector("INTEGER_EXT max", ErlInteger.of(Integer.MAX_VALUE), bytes(131, 98, 127, 255, 255, 255)));
    v.add(new Vector("SMALL_BIG_EXT 2^31", ErlInteger.of(1L << 31), bytes(131, 110, 4, 0, 0, 0, 0, 128)));
    v.add(new Vector("SMALL_BIG_EXT -2^31-1", ErlInteger.of(-(1L << 31) - 1), bytes(131, 110, 4, 1, 1, 0, 0, 128)));
    v.add(new Vector("SMALL_BIG_EXT long min", ErlInteger.of(Long.MIN_VALUE), bytes(131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128)));
    v.add(new Vector("SMALL_BIG_EXT 2^64", ErlInteger.of(BigInteger.ONE.shiftLeft(64)),
        bytes(131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)));
    byte[] large = new byte[256 + 7];
    large[0] = (byte) 131;
    large[1] = 111;
    large[2] = 0;
    large[3] = 0;
    large[4] = 1;
    large[5] = 0;
    large[6] = 1;
    large[large.length - 1] = 1;
    v.add(new Vector("LARGE_BIG_EXT -2^2040", ErlInteger.of(BigInteger.ONE.shiftLeft(2040).negate()), large));
    v.add(new Vector("NEW_FLOAT_EXT 1.5", ErlFloat.of(1.5), bytes(131, 70, 63, 248, 0, 0, 0, 0, 0, 0)));
    v.add(new Vector("NEW_FLOAT_EXT -0.0", ErlFloat.of(-0.0), bytes(131, 70, 128, 0, 0, 0, 0, 0, 0, 0)));
    v.add(new Vector("SMALL_ATOM_UTF8_EXT", atom("ok"), bytes(131, 119, 2, "ok")));
    v.add(new Vector("SMALL_ATOM_UTF8_EXT empty", atom(""), bytes(131, 119, 0)));
    v.add(new Vector("SMALL_ATOM_UTF8_EXT unicode", atom("ñ😀"), bytes(131, 119, 6, "ñ😀")));
    String longName = "ж".repeat(200);
    v.add(new Vector("ATOM_UTF8_EXT", atom(longName), bytes(131, 118, 1, 144, longName)));
    v.add(new Vector("BINARY_EXT", ErlBinary.of(new byte[] {1, 2, 3}), bytes(131, 109, 0, 0, 0, 3, 1, 2, 3)));
    v.add(new Vector("BINARY_EXT empty", ErlBinary.EMPTY, bytes(131, 109, 0, 0, 0, 0)));
    v.add(new Vector("BIT_BINARY_EXT <<1,2:3>>", ErlBinary.bitstring(new byte[] {1, 64}, 3),
        bytes(131, 77, 0, 0, 0, 2, 3, 1, 64)));
    v.add(new Vector("BIT_BINARY_EXT <<1:1>>", ErlBinary.bitstring(new byte[] {(byte) 128}, 1),
        bytes(131, 77, 0, 0, 0, 1, 1, 128)));
    v.add(new Vector("SMALL_TUPLE_EXT", ErlTuple.of(atom("ok"), ErlInteger.of(1)),
        bytes(131, 104, 2, 119, 2, "ok", 97, 1)));
    v.add(new Vector("SMALL_TUPLE_EXT empty", ErlTuple.EMPTY, bytes(131, 104, 0)));
    ErlTerm[] many = new ErlTerm[256];
    ByteArrayOutputStream lt = new ByteArrayOutputStream();
    lt.writeBytes(bytes(131, 105, 0, 0, 1, 0));
    for (int i = 0; i < 256; i++) {
      many[i] = ErlInteger.of(i);
      lt.writeBytes(bytes(97, i));
    }
    v.add(new Vector("LARGE_TUPLE_EXT", ErlTuple.of(many), lt.toByteArray()));
    v.add(new Vector("NIL_EXT", ErlList.NIL, bytes(131, 106)));
    v.add(new Vector("STRING_EXT", Terms.string("hi"), bytes(131, 107, 0, 2, "hi")));
    v.add(new Vector("LIST_EXT", ErlList.of(atom("a"), ErlInteger.of(256)),
        bytes(131, 108, 0, 0, 0, 2, 119, 1, "a", 98, 0, 0, 1, 0, 106)));
    v.add(new Vector("LIST_EXT of tuples",
        ErlList.of(
            ErlTuple.of(atom("a"), ErlInteger.of(300), ErlFloat.of(1.5), ErlBinary.of(new byte[] {7})),
            ErlTuple.of(ErlTuple.EMPTY, ErlList.of(atom("b")), ErlInteger.of(BigInteger.ONE.shiftLeft(64))),
            ErlTuple.EMPTY,
            atom("ok")),
        bytes(131, 108, 0, 0, 0, 4,
            104, 4, 119, 1, "a", 98, 0, 0, 1, 44, 70, 63, 248, 0, 0, 0, 0, 0, 0, 109, 0, 0, 0, 1, 7,
            104, 3, 104, 0, 108, 0, 0, 0, 1, 119, 1, "b", 106, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
            104, 0,
            119, 2, "ok", 106)));
    v.add(new Vector("LIST_EXT improper", ErlList.improper(List.of(ErlInteger.of(1), ErlInteger.of(2)), ErlInteger.of(3)),
        bytes(131, 108, 0, 0, 0, 2, 97, 1, 97, 2, 97, 3)));
    v.add(new Vector("MAP_EXT", Terms.map(atom("b"), 1, atom("a"), 2),
        bytes(131, 116, 0, 0, 0, 2, 119, 1, "a", 97, 2, 119, 1, "b", 97, 1)));
    v.add(new Vector("MAP_EXT integer before float key", Terms.map(1.0, 1, 1, 2),
        bytes(131, 116, 0, 0, 0, 2, 97, 1, 97, 2, 70, 63, 240, 0, 0, 0, 0, 0, 0, 97, 1)));
    v.add(new Vector("MAP_EXT of tuples",
        Terms.map(atom("a"), ErlTuple.of(ErlInteger.of(1), ErlList.of(atom("b"))), atom("b"), ErlTuple.EMPTY),
        bytes(131, 116, 0, 0, 0, 2,
            119, 1, "a", 104, 2, 97, 1, 108, 0, 0, 0, 1, 119, 1, "b", 106,
            119, 1, "b", 104, 0)));
    v.add(new Vector("MAP_EXT empty", ErlMap.EMPTY, bytes(131, 116, 0, 0, 0, 0)));
    v.add(new Vector("NEW_PID_EXT", ErlPid.of(AB, 42, 1, 0xF0000001),
        bytes(131, 88, AB_EXT, 0, 0, 0, 42, 0, 0, 0, 1, 0xF0, 0, 0, 1)));
    v.add(new Vector("NEW_PORT_EXT", ErlPort.of(AB, (1 << 28) - 1, 3),
        bytes(131, 89, AB_EXT, 15, 255, 255, 255, 0, 0, 0, 3)));
    v.add(new Vector("V4_PORT_EXT 2^28", ErlPort.of(AB, 1 << 28, 3),
        bytes(131, 120, AB_EXT, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 3)));
    v.add(new Vector("V4_PORT_EXT", ErlPort.of(AB, 0x100000001L, 3),
        bytes(131, 120, AB_EXT, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 3)));
    v.add(new Vector("NEWER_REFERENCE_EXT", ErlRef.of(AB, 7, 1, 2, 3),
        bytes(131, 90, 0, 3, AB_EXT, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3)));
    v.add(new Vector("NEWER_REFERENCE_EXT 5 ids", ErlRef.of(AB, 7, 1, 2, 3, 4, 5),
        bytes(131, 90, 0, 5, AB_EXT, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5)));
    v.add(new Vector("EXPORT_EXT", ErlExportFun.of(atom("lists"), atom("map"), 2),
        bytes(131, 113, 119, 5, "lists", 119, 3, "map", 97, 2)));
    byte[] uniq = new byte[16];
    for (int i = 0; i < 16; i++) {
      uniq[i] = (byte) (i * 17);
    }
    ErlPid creator = ErlPid.of(AB, 9, 0, 1);
    ErlFun fun = ErlFun.of(atom("m"), 1, uniq, 3, 3, 123456789, creator, List.of(ErlInteger.of(5), atom("x")));
    byte[] funBody = bytes(1, uniq, 0, 0, 0, 3, 0, 0, 0, 2, 119, 1, "m", 97, 3, 98, u32(123456789),
        88, AB_EXT, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 97, 5, 119, 1, "x");
    v.add(new Vector("NEW_FUN_EXT", fun, bytes(131, 112, u32(funBody.length + 4), funBody)));
    return v;
  }

  /** Older or non-minimal encodings, with the term each decodes to. */
  static List<Vector> decodeOnlyVectors() {
    List<Vector> v = new ArrayList<>();
    byte[] floatText = new byte[31];
    byte[] digits = "1.50000000000000000000e+00".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(digits, 0, floatText, 0, digits.length);
    v.add(new Vector("FLOAT_EXT", ErlFloat.of(1.5), bytes(131, 99, floatText)));
    byte[] negText = new byte[31];
    byte[] negDigits = "-1.00000000000000005551e-01".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(negDigits, 0, negText, 0, negDigits.length);
    v.add(new Vector("FLOAT_EXT -0.1", ErlFloat.of(-0.1), bytes(131, 99, negText)));
    v.add(new Vector("ATOM_EXT", atom("abc"), bytes(131, 100, 0, 3, "abc")));
    v.add(new Vector("ATOM_EXT latin1", atom("é"), bytes(131, 100, 0, 1, 0xE9)));
    v.add(new Vector("SMALL_ATOM_EXT", atom("aé"), bytes(131, 115, 2, "a", 0xE9)));
    v.add(new Vector("ATOM_UTF8_EXT short", atom("abc"), bytes(131, 118, 0, 3, "abc")));
    v.add(new Vector("PID_EXT", ErlPid.of(AB, 1, 2, 3), bytes(131, 103, 100, 0, 3, "a@b", 0, 0, 0, 1, 0, 0, 0, 2, 3)));
    v.add(new Vector("PORT_EXT", ErlPort.of(AB, 7, 2), bytes(131, 102, 100, 0, 3, "a@b", 0, 0, 0, 7, 2)));
    v.add(new Vector("REFERENCE_EXT", ErlRef.of(AB, 1, 9), bytes(131, 101, 100, 0, 3, "a@b", 0, 0, 0, 9, 1)));
    v.add(new Vector("NEW_REFERENCE_EXT", ErlRef.of(AB, 2, 1, 2, 3),
        bytes(131, 114, 0, 3, 100, 0, 3, "a@b", 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3)));
    v.add(new Vector("NEW_PORT_EXT small", ErlPort.of(AB, 7, 2), bytes(131, 89, AB_EXT, 0, 0, 0, 7, 0, 0, 0, 2)));
    v.add(new Vector("V4_PORT_EXT small id", ErlPort.of(AB, 7, 2), bytes(131, 120, AB_EXT, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 2)));
    v.add(new Vector("INTEGER_EXT small value", ErlInteger.of(5), bytes(131, 98, 0, 0, 0, 5)));
    v.add(new Vector("SMALL_BIG_EXT small value", ErlInteger.of(-5), bytes(131, 110, 1, 1, 5)));
    v.add(new Vector("SMALL_BIG_EXT leading zeros", ErlInteger.of(5), bytes(131, 110, 3, 0, 5, 0, 0)));
    v.add(new Vector("LARGE_BIG_EXT small value", ErlInteger.of(1L << 40),
        bytes(131, 111, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 1)));
    v.add(new Vector("LARGE_TUPLE_EXT small arity", ErlTuple.of(ErlInteger.of(1)), bytes(131, 105, 0, 0, 0, 1, 97, 1)));
    v.add(new Vector("LIST_EXT of bytes", Terms.string("ab"), bytes(131, 108, 0, 0, 0, 2, 97, 97, 97, 98, 106)));
    v.add(new Vector("LIST_EXT nested tail", Terms.list(1, 2, 3),
        bytes(131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 2, 97, 2, 97, 3, 106)));
    v.add(new Vector("BIT_BINARY_EXT 8 bits", ErlBinary.of(new byte[] {5}), bytes(131, 77, 0, 0, 0, 1, 8, 5)));
    v.add(new Vector("BIT_BINARY_EXT unused bits set", ErlBinary.bitstring(new byte[] {(byte) 0xE0}, 3),
        bytes(131, 77, 0, 0, 0, 1, 3, 0xFF)));
    v.add(new Vector("MAP_EXT unsorted", Terms.map(atom("a"), 2, atom("b"), 1),
        bytes(131, 116, 0, 0, 0, 2, 119, 1, "b", 97, 1, 119, 1, "a", 97, 2)));
    v.add(new Vector("STRING_EXT high bytes", ErlList.of(ErlInteger.of(0), ErlInteger.of(255)), bytes(131, 107, 0, 2, 0, 255)));
    v.add(new Vector("REFERENCE with trailing zero id", ErlRef.of(AB, 7, 1, 2),
        bytes(131, 90, 0, 3, AB_EXT, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0)));
    return v;
  }

  static List<byte[]> decodeOnly() {
    List<byte[]> out = new ArrayList<>();
    for (Vector v : decodeOnlyVectors()) {
      out.add(v.bytes());
    }
    return out;
  }

  /** A composite term touching every canonical tag, for truncation and corruption tests. */
  static ErlTerm everything() {
    List<ErlTerm> all = new ArrayList<>();
    for (Vector v : canonical()) {
      all.add(v.term());
    }
    all.add(Terms.map("k", List.of(1, 2.5, Map.of(), new Object[] {true})));
    return ErlList.of(all);
  }
}
