package io.ei4j.term;

import java.math.BigDecimal;
import java.util.ArrayDeque;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Prints terms in Erlang syntax, as {@code io:format("~w")} does (printable binaries aside,
 * see {@link Terms#print}), with readable forms for the identifiers Erlang has no literal
 * syntax for. {@link TermParser} reads every form back.
 */
final class TermPrinter {
  private TermPrinter() {}

  static String print(ErlTerm t) {
    StringBuilder sb = new StringBuilder();
    print(t, sb);
    return sb.toString();
  }

  /**
   * Appends {@code t}. Containers are expanded through an explicit stack of pending items
   * (terms, or literal text to append), so printing a deeply nested term uses heap, not Java
   * stack.
   */
  static void print(ErlTerm t, StringBuilder sb) {
    ArrayDeque<Object> todo = new ArrayDeque<>();
    todo.push(t);
    while (!todo.isEmpty()) {
      Object next = todo.pop();
      if (next instanceof String text) {
        sb.append(text);
      } else {
        printOne((ErlTerm) next, sb, todo);
      }
    }
  }

  /** Prints a leaf, or the opening of a container whose remaining parts go on {@code todo}. */
  private static void printOne(ErlTerm t, StringBuilder sb, ArrayDeque<Object> todo) {
    if (t instanceof ErlAtom a) {
      atom(a.name(), sb);
    } else if (t instanceof ErlInteger i) {
      sb.append(i.toString());
    } else if (t instanceof ErlFloat f) {
      sb.append(formatFloat(f.value()));
    } else if (t instanceof ErlTuple tu) {
      sb.append('{');
      todo.push("}");
      pushSeparated(tu.array(), todo);
    } else if (t instanceof ErlList l) {
      sb.append('[');
      todo.push("]");
      if (l.tailOrNull() != null) {
        todo.push(l.tailOrNull());
        todo.push("|");
      }
      pushSeparated(l.array(), todo);
    } else if (t instanceof ErlBinary b) {
      binary(b, sb);
    } else if (t instanceof ErlMap m) {
      sb.append("#{");
      todo.push("}");
      ErlTerm[] k = m.keyArray();
      ErlTerm[] v = m.valueArray();
      for (int i = k.length - 1; i >= 0; i--) {
        todo.push(v[i]);
        todo.push(" => ");
        todo.push(k[i]);
        if (i > 0) {
          todo.push(",");
        }
      }
    } else if (t instanceof ErlPid p) {
      sb.append('<');
      pidBody(p, sb);
      sb.append('>');
    } else if (t instanceof ErlPort p) {
      sb.append("#Port<");
      atom(p.node().name(), sb);
      sb.append('.').append(Long.toUnsignedString(p.id()));
      sb.append('.').append(Integer.toUnsignedString(p.creation())).append('>');
    } else if (t instanceof ErlRef r) {
      sb.append("#Ref<");
      atom(r.node().name(), sb);
      sb.append('.').append(Integer.toUnsignedString(r.creation()));
      for (int id : r.idArray()) {
        sb.append('.').append(Integer.toUnsignedString(id));
      }
      sb.append('>');
    } else if (t instanceof ErlExportFun f) {
      sb.append("fun ");
      atom(f.module().name(), sb);
      sb.append(':');
      atom(f.function().name(), sb);
      sb.append('/').append(f.arity());
    } else {
      ErlFun f = (ErlFun) t;
      sb.append("#Fun<");
      atom(f.module().name(), sb);
      sb.append('.').append(f.oldIndex()).append('.').append(f.oldUniq());
      sb.append('.').append(Integer.toUnsignedString(f.index())).append('.');
      for (byte b : f.uniqArray()) {
        sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
      }
      sb.append('.').append(f.arity()).append('.');
      sb.append('<');
      pidBody(f.pid(), sb);
      sb.append(">.");
      todo.push(">");
      todo.push(ErlList.ofTrusted(f.freeVarArray(), null));
    }
  }

  /** Pushes elements, comma-separated, so that they pop in order. */
  private static void pushSeparated(ErlTerm[] elems, ArrayDeque<Object> todo) {
    for (int i = elems.length - 1; i >= 0; i--) {
      todo.push(elems[i]);
      if (i > 0) {
        todo.push(",");
      }
    }
  }

  private static void pidBody(ErlPid p, StringBuilder sb) {
    atom(p.node().name(), sb);
    sb.append('.').append(Integer.toUnsignedString(p.id()));
    sb.append('.').append(Integer.toUnsignedString(p.serial()));
    sb.append('.').append(Integer.toUnsignedString(p.creation()));
  }

  private static void binary(ErlBinary b, StringBuilder sb) {
    int n = b.size();
    sb.append("<<");
    if (b.isBinary() && n > 0 && printable(b)) {
      sb.append('"');
      for (int i = 0; i < n; i++) {
        char c = (char) b.byteAt(i);
        if (c == '"' || c == '\\') {
          sb.append('\\');
        }
        sb.append(c);
      }
      sb.append('"');
    } else {
      int whole = b.isBinary() ? n : n - 1;
      for (int i = 0; i < whole; i++) {
        if (i > 0) {
          sb.append(',');
        }
        sb.append(b.byteAt(i));
      }
      if (!b.isBinary()) {
        if (whole > 0) {
          sb.append(',');
        }
        int bits = b.bitsInLastByte();
        sb.append(b.byteAt(n - 1) >> (8 - bits)).append(':').append(bits);
      }
    }
    sb.append(">>");
  }

  private static boolean printable(ErlBinary b) {
    for (int i = 0; i < b.size(); i++) {
      int c = b.byteAt(i);
      if (c < 32 || c > 126) {
        return false;
      }
    }
    return true;
  }

  /** Reserved words, which must be quoted to read as atoms. */
  private static final java.util.Set<String> RESERVED =
      java.util.Set.of(
          "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor",
          "case", "catch", "cond", "div", "end", "fun", "if", "let", "not", "of", "or", "orelse",
          "receive", "rem", "try", "when", "xor", "maybe", "else");

  /** Lower-case letters as Erlang's scanner sees them: a-z and Latin-1 223..255 except 247. */
  static boolean isLower(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 223 && c <= 255 && c != 247);
  }

  /** Upper-case letters as Erlang's scanner sees them: A-Z and Latin-1 192..222 except 215. */
  static boolean isUpper(int c) {
    return (c >= 'A' && c <= 'Z') || (c >= 192 && c <= 222 && c != 215);
  }

  static boolean isNameChar(int c) {
    return isLower(c) || isUpper(c) || (c >= '0' && c <= '9') || c == '_' || c == '@';
  }

  static void atom(String name, StringBuilder sb) {
    if (!needsQuotes(name)) {
      sb.append(name);
      return;
    }
    sb.append('\'');
    name.codePoints().forEach(c -> escape(c, '\'', sb));
    sb.append('\'');
  }

  private static boolean needsQuotes(String name) {
    if (name.isEmpty() || !isLower(name.charAt(0))) {
      return true;
    }
    for (int i = 1; i < name.length(); i++) {
      if (!isNameChar(name.charAt(i))) {
        return true;
      }
    }
    return RESERVED.contains(name);
  }

  /** Appends code point {@code c} inside a literal quoted with {@code quote}. */
  static void escape(int c, char quote, StringBuilder sb) {
    switch (c) {
      case '\n': sb.append("\\n"); return;
      case '\r': sb.append("\\r"); return;
      case '\t': sb.append("\\t"); return;
      case 0x0b: sb.append("\\v"); return;
      case '\b': sb.append("\\b"); return;
      case '\f': sb.append("\\f"); return;
      case 0x1b: sb.append("\\e"); return;
      case 0x7f: sb.append("\\d"); return;
      case '\\': sb.append("\\\\"); return;
      default:
        break;
    }
    if (c == quote) {
      sb.append('\\').append(quote);
    } else if (c < 32 || (c >= 0x80 && c < 0xa0)) {
      // As ~w does: other control characters as three octal digits.
      sb.append('\\').append((char) ('0' + (c >> 6))).append((char) ('0' + ((c >> 3) & 7)))
          .append((char) ('0' + (c & 7)));
    } else if (c > 0xff) {
      // As ~w does: printed terms stay Latin-1 whatever the atoms hold.
      sb.append("\\x{").append(Integer.toHexString(c).toUpperCase(java.util.Locale.ROOT)).append('}');
    } else {
      sb.appendCodePoint(c);
    }
  }

  /**
   * A float as Erlang's {@code ~w} writes it: the shortest digits that read back as the same
   * double, in plain or scientific notation, whichever is shorter (plain on a tie, scientific
   * from 2<sup>53</sup> up), always with a digit on each side of the point: {@code 0.1},
   * {@code 100.0}, {@code 1.0e3}, {@code 1.0e-5}, {@code 9.007199254741004e15}.
   */
  static String formatFloat(double d) {
    if (d == 0) {
      return (1 / d < 0) ? "-0.0" : "0.0";
    }
    BigDecimal exact = new BigDecimal(d);
    BigDecimal shortest = null;
    for (int p = 1; p <= 17; p++) {
      BigDecimal r = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
      if (r.doubleValue() == d) {
        shortest = r;
        break;
      }
    }
    if (shortest == null) {
      shortest = exact.round(new MathContext(17, RoundingMode.HALF_EVEN));
    }
    String sign = shortest.signum() < 0 ? "-" : "";
    BigDecimal abs = shortest.abs().stripTrailingZeros();
    String digits = abs.unscaledValue().toString();
    // value = 0.digits * 10^exp10  <=>  digits * 10^(-scale)
    int exp10 = digits.length() - abs.scale();
    String sci;
    {
      StringBuilder s = new StringBuilder(sign);
      s.append(digits.charAt(0)).append('.');
      s.append(digits.length() > 1 ? digits.substring(1) : "0");
      s.append('e').append(exp10 - 1);
      sci = s.toString();
    }
    StringBuilder plain = new StringBuilder(sign);
    if (exp10 <= 0) {
      plain.append("0.");
      for (int i = 0; i < -exp10; i++) {
        plain.append('0');
      }
      plain.append(digits);
    } else if (exp10 >= digits.length()) {
      plain.append(digits);
      for (int i = digits.length(); i < exp10; i++) {
        plain.append('0');
      }
      plain.append(".0");
    } else {
      plain.append(digits, 0, exp10).append('.').append(digits, exp10, digits.length());
    }
    // Like OTP, plain notation only below 2^53, where every integer is exact.
    boolean plainAllowed = Math.abs(d) < 9007199254740992.0;
    return plainAllowed && plain.length() <= sci.length() ? plain.toString() : sci;
  }
}
