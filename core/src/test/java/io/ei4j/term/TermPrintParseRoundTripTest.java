package io.ei4j.term;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Whatever {@link Terms#print} writes, {@link Terms#parse} reads back as the same term:
 * every term of the codec's vectors (canonical and decode-only), terms with awkward node
 * names, ids and atoms, and random compositions of all of them, printed and parsed again.
 */
class TermPrintParseRoundTripTest {
  private static final TermDecoder DECODER = new TermDecoder();

  /** The terms of the codec corpus, and the identifiers the printer must quote or escape. */
  private static List<ErlTerm> corpus() throws TermDecodeException {
    List<ErlTerm> all = new ArrayList<>();
    for (TermVectors.Vector v : TermVectors.canonical()) {
      all.add(v.term());
    }
    for (TermVectors.Vector v : TermVectors.decodeOnlyVectors()) {
      all.add(DECODER.decode(v.bytes()));
    }
    all.add(TermVectors.everything());
    for (String node : List.of("e2@vm", "e2@host.example.com", "a@b", "'q'@h", "n@h>x", "n@h.1.2",
        "\u00e9t\u00e9@h\u00f4te", "\u65e5\u672c@h", "x@10.0.0.1", "nonode@nohost", "a b@c")) {
      ErlAtom n = ErlAtom.of(node);
      all.add(ErlPid.of(n, 157, 0, 1796453286));
      all.add(ErlPid.of(n, -1, -1, -1));
      all.add(ErlPort.of(n, -1L, 0));
      all.add(ErlPort.of(n, 7, -2));
      all.add(ErlRef.of(n, 3, new int[] {1, -1, 0x7fffffff}));
      all.add(ErlRef.of(n, -1, new int[] {1, 2, 3, 4, 5}));
    }
    for (String a : List.of("", "a", "A", "_", "a.b", "a@b", "'", "\\", "\n", "\u0000", "true", "fun", "end",
        "\u00e9", "\ud83d\ude00", "a'b", "<", ">", "#", "%")) {
      all.add(ErlAtom.of(a));
    }
    all.add(Terms.parse("[1,2|3]"));
    all.add(Terms.parse("\"a\\nb\\\"c\""));
    all.add(Terms.parse("[$a, 256, 0]"));
    all.add(ErlFloat.of(-0.0));
    all.add(ErlFloat.of(Double.MIN_VALUE));
    all.add(ErlFloat.of(Double.MAX_VALUE));
    all.add(ErlFloat.of(1e300));
    all.add(ErlFloat.of(0.1));
    return all;
  }

  private static void assertRoundTrip(ErlTerm t) {
    String text = Terms.print(t);
    ErlTerm back;
    try {
      back = Terms.parse(text);
    } catch (TermParseException e) {
      throw new AssertionError("cannot parse what the printer wrote for " + t.getClass().getSimpleName() + ": " + text, e);
    }
    assertEquals(t, back, text);
    assertEquals(text, Terms.print(back), "printing the parsed term again");
  }

  @Test
  void everyTermOfTheCorpusReadsBackAsItself() throws TermDecodeException {
    for (ErlTerm t : corpus()) {
      assertRoundTrip(t);
    }
  }

  @Test
  void randomCompositionsReadBackAsThemselves() throws TermDecodeException {
    List<ErlTerm> corpus = corpus();
    long seed = System.nanoTime();
    Random r = new Random(seed);
    for (int i = 0; i < 2_000; i++) {
      try {
        assertRoundTrip(compose(corpus, r, 3));
      } catch (AssertionError e) {
        throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
      }
    }
  }

  private static ErlTerm compose(List<ErlTerm> corpus, Random r, int depth) {
    if (depth == 0 || r.nextInt(3) == 0) {
      return corpus.get(r.nextInt(corpus.size()));
    }
    int n = r.nextInt(4);
    ErlTerm[] elems = new ErlTerm[n];
    for (int i = 0; i < n; i++) {
      elems[i] = compose(corpus, r, depth - 1);
    }
    switch (r.nextInt(3)) {
      case 0:
        return ErlTuple.of(elems);
      case 1:
        return ErlList.of(List.of(elems));
      default:
        java.util.Map<ErlTerm, ErlTerm> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i + 1 < n; i += 2) {
          m.put(elems[i], elems[i + 1]);
        }
        return ErlMap.of(m);
    }
  }
}
