package io.ei4j.bench;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlFloat;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlMap;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fixed terms the codec benchmarks encode and decode. Every term is built the same
 * way on every call, so that ei4j and JInterface always see the same bytes: JInterface's
 * copy of a term is made by decoding ei4j's encoding of it.
 */
public final class Corpus {
  /** The names of the corpus terms, in the order the benchmarks report them. */
  public static final List<String> NAMES =
      List.of("control", "binary1k", "list200", "map100", "bigints", "deep");

  private Corpus() {}

  /**
   * The term called {@code name}:
   * <ul>
   *   <li>{@code control}: a distribution control tuple, {@code {22, FromPid, ToPid}}
   *       ({@code SEND_SENDER}), the header of every message;
   *   <li>{@code binary1k}: {@code {seq, 123456, <<1024 bytes>>}};
   *   <li>{@code list200}: 200 tuples {@code {I, item, 1.5 * I, <<"name">>}};
   *   <li>{@code map100}: a map of 100 atom keys to small tuples;
   *   <li>{@code bigints}: a list of 16 integers beyond 64 bits, positive and negative,
   *       from 65 to 1024 bits;
   *   <li>{@code deep}: 64 levels of nested two-tuples and one-element lists.
   * </ul>
   *
   * @throws IllegalArgumentException for a name not in {@link #NAMES}
   */
  public static ErlTerm term(String name) {
    return switch (name) {
      case "control" -> control();
      case "binary1k" -> binary1k();
      case "list200" -> list200();
      case "map100" -> map100();
      case "bigints" -> bigints();
      case "deep" -> deep();
      default -> throw new IllegalArgumentException("no corpus term named '" + name + "'; known: " + NAMES);
    };
  }

  private static ErlTerm control() {
    ErlAtom node = ErlAtom.of("bench@localhost");
    return ErlTuple.of(ErlInteger.of(22), ErlPid.of(node, 4711, 0, 3), ErlPid.of(node, 93, 1, 3));
  }

  private static ErlTerm binary1k() {
    byte[] bytes = new byte[1024];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (i * 31);
    }
    return ErlTuple.of(ErlAtom.of("seq"), ErlInteger.of(123_456), ErlBinary.of(bytes));
  }

  private static ErlTerm list200() {
    List<ErlTerm> items = new ArrayList<>(200);
    ErlAtom item = ErlAtom.of("item");
    ErlBinary name = ErlBinary.of("name".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    for (int i = 0; i < 200; i++) {
      items.add(ErlTuple.of(ErlInteger.of(i), item, ErlFloat.of(1.5 * i), name));
    }
    return ErlList.of(items);
  }

  private static ErlTerm map100() {
    Map<ErlTerm, ErlTerm> entries = new LinkedHashMap<>();
    for (int i = 0; i < 100; i++) {
      entries.put(ErlAtom.of("key_" + i), ErlTuple.of(ErlInteger.of(i), ErlInteger.of(-i * 1000L)));
    }
    return ErlMap.of(entries);
  }

  private static ErlTerm bigints() {
    List<ErlTerm> values = new ArrayList<>(16);
    for (int i = 0; i < 16; i++) {
      int bits = 65 + i * 64;
      BigInteger v = BigInteger.ONE.shiftLeft(bits - 1).add(BigInteger.valueOf(12_345L * (i + 1)));
      values.add(ErlInteger.of(i % 2 == 0 ? v : v.negate()));
    }
    return ErlList.of(values);
  }

  private static ErlTerm deep() {
    ErlTerm t = ErlAtom.of("leaf");
    for (int i = 0; i < 64; i++) {
      t = i % 2 == 0 ? ErlTuple.of(ErlInteger.of(i), t) : ErlList.of(t);
    }
    return t;
  }
}
