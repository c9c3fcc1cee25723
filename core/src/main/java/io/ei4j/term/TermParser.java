package io.ei4j.term;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a term written in Erlang syntax, plus the identifier forms {@link TermPrinter} writes.
 *
 * <p>Accepted: atoms (unquoted, or quoted with escapes), integers (decimal, {@code 16#ff},
 * digit separators {@code 1_000}), floats ({@code 2.5}, {@code 1.0e-3}), characters
 * ({@code $a}, {@code $\n}), strings (adjacent strings concatenate) as lists of code points,
 * binaries with string, integer, float and nested-binary segments and {@code :Size} and
 * {@code /Type} specifiers, tuples, proper and improper lists, maps, {@code fun M:F/A}, and
 * {@code <node.Id.Serial.Creation>}, {@code #Port<node.Id.Creation>},
 * {@code #Ref<node.Creation.Id...>} and {@code #Fun<...>}. Whitespace and {@code %} comments
 * are skipped; one trailing {@code .} is allowed.
 */
final class TermParser {
  /**
   * How deeply the text may nest. The parser recurses, and parsed text is written by people,
   * so this is well below what any thread's stack holds.
   */
  static final int MAX_DEPTH = 500;

  private final String s;
  private int pos;
  private int depth;

  private TermParser(String s) {
    this.s = s;
  }

  static ErlTerm parse(String text) {
    TermParser p = new TermParser(text);
    ErlTerm t = p.term();
    p.skipSpace();
    if (p.pos < p.s.length() && p.s.charAt(p.pos) == '.') {
      p.pos++;
      p.skipSpace();
    }
    if (p.pos < p.s.length()) {
      throw p.error("expected the end of the text after the term, found " + p.found());
    }
    return t;
  }

  private TermParseException error(String message) {
    return new TermParseException(message, pos);
  }

  private String found() {
    if (pos >= s.length()) {
      return "the end of the text";
    }
    int cp = s.codePointAt(pos);
    return "'" + new String(Character.toChars(cp)) + "'";
  }

  private void skipSpace() {
    while (pos < s.length()) {
      char c = s.charAt(pos);
      if (c == '%') {
        while (pos < s.length() && s.charAt(pos) != '\n') {
          pos++;
        }
      } else if (Character.isWhitespace(c) || c == '\u00a0') {
        pos++;
      } else {
        return;
      }
    }
  }

  private boolean lookingAt(String token) {
    skipSpace();
    return s.startsWith(token, pos);
  }

  private boolean accept(String token) {
    if (lookingAt(token)) {
      pos += token.length();
      return true;
    }
    return false;
  }

  private void expect(String token) {
    if (!accept(token)) {
      throw error("expected '" + token + "', found " + found());
    }
  }

  private int peek() {
    skipSpace();
    return pos < s.length() ? s.codePointAt(pos) : -1;
  }

  ErlTerm term() {
    if (++depth > MAX_DEPTH + 1) { // MAX_DEPTH containers, then the innermost term
      throw error("term nests deeper than " + MAX_DEPTH);
    }
    try {
      return term0();
    } finally {
      depth--;
    }
  }

  private ErlTerm term0() {
    int c = peek();
    if (c < 0) {
      throw error("expected a term, found the end of the text");
    }
    if (c == '{') {
      pos++;
      List<ErlTerm> elems = new ArrayList<>();
      if (!accept("}")) {
        do {
          elems.add(term());
        } while (accept(","));
        expect("}");
      }
      return ErlTuple.ofTrusted(elems.toArray(new ErlTerm[0]));
    }
    if (c == '[') {
      pos++;
      if (accept("]")) {
        return ErlList.NIL;
      }
      List<ErlTerm> elems = new ArrayList<>();
      do {
        elems.add(term());
      } while (accept(","));
      ErlTerm tail = accept("|") ? term() : ErlList.NIL;
      expect("]");
      return ErlList.improper(elems, tail);
    }
    if (s.startsWith("<<", pos)) {
      pos += 2;
      return binary();
    }
    if (c == '<') {
      pos++;
      ErlPid p = pidBody();
      expect(">");
      return p;
    }
    if (s.startsWith("#{", pos)) {
      pos += 2;
      Map<ErlTerm, ErlTerm> m = new LinkedHashMap<>();
      if (!accept("}")) {
        do {
          ErlTerm k = term();
          expect("=>");
          m.put(k, term());
        } while (accept(","));
        expect("}");
      }
      return ErlMap.of(m);
    }
    if (s.startsWith("#Port<", pos)) {
      pos += 6;
      ErlAtom node = atom();
      dot();
      long id = unsigned(64);
      dot();
      int creation = (int) unsigned(32);
      expect(">");
      return ErlPort.of(node, id, creation);
    }
    if (s.startsWith("#Ref<", pos)) {
      pos += 5;
      ErlAtom node = atom();
      dot();
      int creation = (int) unsigned(32);
      List<Integer> ids = new ArrayList<>();
      while (accept(".")) {
        ids.add((int) unsigned(32));
      }
      expect(">");
      if (ids.isEmpty() || ids.size() > ErlRef.MAX_IDS) {
        throw error("a reference has 1 to 5 ids, found " + ids.size());
      }
      return ErlRef.of(node, creation, ids.stream().mapToInt(Integer::intValue).toArray());
    }
    if (s.startsWith("#Fun<", pos)) {
      pos += 5;
      return funBody();
    }
    if (c == '"') {
      return ErlList.ofString(strings());
    }
    if (c == '$') {
      pos++;
      return ErlInteger.of(charLiteral());
    }
    if (c == '-' || c == '+') {
      pos++;
      skipSpace();
      if (pos >= s.length() || !Character.isDigit(s.charAt(pos))) {
        throw error("expected a number after '" + (char) c + "', found " + found());
      }
      ErlTerm n = number();
      if (c == '+') {
        return n;
      }
      return n instanceof ErlInteger i
          ? ErlInteger.of(i.bigValue().negate())
          : ErlFloat.of(-((ErlFloat) n).value());
    }
    if (c >= '0' && c <= '9') {
      return number();
    }
    if (c == '\'' || TermPrinter.isLower(c)) {
      int start = pos;
      ErlAtom a = atom();
      if (c != '\'' && a.name().equals("fun")) {
        ErlAtom m = atom();
        expect(":");
        ErlAtom f = atom();
        expect("/");
        skipSpace();
        long arity = unsigned(8);
        return ErlExportFun.of(m, f, (int) arity);
      }
      if (c != '\'' && isReserved(a.name())) {
        pos = start;
        throw error("expected a term, found the reserved word '" + a.name() + "' (quote it to make an atom)");
      }
      return a;
    }
    throw error("expected a term, found " + found());
  }

  private static boolean isReserved(String name) {
    StringBuilder sb = new StringBuilder();
    TermPrinter.atom(name, sb);
    return sb.charAt(0) == '\'';
  }

  private void dot() {
    expect(".");
  }

  /** An unsigned decimal that fits in {@code bits} bits. */
  private long unsigned(int bits) {
    skipSpace();
    int start = pos;
    while (pos < s.length() && Character.isDigit(s.charAt(pos)) && s.charAt(pos) < 128) {
      pos++;
    }
    if (start == pos) {
      throw error("expected a decimal number, found " + found());
    }
    BigInteger v = new BigInteger(s.substring(start, pos));
    if (v.bitLength() > bits) {
      pos = start;
      throw error("expected a number of at most " + bits + " bits, found " + v);
    }
    return v.longValue();
  }

  private ErlPid pidBody() {
    ErlAtom node = atom();
    dot();
    int id = (int) unsigned(32);
    dot();
    int serial = (int) unsigned(32);
    dot();
    int creation = (int) unsigned(32);
    return ErlPid.of(node, id, serial, creation);
  }

  private ErlFun funBody() {
    ErlAtom module = atom();
    dot();
    int oldIndex = signedInt();
    dot();
    int oldUniq = signedInt();
    dot();
    int index = (int) unsigned(32);
    dot();
    skipSpace();
    if (pos + 32 > s.length()) {
      throw error("expected 32 hex digits of the fun's uniq, found " + found());
    }
    byte[] uniq = new byte[16];
    for (int i = 0; i < 16; i++) {
      int hi = Character.digit(s.charAt(pos + 2 * i), 16);
      int lo = Character.digit(s.charAt(pos + 2 * i + 1), 16);
      if (hi < 0 || lo < 0) {
        pos += 2 * i;
        throw error("expected 32 hex digits of the fun's uniq, found " + found());
      }
      uniq[i] = (byte) (hi << 4 | lo);
    }
    pos += 32;
    dot();
    int arity = (int) unsigned(8);
    dot();
    expect("<");
    ErlPid pid = pidBody();
    expect(">");
    dot();
    ErlTerm free = term();
    if (!(free instanceof ErlList l) || !l.isProper()) {
      throw error("expected the fun's free variables as a proper list");
    }
    expect(">");
    return ErlFun.of(module, arity, uniq, index, oldIndex, oldUniq, pid, l.elements());
  }

  private int signedInt() {
    boolean neg = accept("-");
    long v = unsigned(32);
    long r = neg ? -v : v;
    if (r != (int) r) {
      throw error("expected a 32-bit integer, found " + r);
    }
    return (int) r;
  }

  private ErlAtom atom() {
    int c = peek();
    int start = pos;
    String name;
    if (c == '\'') {
      name = quoted('\'', "unterminated quoted atom", new StringBuilder()).toString();
    } else if (c >= 0 && TermPrinter.isLower(c)) {
      while (pos < s.length() && TermPrinter.isNameChar(s.charAt(pos))) {
        pos++;
      }
      name = s.substring(start, pos);
    } else {
      throw error("expected an atom, found " + found());
    }
    try {
      return ErlAtom.of(name);
    } catch (IllegalArgumentException e) {
      pos = start;
      throw error(e.getMessage());
    }
  }

  /**
   * Reads a literal that starts at {@code pos} with {@code quote} and ends with the next
   * unescaped {@code quote}, appending its characters (escapes resolved) to {@code into};
   * an unterminated literal is reported at its opening quote.
   */
  private StringBuilder quoted(char quote, String unterminated, StringBuilder into) {
    int start = pos;
    pos++;
    while (true) {
      if (pos >= s.length()) {
        pos = start;
        throw error(unterminated);
      }
      int ch = s.codePointAt(pos);
      if (ch == quote) {
        pos++;
        return into;
      }
      if (ch == '\\') {
        pos++;
        into.appendCodePoint(escape());
      } else {
        into.appendCodePoint(ch);
        pos += Character.charCount(ch);
      }
    }
  }

  private String strings() {
    StringBuilder sb = new StringBuilder();
    while (peek() == '"') {
      quoted('"', "unterminated string", sb);
    }
    return sb.toString();
  }

  private int charLiteral() {
    if (pos >= s.length()) {
      throw error("expected a character after '$', found the end of the text");
    }
    int ch = s.codePointAt(pos);
    if (ch == '\\') {
      pos++;
      return escape();
    }
    pos += Character.charCount(ch);
    return ch;
  }

  /** Reads the escape sequence after a backslash, as Erlang's scanner does. */
  private int escape() {
    if (pos >= s.length()) {
      throw error("expected an escape sequence, found the end of the text");
    }
    char c = s.charAt(pos++);
    switch (c) {
      case 'b': return '\b';
      case 'd': return 0x7f;
      case 'e': return 0x1b;
      case 'f': return '\f';
      case 'n': return '\n';
      case 'r': return '\r';
      case 's': return ' ';
      case 't': return '\t';
      case 'v': return 0x0b;
      case '^':
        if (pos >= s.length()) {
          throw error("expected a control character after \\^");
        }
        return s.charAt(pos++) & 0x1f;
      case 'x':
        if (pos < s.length() && s.charAt(pos) == '{') {
          int close = s.indexOf('}', pos);
          if (close < 0) {
            throw error("unterminated \\x{...} escape");
          }
          String hex = s.substring(pos + 1, close);
          try {
            int v = Integer.parseInt(hex, 16);
            if (hex.isEmpty() || v > Character.MAX_CODE_POINT || hex.startsWith("+") || hex.startsWith("-")) {
              throw new NumberFormatException();
            }
            pos = close + 1;
            return v;
          } catch (NumberFormatException e) {
            throw error("expected hex digits in \\x{...}, found \"" + hex + "\"");
          }
        }
        {
          int v = 0;
          for (int i = 0; i < 2; i++) {
            int d = pos < s.length() ? Character.digit(s.charAt(pos), 16) : -1;
            if (d < 0) {
              throw error("expected two hex digits after \\x, found " + found());
            }
            v = v * 16 + d;
            pos++;
          }
          return v;
        }
      default:
        if (c >= '0' && c <= '7') {
          int v = c - '0';
          for (int i = 0; i < 2 && pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '7'; i++) {
            v = v * 8 + (s.charAt(pos++) - '0');
          }
          return v;
        }
        pos--;
        int cp = s.codePointAt(pos);
        pos += Character.charCount(cp);
        return cp;
    }
  }

  private ErlTerm number() {
    int start = pos;
    String digits = digitRun(10);
    if (pos < s.length() && s.charAt(pos) == '#') {
      int base;
      try {
        base = Integer.parseInt(digits);
      } catch (NumberFormatException e) {
        base = -1;
      }
      if (base < 2 || base > 36) {
        pos = start;
        throw error("expected a base of 2..36 before '#', found " + digits);
      }
      pos++;
      String v = digitRun(base);
      if (v.isEmpty()) {
        throw error("expected base-" + base + " digits, found " + found());
      }
      return ErlInteger.of(new BigInteger(v, base));
    }
    if (pos + 1 < s.length() && s.charAt(pos) == '.' && Character.isDigit(s.charAt(pos + 1))) {
      pos++;
      String frac = digitRun(10);
      String exp = "";
      if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
        int save = pos;
        pos++;
        String sign = "";
        if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
          sign = s.substring(pos, pos + 1);
          pos++;
        }
        String e = digitRun(10);
        if (e.isEmpty()) {
          pos = save;
          throw error("expected exponent digits, found " + found());
        }
        exp = "e" + sign + e;
      }
      double d = Double.parseDouble(digits + "." + frac + exp);
      if (!Double.isFinite(d)) {
        pos = start;
        throw error("float out of range: " + digits + "." + frac + exp);
      }
      return ErlFloat.of(d);
    }
    return ErlInteger.of(new BigInteger(digits));
  }

  /** Digits of {@code base}, with single underscores between digits as Erlang allows. */
  private String digitRun(int base) {
    StringBuilder sb = new StringBuilder();
    while (pos < s.length()) {
      char ch = s.charAt(pos);
      if (ch < 128 && Character.digit(ch, base) >= 0) {
        sb.append(ch);
        pos++;
      } else if (ch == '_'
          && sb.length() > 0
          && pos + 1 < s.length()
          && s.charAt(pos + 1) < 128
          && Character.digit(s.charAt(pos + 1), base) >= 0) {
        pos++;
      } else {
        break;
      }
    }
    return sb.toString();
  }

  // ---- binaries ----

  private ErlBinary binary() {
    BitWriter w = new BitWriter();
    if (accept(">>")) {
      return ErlBinary.EMPTY;
    }
    do {
      segment(w);
    } while (accept(","));
    expect(">>");
    return w.toBinary();
  }

  private void segment(BitWriter w) {
    int start = pos;
    int c = peek();
    Object value;
    if (c == '"') {
      value = strings();
    } else if (s.startsWith("<<", pos)) {
      pos += 2;
      value = binary();
    } else if (c == '$') {
      pos++;
      value = BigInteger.valueOf(charLiteral());
    } else if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
      boolean neg = c == '-';
      if (c == '-' || c == '+') {
        pos++;
        skipSpace();
      }
      ErlTerm n = number();
      if (n instanceof ErlInteger i) {
        value = neg ? i.bigValue().negate() : i.bigValue();
      } else {
        value = neg ? -((ErlFloat) n).value() : ((ErlFloat) n).value();
      }
    } else {
      throw error("expected a binary segment value, found " + found());
    }
    Long size = null;
    if (accept(":")) {
      skipSpace();
      size = unsigned(31);
    }
    String type = null;
    boolean little = false;
    long unit = -1;
    if (accept("/")) {
      do {
        skipSpace();
        int ts = pos;
        while (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '_')) {
          pos++;
        }
        String spec = s.substring(ts, pos);
        switch (spec) {
          case "integer": case "float": case "binary": case "bytes": case "bitstring":
          case "bits": case "utf8": case "utf16": case "utf32":
            type = spec;
            break;
          case "signed": case "unsigned": case "big":
            break;
          case "little":
            little = true;
            break;
          case "unit":
            expect(":");
            unit = unsigned(8);
            if (unit < 1) {
              throw error("unit must be 1..256");
            }
            break;
          default:
            pos = ts;
            throw error("expected a binary type specifier, found " + (spec.isEmpty() ? found() : "'" + spec + "'"));
        }
      } while (accept("-"));
    }
    if (value instanceof String str) {
      if (type != null && !type.equals("integer") && !type.startsWith("utf")) {
        pos = start;
        throw error("a string segment must be an integer or utf type, found " + type);
      }
      for (int cp : str.codePoints().toArray()) {
        writeSegment(w, BigInteger.valueOf(cp), type, size, unit, little, start);
      }
    } else {
      writeSegment(w, value, type, size, unit, little, start);
    }
  }

  private void writeSegment(BitWriter w, Object value, String type, Long size, long unit, boolean little, int start) {
    if (type == null) {
      type = value instanceof Double ? "float" : value instanceof ErlBinary ? "bitstring" : "integer";
    }
    switch (type) {
      case "integer": {
        if (!(value instanceof BigInteger v)) {
          throw at(start, "an integer segment needs an integer value");
        }
        long bits = (size == null ? 8 : size) * (unit < 0 ? 1 : unit);
        if (bits > 1 << 20) {
          throw at(start, "integer segment of " + bits + " bits is too large");
        }
        w.putInteger(v, (int) bits, little);
        return;
      }
      case "float": {
        double d = value instanceof Double x ? x : value instanceof BigInteger b ? b.doubleValue() : Double.NaN;
        if (Double.isNaN(d)) {
          throw at(start, "a float segment needs a number");
        }
        long bits = (size == null ? 64 : size) * (unit < 0 ? 1 : unit);
        if (bits == 64) {
          w.putInteger(BigInteger.valueOf(Double.doubleToRawLongBits(d)), 64, little);
        } else if (bits == 32) {
          w.putInteger(BigInteger.valueOf(Float.floatToRawIntBits((float) d) & 0xffffffffL), 32, little);
        } else {
          throw at(start, "a float segment must be 32 or 64 bits, found " + bits);
        }
        return;
      }
      case "utf8": case "utf16": case "utf32": {
        if (!(value instanceof BigInteger v) || v.signum() < 0 || v.compareTo(BigInteger.valueOf(0x10FFFF)) > 0
            || (v.intValue() >= 0xD800 && v.intValue() <= 0xDFFF)) {
          throw at(start, "a " + type + " segment needs a Unicode code point");
        }
        if (size != null) {
          throw at(start, "a " + type + " segment takes no size");
        }
        String ch = new String(Character.toChars(v.intValue()));
        byte[] b = ch.getBytes(type.equals("utf8") ? java.nio.charset.StandardCharsets.UTF_8
            : type.equals("utf16") ? (little ? java.nio.charset.StandardCharsets.UTF_16LE : java.nio.charset.StandardCharsets.UTF_16BE)
            : java.nio.charset.Charset.forName(little ? "UTF-32LE" : "UTF-32BE"));
        for (byte x : b) {
          w.putInteger(BigInteger.valueOf(x & 0xff), 8, false);
        }
        return;
      }
      default: {
        if (!(value instanceof ErlBinary b)) {
          throw at(start, "a " + type + " segment needs a binary value");
        }
        long bits = b.bitSize();
        boolean bytesType = type.equals("binary") || type.equals("bytes");
        if (size != null) {
          long u = unit < 0 ? (bytesType ? 8 : 1) : unit;
          long want = size * u;
          if (want > bits) {
            throw at(start, "segment size " + want + " bits exceeds the binary's " + bits);
          }
          bits = want;
        } else if (bytesType && bits % 8 != 0) {
          throw at(start, "a " + type + " segment needs a whole number of bytes");
        }
        for (long i = 0; i < bits; i++) {
          w.putBit((b.byteAt((int) (i / 8)) >> (7 - (int) (i % 8))) & 1);
        }
      }
    }
  }

  private TermParseException at(int p, String message) {
    return new TermParseException(message, p);
  }

  /** Collects bits, most significant first. */
  private static final class BitWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int cur;
    private int nbits;

    void putBit(int bit) {
      cur = (cur << 1) | bit;
      if (++nbits == 8) {
        out.write(cur);
        cur = 0;
        nbits = 0;
      }
    }

    void putInteger(BigInteger v, int bits, boolean little) {
      if (little && bits % 8 == 0) {
        for (int byteIndex = 0; byteIndex < bits / 8; byteIndex++) {
          for (int i = 7; i >= 0; i--) {
            putBit(v.testBit(byteIndex * 8 + i) ? 1 : 0);
          }
        }
        return;
      }
      for (int i = bits - 1; i >= 0; i--) {
        putBit(v.testBit(i) ? 1 : 0);
      }
    }

    ErlBinary toBinary() {
      if (nbits == 0) {
        return ErlBinary.of(out.toByteArray());
      }
      int bits = nbits;
      out.write(cur << (8 - nbits));
      return ErlBinary.bitstring(out.toByteArray(), bits);
    }
  }
}
