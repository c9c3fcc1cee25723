package io.ei4j.term;

import static io.ei4j.term.Terms.atom;
import static io.ei4j.term.Terms.list;
import static io.ei4j.term.Terms.map;
import static io.ei4j.term.Terms.tuple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Equality and order at the unit level; {@link ErlangOracleTest} checks the same against a
 * real node on random pairs.
 */
class TermOrderTest {
  private static final ErlAtom N = atom("a@b");

  @Test
  void classesOrderAsInErlang() {
    List<ErlTerm> ascending = List.of(
        ErlInteger.of(1),
        atom("a"),
        ErlRef.of(N, 1, 1),
        ErlFun.of(atom("m"), 0, new byte[16], 0, 0, 0, ErlPid.of(N, 1, 0, 0), List.of()),
        ErlExportFun.of(atom("m"), atom("f"), 0),
        ErlPort.of(N, 1, 0),
        ErlPid.of(N, 1, 0, 0),
        tuple(),
        ErlMap.EMPTY,
        ErlList.NIL,
        list(1),
        ErlBinary.EMPTY);
    for (int i = 0; i < ascending.size(); i++) {
      for (int j = 0; j < ascending.size(); j++) {
        assertEquals(Integer.compare(i, j), Integer.signum(ascending.get(i).compareTo(ascending.get(j))),
            ascending.get(i) + " vs " + ascending.get(j));
      }
    }
    List<ErlTerm> shuffled = new ArrayList<>(ascending);
    Collections.shuffle(shuffled, new java.util.Random(1));
    Collections.sort(shuffled);
    assertEquals(ascending, shuffled);
  }

  @Test
  void integersAndFloatsCompareByValueButAreNeverExactlyEqual() {
    ErlTerm one = ErlInteger.of(1);
    ErlTerm oneF = ErlFloat.of(1.0);
    assertNotEquals(one, oneF);
    assertTrue(one.compareTo(oneF) < 0, "integer first on a tie");
    assertEquals(0, TermOrder.cmp(one, oneF, false));
    assertTrue(ErlInteger.of(2).compareTo(ErlFloat.of(1.5)) > 0);
    assertTrue(TermOrder.compareKeys(ErlInteger.of(2), ErlFloat.of(1.5)) < 0, "map key order: integers first");
    // Beyond 2^53 the comparison is exact, not through a double.
    ErlTerm big = ErlInteger.of((1L << 53) + 1);
    assertTrue(big.compareTo(ErlFloat.of(9007199254740992.0)) > 0);
    ErlTerm huge = ErlInteger.of(BigInteger.TEN.pow(400));
    assertTrue(huge.compareTo(ErlFloat.of(Double.MAX_VALUE)) > 0);
    assertTrue(ErlInteger.of(BigInteger.TEN.pow(400).negate()).compareTo(ErlFloat.of(-Double.MAX_VALUE)) < 0);
    // OTP 25: 0.0 =:= -0.0.
    assertEquals(ErlFloat.of(0.0), ErlFloat.of(-0.0));
    assertEquals(ErlFloat.of(0.0).hashCode(), ErlFloat.of(-0.0).hashCode());
    // Nested: arithmetic order decides first, exactness only breaks ties.
    assertTrue(tuple(1, 2).compareTo(tuple(1.0, 1)) > 0);
    assertTrue(tuple(1, 2).compareTo(tuple(1.0, 2)) < 0);
  }

  @Test
  void mapsOrderBySizeThenKeysThenValuesAndKeysAreExact() {
    ErlMap a = map(atom("a"), 2, atom("b"), 1);
    ErlMap b = map(atom("a"), 1, atom("b"), 2);
    assertTrue(a.compareTo(b) > 0);
    assertTrue(map(1, atom("a")).compareTo(map(1.0, atom("a"))) < 0);
    assertTrue(map(atom("z"), 1).compareTo(map(atom("a"), 1, atom("b"), 1)) < 0);
    ErlMap m = map(1, atom("int"), 1.0, atom("float"));
    assertEquals(2, m.size());
    assertEquals(atom("int"), m.get(ErlInteger.of(1)));
    assertEquals(atom("float"), m.get(ErlFloat.of(1.0)));
    assertNull(m.get(ErlInteger.of(2)));
    assertEquals(List.of(ErlInteger.of(1), ErlFloat.of(1.0)), new ArrayList<>(m.entries().keySet()));
    Map<ErlTerm, ErlTerm> java = new HashMap<>(m.entries());
    assertEquals(m, ErlMap.of(java));
  }

  @Test
  void listsCompareElementwiseThenTails() {
    assertTrue(list(1, 2).compareTo(list(1, 2, 3)) < 0);
    assertTrue(list(1, 3).compareTo(list(1, 2, 3)) > 0);
    ErlTerm improper = ErlList.improper(List.of(ErlInteger.of(1)), ErlInteger.of(2));
    assertTrue(improper.compareTo(list(1, 2)) < 0, "[1|2] < [1,2]: 2 < [2]");
    ErlTerm bitTail = ErlList.improper(List.of(ErlInteger.of(1)), ErlBinary.EMPTY);
    assertTrue(bitTail.compareTo(list(1, 2)) > 0, "[1|<<>>] > [1,2]: <<>> > [2]");
    assertEquals(list(1, 2, 3), ErlList.improper(List.of(ErlInteger.of(1)), list(2, 3)));
  }

  @Test
  void bitstringsCompareBitByBit() {
    ErlTerm oneBit = ErlBinary.bitstring(new byte[] {(byte) 0x80}, 1);
    ErlTerm byte1 = ErlBinary.of(new byte[] {1});
    assertTrue(oneBit.compareTo(byte1) > 0);
    assertTrue(ErlBinary.of(new byte[] {1}).compareTo(ErlBinary.of(new byte[] {1, 0})) < 0);
    assertTrue(ErlBinary.of(new byte[] {(byte) 0xFF}).compareTo(ErlBinary.of(new byte[] {1, 0})) > 0);
    assertEquals(ErlBinary.bitstring(new byte[] {(byte) 0xE0}, 3), ErlBinary.bitstring(new byte[] {(byte) 0xFF}, 3));
    assertEquals(ErlBinary.bitstring(new byte[] {(byte) 0xE0}, 3).hashCode(),
        ErlBinary.bitstring(new byte[] {(byte) 0xFF}, 3).hashCode());
  }

  @Test
  void identifiersOrderAsOtp25() {
    // Pids: serial, then id, then node, then creation.
    assertTrue(ErlPid.of(atom("z@z"), 5, 0, 9).compareTo(ErlPid.of(atom("a@a"), 0, 1, 0)) < 0);
    assertTrue(ErlPid.of(atom("a@a"), 1, 0, 9).compareTo(ErlPid.of(atom("b@b"), 1, 0, 0)) < 0);
    assertTrue(ErlPid.of(N, -1, 0, 0).compareTo(ErlPid.of(N, 1, 0, 0)) > 0, "unsigned ids");
    // Ports: node, creation, id.
    assertTrue(ErlPort.of(N, 9, 1).compareTo(ErlPort.of(N, 1, 2)) < 0);
    // Refs: node, creation, then ids from the last; trailing zeros do not count.
    assertTrue(ErlRef.of(N, 0, 1, 2, 3).compareTo(ErlRef.of(N, 0, 2, 1, 3)) > 0);
    assertTrue(ErlRef.of(N, 0, 9, 9, 9).compareTo(ErlRef.of(N, 1, 0)) < 0);
    assertEquals(ErlRef.of(N, 1, 2, 1), ErlRef.of(N, 1, 2, 1, 0));
    assertEquals(ErlRef.of(N, 1, 2, 1).hashCode(), ErlRef.of(N, 1, 2, 1, 0).hashCode());
    // A closure's creator pid takes no part in equality.
    ErlFun f1 = ErlFun.of(atom("m"), 0, new byte[16], 0, 0, 0, ErlPid.of(N, 1, 0, 0), List.of(ErlAtom.OK));
    ErlFun f2 = ErlFun.of(atom("m"), 0, new byte[16], 0, 0, 0, ErlPid.of(N, 2, 0, 0), List.of(ErlAtom.OK));
    assertEquals(f1, f2);
    assertEquals(0, f1.compareTo(f2));
  }

  @Test
  void termsWorkAsKeysOfJavaCollections() {
    TreeSet<ErlTerm> sorted = new TreeSet<>();
    HashMap<ErlTerm, Integer> hashed = new HashMap<>();
    List<ErlTerm> terms = List.of(ErlInteger.of(1), ErlFloat.of(1.0), Terms.string("ab"), list(97, 98),
        Terms.binary("ab"), map(1, 2), map(1.0, 2), atom("ab"));
    for (ErlTerm t : terms) {
      sorted.add(t);
      hashed.merge(t, 1, Integer::sum);
    }
    assertEquals(7, sorted.size());
    assertEquals(7, hashed.size());
    assertEquals(2, hashed.get(list(97, 98)));
  }
}
