package io.ei4j.term;

import static io.ei4j.term.Terms.atom;
import static io.ei4j.term.Terms.list;
import static io.ei4j.term.Terms.map;
import static io.ei4j.term.Terms.parse;
import static io.ei4j.term.Terms.tuple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The printer ({@code toString}, as {@code ~w}) and the parser ({@link Terms#parse}). */
class TermSyntaxTest {
  private static void roundTrip(String text, ErlTerm expected) {
    ErlTerm t = parse(text);
    assertEquals(expected, t, text);
    assertEquals(expected, parse(t.toString()), t.toString());
  }

  @Test
  void printsAsErlangWritesWithTildeW() {
    assertEquals("{ok,[1,2,3]}", tuple(atom("ok"), list(1, 2, 3)).toString());
    assertEquals("<<\"abc\">>", Terms.binary("abc").toString());
    assertEquals("<<\"a\\\"b\\\\\">>", Terms.binary("a\"b\\").toString());
    assertEquals("<<1,2,3>>", ErlBinary.of(new byte[] {1, 2, 3}).toString());
    assertEquals("<<>>", ErlBinary.EMPTY.toString());
    assertEquals("<<1,2:3>>", ErlBinary.bitstring(new byte[] {1, 64}, 3).toString());
    assertEquals("<<5:3>>", ErlBinary.bitstring(new byte[] {(byte) 0xBF}, 3).toString());
    assertEquals("#{a => 1,<<\"b\">> => x}", map("b", atom("x"), atom("a"), 1).toString());
    assertEquals("[104,105]", Terms.string("hi").toString());
    assertEquals("[1,2|3]", ErlList.improper(List.of(ErlInteger.of(1), ErlInteger.of(2)), ErlInteger.of(3)).toString());
    assertEquals("{}", ErlTuple.EMPTY.toString());
    assertEquals("[]", ErlList.NIL.toString());
    assertEquals("#{}", ErlMap.EMPTY.toString());
    assertEquals("-12345678901234567890", ErlInteger.of(new BigInteger("-12345678901234567890")).toString());
  }

  @Test
  void quotesAtomsWhenErlangWould() {
    assertEquals("ok", atom("ok").toString());
    assertEquals("node@host_1", atom("node@host_1").toString());
    assertEquals("'a@127.0.0.1'", atom("a@127.0.0.1").toString());
    assertEquals("'hello world'", atom("hello world").toString());
    assertEquals("'Upper'", atom("Upper").toString());
    assertEquals("'_x'", atom("_x").toString());
    assertEquals("''", atom("").toString());
    assertEquals("'don\\'t'", atom("don't").toString());
    assertEquals("'a\\nb\\\\'", atom("a\nb\\").toString());
    assertEquals("'fun'", atom("fun").toString());
    assertEquals("'end'", atom("end").toString());
    assertEquals("ßen", atom("ßen").toString());
    assertEquals("'Éa'", atom("Éa").toString());
    assertEquals("'\\x{65E5}\\x{672C}'", atom("日本").toString());
    assertEquals("'\\001'", atom("\u0001").toString());
  }

  @Test
  void printsTheShortestFloatThatReadsBack() {
    String[][] cases = {
      {"0.1", "0.1"}, {"100.0", "100.0"}, {"1000.0", "1.0e3"}, {"123456789.0", "123456789.0"},
      {"1.0E-5", "1.0e-5"}, {"0.001", "0.001"}, {"-0.0", "-0.0"}, {"0.0", "0.0"},
      {"1.2345678901234567E19", "1.2345678901234567e19"}, {"4.9E-324", "5.0e-324"},
      {"1.7976931348623157E308", "1.7976931348623157e308"}, {"1.0E100", "1.0e100"},
      {"2.5", "2.5"}, {"-3.75", "-3.75"}, {"1234567890123456.0", "1234567890123456.0"},
      {"9007199254741004.0", "9.007199254741004e15"}, {"0.0001", "0.0001"}, {"1.5e-4", "1.5e-4"},
      {"120.0", "120.0"}, {"1200.0", "1.2e3"}, {"0.0012345", "0.0012345"},
    };
    for (String[] c : cases) {
      double d = Double.parseDouble(c[0]);
      assertEquals(c[1], ErlFloat.of(d).toString(), c[0]);
      assertEquals(d, ((ErlFloat) parse(c[1])).value());
    }
  }

  @Test
  void printsIdentifiersInAFormTheParserReadsBack() {
    ErlAtom node = atom("a@127.0.0.1");
    ErlPid pid = ErlPid.of(node, 42, 0, 0xF0000001);
    assertEquals("<'a@127.0.0.1'.42.0.4026531841>", pid.toString());
    ErlPort port = ErlPort.of(atom("n@h"), 1L << 40, 3);
    assertEquals("#Port<n@h.1099511627776.3>", port.toString());
    ErlRef ref = ErlRef.of(atom("n@h"), 3, 1, 2, -1);
    assertEquals("#Ref<n@h.3.1.2.4294967295>", ref.toString());
    ErlExportFun ef = ErlExportFun.of(atom("lists"), atom("Map"), 2);
    assertEquals("fun lists:'Map'/2", ef.toString());
    byte[] uniq = new byte[16];
    uniq[15] = (byte) 0xAB;
    ErlFun fun = ErlFun.of(atom("m"), 1, uniq, 7, 3, -5, pid, List.of(atom("x"), ErlInteger.of(1)));
    assertEquals("#Fun<m.3.-5.7.000000000000000000000000000000ab.1.<'a@127.0.0.1'.42.0.4026531841>.[x,1]>",
        fun.toString());
    for (ErlTerm t : List.of(pid, port, ref, ef, fun, tuple(pid, list(port, ref), map(fun, ef)))) {
      assertEquals(t, parse(t.toString()), t.toString());
    }
  }

  @Test
  void parsesErlangLiterals() {
    roundTrip("{call, [1, 2.5, <<\"x\">>], #{k => v}}",
        tuple(atom("call"), list(1, 2.5, Terms.binary("x")), map(atom("k"), atom("v"))));
    roundTrip("$a", ErlInteger.of('a'));
    roundTrip("$\\n", ErlInteger.of('\n'));
    roundTrip("$\\x{1F600}", ErlInteger.of(0x1F600));
    roundTrip("$\\^A", ErlInteger.of(1));
    roundTrip("$\\101", ErlInteger.of(65));
    roundTrip("16#ff", ErlInteger.of(255));
    roundTrip("-16#FF", ErlInteger.of(-255));
    roundTrip("36#zz", ErlInteger.of(35 * 36 + 35));
    roundTrip("2#1010", ErlInteger.of(10));
    roundTrip("1_000_000", ErlInteger.of(1_000_000));
    roundTrip("+7", ErlInteger.of(7));
    roundTrip("- 7", ErlInteger.of(-7));
    roundTrip("123456789012345678901234567890", ErlInteger.of(new BigInteger("123456789012345678901234567890")));
    roundTrip("1.0e10", ErlFloat.of(1e10));
    roundTrip("1.5E-3", ErlFloat.of(1.5e-3));
    roundTrip("-2.5", ErlFloat.of(-2.5));
    roundTrip("\"abc\" \"def\"", Terms.string("abcdef"));
    roundTrip("\"\\t\\x41\\\"é😀\"", Terms.string("\tA\"é😀"));
    roundTrip("\"\"", ErlList.NIL);
    roundTrip("'a\\x{263A}b'", atom("a\u263Ab"));
    roundTrip("'\\s'", atom(" "));
    roundTrip("[1,2|3]", ErlList.improper(List.of(ErlInteger.of(1), ErlInteger.of(2)), ErlInteger.of(3)));
    roundTrip("[1|[2|[]]]", list(1, 2));
    roundTrip("[]", ErlList.NIL);
    roundTrip("{}", ErlTuple.EMPTY);
    roundTrip("#{}", ErlMap.EMPTY);
    roundTrip("#{a => 1, a => 2}", map(atom("a"), 2));
    roundTrip("fun lists:map/2", ErlExportFun.of(atom("lists"), atom("map"), 2));
    roundTrip("% a comment\n  ok .  ", atom("ok"));
    roundTrip("ßen", atom("ßen"));
  }

  @Test
  void parsesBinarySegments() {
    roundTrip("<<>>", ErlBinary.EMPTY);
    roundTrip("<<\"abc\">>", Terms.binary("abc"));
    roundTrip("<<1,2:3>>", ErlBinary.bitstring(new byte[] {1, 64}, 3));
    roundTrip("<<256:16, -1:8/signed, 1:16/little>>", ErlBinary.of(new byte[] {1, 0, (byte) 0xFF, 1, 0}));
    roundTrip("<<\"é\"/utf8>>", ErlBinary.of("é".getBytes(StandardCharsets.UTF_8)));
    roundTrip("<<\"é\">>", ErlBinary.of(new byte[] {(byte) 0xE9}));
    roundTrip("<<$a, \"bc\", 100>>", Terms.binary("abcd"));
    roundTrip("<<1.5/float>>", ErlBinary.of(new byte[] {63, (byte) 248, 0, 0, 0, 0, 0, 0}));
    roundTrip("<<1.5:32/float>>", ErlBinary.of(new byte[] {63, (byte) 192, 0, 0}));
    roundTrip("<<<<1,2>>/binary, 3>>", ErlBinary.of(new byte[] {1, 2, 3}));
    roundTrip("<<<<1,2:3>>/bitstring, 1:5>>", ErlBinary.of(new byte[] {1, 65}));
    roundTrip("<<1:4/unit:2>>", ErlBinary.of(new byte[] {1}));
    roundTrip("<<16#263A/utf16>>", ErlBinary.of(new byte[] {0x26, 0x3A}));
    roundTrip("<<300>>", ErlBinary.of(new byte[] {44}));
  }

  @Test
  void rejectsBadSyntaxWithAPosition() {
    String[][] cases = {
      {"{1,2", "expected '}'"},
      {"[1,|2]", "expected a term"},
      {"foo bar", "expected the end of the text"},
      {"'unterminated", "unterminated quoted atom"},
      {"16#", "expected base-16 digits"},
      {"37#1", "base of 2..36"},
      {"<<1:8/bad>>", "binary type specifier"},
      {"end", "reserved word"},
      {"X", "expected a term"},
      {"#Ref<a@b.1>", "1 to 5 ids"},
      {"<a@b.1.2>", "expected '.'"},
      {"<<1.5:16/float>>", "32 or 64 bits"},
      {"<<\"x\"/float>>", "string segment"},
      {"'" + "a".repeat(256) + "'", "atom too long"},
      {"[".repeat(5000) + "]".repeat(5000), "nests deeper"},
      {"", "found the end of the text"},
      {"#{a}", "expected '=>'"},
    };
    for (String[] c : cases) {
      TermParseException e = assertThrows(TermParseException.class, () -> parse(c[0]), c[0]);
      assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
      assertTrue(e.position() >= 0 && e.position() <= c[0].length(), c[0] + ": " + e.position());
      assertTrue(e instanceof IllegalArgumentException);
    }
  }

  @Test
  void convertsJavaValues() {
    assertEquals(ErlInteger.of(5), Terms.of(5));
    assertEquals(ErlInteger.of(5), Terms.of((short) 5));
    assertEquals(ErlInteger.of(new BigInteger("99999999999999999999")), Terms.of(new BigInteger("99999999999999999999")));
    assertEquals(ErlFloat.of(2.5), Terms.of(2.5f));
    assertEquals(ErlAtom.TRUE, Terms.of(true));
    assertEquals(Terms.binary("héllo"), Terms.of("héllo"));
    assertEquals(ErlInteger.of('x'), Terms.of('x'));
    assertEquals(list(1, 2), Terms.of(List.of(1, 2)));
    assertEquals(map(atom("a"), 1), Terms.of(java.util.Map.of(atom("a"), 1)));
    assertEquals(tuple(1, atom("b")), Terms.of(new Object[] {1, atom("b")}));
    assertThrows(IllegalArgumentException.class, () -> Terms.of(null));
    assertThrows(IllegalArgumentException.class, () -> Terms.of(new Object()));
    assertThrows(IllegalArgumentException.class, () -> Terms.map(1));
    assertThrows(IllegalArgumentException.class, () -> ErlFloat.of(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> ErlAtom.of("a".repeat(256)));
    assertThrows(IllegalArgumentException.class, () -> ErlAtom.of("\uD800"));
    assertEquals("héllo😀", Terms.string("héllo😀").asString().orElseThrow());
    assertTrue(list(1, -1).asString().isEmpty());
  }
}
