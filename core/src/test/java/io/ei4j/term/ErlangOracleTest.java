package io.ei4j.term;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.testkit.ErlangPeer;
import io.ei4j.testkit.Thorough;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The codec, term order, printer and parser checked against a real Erlang node.
 *
 * <p>{@code etf_oracle.erl} (compiled at test time) generates random terms and writes each
 * with {@code term_to_binary} (plain, compressed, and with older minor versions); ei4j decodes
 * them, re-encodes them and prints them; Erlang then decodes ei4j's bytes and checks {@code =:=}
 * with the original, compares the bytes with {@code term_to_binary} for canonical terms, and
 * reads ei4j's printed text with {@code erl_scan}/{@code erl_parse}. Erlang also judges random
 * pairs of terms ({@code <}, {@code ==}, {@code =:=}, map key order) and ei4j must agree.
 *
 * <p>The seed is random per run and in every failure message; set {@code -Dei4j.term.seed=N}
 * to replay a run. The default suite checks 3,000 terms and a sample of each truncated
 * prefix; {@code -Pthorough} checks 12,000 terms and every prefix (see TESTING.md).
 */
class ErlangOracleTest {
  private static final int TERMS = Thorough.pick(3_000, 12_000);
  /** Of each of the first 300 terms: every prefix up to this length, then a random sample. */
  private static final int ALL_PREFIXES_UP_TO = 64;
  private static final int SAMPLED_PREFIXES = 32;

  @TempDir static Path dir;

  private static long seed;
  private static Path ebin;

  @BeforeAll
  static void generate() {
    seed = Long.getLong("ei4j.term.seed", System.nanoTime() % 1_000_000_000L);
    ebin = ErlangPeer.compileResource(ErlangOracleTest.class, "etf_oracle.erl", dir.resolve("ebin"));
    erl("etf_oracle:generate(\"" + dir + "\", " + seed + ", " + TERMS + ")");
  }

  /** Runs one expression in a fresh, non-distributed {@code erl}; a crash fails the test. */
  private static void erl(String expr) {
    ErlangPeer.run(
        List.of(
            ErlangPeer.erl().toString(),
            "-noshell",
            "-pa",
            ebin.toString(),
            "-eval",
            "try " + expr + " of _ -> halt(0) catch C:R:S -> io:format(\"~p~n\", [{C, R, S}]), halt(1) end."));
  }

  private static List<byte[]> records(Path file, List<Integer> kinds) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
    List<byte[]> out = new ArrayList<>();
    while (b.hasRemaining()) {
      kinds.add(b.get() & 0xff);
      byte[] r = new byte[b.getInt()];
      b.get(r);
      out.add(r);
    }
    return out;
  }

  private static void record(DataOutputStream out, int kind, byte[] bytes) throws IOException {
    out.writeByte(kind);
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  /** Counts the kinds of terms inside {@code t}. */
  private static void count(ErlTerm t, java.util.Map<String, Integer> seen) {
    String kind = null;
    if (t instanceof ErlFun f) {
      kind = "closure";
      f.freeVars().forEach(v -> count(v, seen));
    } else if (t instanceof ErlExportFun) {
      kind = "export fun";
    } else if (t instanceof ErlPort p) {
      kind = (p.id() >>> 28) != 0 ? "v4 port" : "port";
    } else if (t instanceof ErlPid) {
      kind = "pid";
    } else if (t instanceof ErlRef) {
      kind = "ref";
    } else if (t instanceof ErlBinary b) {
      kind = b.isBinary() ? "binary" : "bitstring";
    } else if (t instanceof ErlInteger i) {
      kind = i.isLong() ? "integer" : i.bigValue().bitLength() > 2040 ? "large big" : "big";
    } else if (t instanceof ErlFloat) {
      kind = "float";
    } else if (t instanceof ErlAtom a) {
      kind = a.name().chars().anyMatch(c -> c > 255) ? "unicode atom" : "atom";
    } else if (t instanceof ErlTuple tu) {
      kind = tu.arity() > 255 ? "large tuple" : "tuple";
      tu.elements().forEach(e -> count(e, seen));
    } else if (t instanceof ErlList l) {
      kind = l.isProper() ? "list" : "improper list";
      l.elements().forEach(e -> count(e, seen));
      if (!l.isProper()) {
        count(l.tail(), seen);
      }
    } else if (t instanceof ErlMap m) {
      kind = m.size() > 32 ? "map > 32" : "map";
      m.entries().forEach((k, v) -> {
        count(k, seen);
        count(v, seen);
      });
    }
    seen.merge(kind, 1, Integer::sum);
  }

  /** True if erl_parse can express the term: no pids, ports, references or closures. */
  static boolean expressible(ErlTerm t) {
    if (t instanceof ErlPid || t instanceof ErlPort || t instanceof ErlRef || t instanceof ErlFun) {
      return false;
    }
    if (t instanceof ErlTuple tu) {
      return tu.elements().stream().allMatch(ErlangOracleTest::expressible);
    }
    if (t instanceof ErlList l) {
      return l.elements().stream().allMatch(ErlangOracleTest::expressible)
          && (l.isProper() || expressible(l.tail()));
    }
    if (t instanceof ErlMap m) {
      return m.entries().entrySet().stream()
          .allMatch(e -> expressible(e.getKey()) && expressible(e.getValue()));
    }
    return true;
  }

  @Test
  void randomTermsRoundTripThroughErlangByteForByte() throws Exception {
    List<Integer> kinds = new ArrayList<>();
    List<byte[]> originals = records(dir.resolve("terms.bin"), kinds);
    assertTrue(originals.size() >= TERMS * 5 / 6, "generated " + originals.size() + " terms");

    TermDecoder copying = new TermDecoder();
    TermDecoder sharing = copying.sharingBinaries();
    TermBuffer buf = new TermBuffer();
    List<String> failures = new ArrayList<>();
    int expressible = 0;
    try (DataOutputStream java = new DataOutputStream(Files.newOutputStream(dir.resolve("java.bin")));
        DataOutputStream printed = new DataOutputStream(Files.newOutputStream(dir.resolve("printed.bin")))) {
      for (int i = 0; i < originals.size(); i++) {
        byte[] orig = originals.get(i);
        int kind = kinds.get(i);
        ErlTerm t = (i % 2 == 0 ? copying : sharing).decode(orig, 0, orig.length);
        buf.reset();
        if (kind == 1) {
          TermEncoder.encodeCompressed(t, buf, 6);
        } else if (kind == 4) {
          TermEncoder.encodeCompressed(t, buf, 9);
        } else {
          TermEncoder.encode(t, buf);
        }
        record(java, kind, buf.toByteArray());

        String text = t.toString();
        try {
          ErlTerm back = Terms.parse(text);
          if (!back.equals(t)) {
            failures.add("parse(print(t)) differs for " + text + ": " + back);
          }
        } catch (TermParseException e) {
          failures.add("cannot parse printed " + text + ": " + e.getMessage());
        }
        if (expressible(t)) {
          expressible++;
          record(printed, 1, text.getBytes(StandardCharsets.UTF_8));
        } else {
          record(printed, 0, new byte[0]);
        }
      }
    }
    try (DataOutputStream vectors = new DataOutputStream(Files.newOutputStream(dir.resolve("vectors.bin")))) {
      for (byte[] v : TermVectors.decodeOnly()) {
        record(vectors, 0, v);
        record(vectors, 0, TermEncoder.toBytes(copying.decode(v)));
      }
    }
    assertEquals(List.of(), failures.subList(0, Math.min(20, failures.size())), "seed " + seed);

    // The corpus must reach every kind of term, or this test proves less than it claims.
    java.util.Map<String, Integer> seen = new java.util.TreeMap<>();
    for (int i = 0; i < originals.size(); i++) {
      byte[] orig = originals.get(i);
      count(copying.decode(orig, 0, orig.length), seen);
      seen.merge("tag " + (orig[1] & 0xff), 1, Integer::sum);
    }
    for (String kind : List.of("closure", "export fun", "v4 port", "port", "pid", "ref", "bitstring",
        "binary", "large big", "big", "float", "unicode atom", "improper list", "map > 32", "map",
        "large tuple", "tag 80")) {
      assertTrue(seen.getOrDefault(kind, 0) > 0, "the corpus has no " + kind + ": " + seen);
    }

    // Erlang's own bytes, cut anywhere, are rejected cleanly: every cut of the thorough run,
    // by default the first bytes (every tag and length header) and a random sample beyond.
    Random cuts = new Random(seed);
    for (byte[] orig : originals.subList(0, 300)) {
      for (int n : prefixLengths(orig.length, cuts)) {
        try {
          copying.decode(ByteBuffer.wrap(orig, 0, n));
          throw new AssertionError("decoded a " + n + "-byte prefix of " + orig.length + " bytes");
        } catch (TermDecodeException expected) {
          // as it should
        }
      }
    }

    erl("etf_oracle:check(\"" + dir + "\")");
    String result = Files.readString(dir.resolve("result.txt"), StandardCharsets.UTF_8);
    assertTrue(
        result.startsWith("failures 0 "),
        "seed " + seed + ", Erlang found failures:\n" + result);
    assertTrue(result.contains("checked " + originals.size()), result);
    assertTrue(expressible > TERMS / 3, "only " + expressible + " terms were checked by erl_parse");
  }

  /** The prefix lengths of a {@code length}-byte term that are checked to be rejected. */
  private static Iterable<Integer> prefixLengths(int length, Random random) {
    TreeSet<Integer> lengths = new TreeSet<>();
    int all = Thorough.enabled() ? length : Math.min(length, ALL_PREFIXES_UP_TO);
    for (int n = 0; n < all; n++) {
      lengths.add(n);
    }
    if (length > all) {
      lengths.add(length - 1);
      for (int i = 0; i < SAMPLED_PREFIXES; i++) {
        lengths.add(all + random.nextInt(length - all));
      }
    }
    return lengths;
  }

  /**
   * Atoms of every length Erlang allows (0..255 ASCII bytes, then 1..255 code points of 2-, 3-
   * and 4-byte UTF-8, up to ATOM_UTF8_EXT's 1,020 bytes), each followed by an integer, encoded
   * into a buffer that starts with no room. The encoder copies an atom in 8-byte words, writing
   * padding past its end; Erlang checks that none of it shows: the bytes must be
   * {@code term_to_binary}'s and decode to Erlang's own atoms.
   */
  @Test
  void atomsOfEveryLengthEncodeAsErlangWritesThem() throws Exception {
    List<ErlTerm> items = new ArrayList<>();
    for (int n = 0; n <= 255; n++) {
      items.add(ErlTuple.of(ErlAtom.of("a".repeat(n)), ErlInteger.of(n)));
    }
    for (int cp : new int[] {0xE4, 0x20AC, 0x1F600}) {
      for (int k = 1; k <= 255; k++) {
        items.add(ErlTuple.of(ErlAtom.of(Character.toString(cp).repeat(k)), ErlInteger.of(k)));
      }
    }
    ErlTerm all = ErlList.of(items);
    TermBuffer buf = new TermBuffer(0);
    TermEncoder.encode(all, buf);
    byte[] bytes = buf.toByteArray();
    assertEquals(all, new TermDecoder().decode(bytes));
    Path file = dir.resolve("atoms.bin");
    Files.write(file, bytes);
    erl("etf_oracle:check_atoms(\"" + file + "\")");
  }

  @Test
  void termOrderAndEqualityAgreeWithErlang() throws Exception {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(dir.resolve("pairs.bin")));
    TermDecoder decoder = new TermDecoder();
    List<String> failures = new ArrayList<>();
    int[] verdicts = new int[5];
    int pairs = 0;
    while (b.hasRemaining()) {
      b.get();
      int len = b.getInt();
      ByteBuffer slice = b.slice(b.position(), len);
      b.position(b.position() + len);
      int verdict = b.get();
      ErlTuple pair = (ErlTuple) decoder.decode(slice);
      ErlTerm x = pair.get(0);
      ErlTerm y = pair.get(1);
      int c = Integer.signum(x.compareTo(y));
      int back = Integer.signum(y.compareTo(x));
      boolean eq = x.equals(y);
      int arith = Integer.signum(TermOrder.cmp(x, y, false));
      boolean ok;
      switch (verdict) {
        case 0:
          ok = c == 0 && back == 0 && eq && y.equals(x) && x.hashCode() == y.hashCode();
          break;
        case 1:
          ok = c < 0 && back > 0 && !eq && arith < 0;
          break;
        case 2:
          ok = c > 0 && back < 0 && !eq && arith > 0;
          break;
        case 3:
          ok = c < 0 && back > 0 && !eq && arith == 0 && TermOrder.compareKeys(x, y) < 0;
          break;
        default:
          ok = c > 0 && back < 0 && !eq && arith == 0 && TermOrder.compareKeys(x, y) > 0;
          break;
      }
      verdicts[verdict]++;
      pairs++;
      if (!ok && failures.size() < 10) {
        failures.add("Erlang verdict " + verdict + " but ei4j compareTo " + c + ", equals " + eq
            + ", arithmetic " + arith + ", exact " + TermOrder.compareKeys(x, y) + " for\n  "
            + abbreviate(x) + "\n  " + abbreviate(y));
      }
    }
    assertEquals(List.of(), failures, "seed " + seed);
    assertTrue(pairs >= TERMS / 2, "pairs: " + pairs);
    for (int v = 0; v < 5; v++) {
      assertTrue(verdicts[v] > 0, "no pair with Erlang verdict " + v + " (seed " + seed + ")");
    }
  }

  private static String abbreviate(ErlTerm t) {
    String s = t.toString();
    return s.length() <= 300 ? s : s.substring(0, 300) + "...";
  }
}
