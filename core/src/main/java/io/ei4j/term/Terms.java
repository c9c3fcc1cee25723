package io.ei4j.term;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Static helpers to build, convert, print and parse terms.
 *
 * <pre>{@code
 * import static io.ei4j.term.Terms.*;
 *
 * ErlTerm call = tuple(atom("call"), list(1, 2.5, "x"), map("k", atom("v")));
 * // {call,[1,2.5,<<"x">>],#{<<"k">> => v}}
 * ErlTerm same = parse("{call, [1, 2.5, <<\"x\">>], #{<<\"k\">> => v}}");
 * }</pre>
 *
 * <p>Java values convert with {@link #of(Object)}; the conversions are the unambiguous ones,
 * and a Java {@code String} becomes a UTF-8 <em>binary</em> (as Elixir strings are), not an
 * Erlang list string: use {@link #string} for that.
 */
public final class Terms {
  private Terms() {}

  /** The atom with this name. */
  public static ErlAtom atom(String name) {
    return ErlAtom.of(name);
  }

  /** A tuple of the elements, each converted by {@link #of(Object)}. */
  public static ErlTuple tuple(Object... elems) {
    ErlTerm[] t = new ErlTerm[elems.length];
    for (int i = 0; i < elems.length; i++) {
      t[i] = of(elems[i]);
    }
    return ErlTuple.ofTrusted(t);
  }

  /** A proper list of the elements, each converted by {@link #of(Object)}. */
  public static ErlList list(Object... elems) {
    ErlTerm[] t = new ErlTerm[elems.length];
    for (int i = 0; i < elems.length; i++) {
      t[i] = of(elems[i]);
    }
    return ErlList.ofTrusted(t, null);
  }

  /** The integer with this value. */
  public static ErlInteger integer(long value) {
    return ErlInteger.of(value);
  }

  /** The integer with this value. */
  public static ErlInteger integer(BigInteger value) {
    return ErlInteger.of(value);
  }

  /** The float with this value. */
  public static ErlFloat floating(double value) {
    return ErlFloat.of(value);
  }

  /** A binary that takes ownership of {@code bytes} (no copy). */
  public static ErlBinary binary(byte[] bytes) {
    return ErlBinary.of(bytes);
  }

  /** The UTF-8 binary of {@code s}, as an Elixir string or Erlang's {@code <<"s"/utf8>>}. */
  public static ErlBinary binary(String s) {
    return ErlBinary.of(s.getBytes(StandardCharsets.UTF_8));
  }

  /** The Erlang string (a list of code points) of {@code s}. */
  public static ErlList string(String s) {
    return ErlList.ofString(s);
  }

  /** The atom {@code true} or {@code false}. */
  public static ErlAtom bool(boolean b) {
    return ErlAtom.of(b);
  }

  /**
   * A map of alternating keys and values, each converted by {@link #of(Object)}; a later
   * duplicate key replaces an earlier one, as in an Erlang map literal.
   *
   * @throws IllegalArgumentException if the number of arguments is odd
   */
  public static ErlMap map(Object... keyValuePairs) {
    if (keyValuePairs.length % 2 != 0) {
      throw new IllegalArgumentException("map needs key/value pairs, got " + keyValuePairs.length + " arguments");
    }
    Map<ErlTerm, ErlTerm> m = new LinkedHashMap<>();
    for (int i = 0; i < keyValuePairs.length; i += 2) {
      m.put(of(keyValuePairs[i]), of(keyValuePairs[i + 1]));
    }
    return ErlMap.of(m);
  }

  /**
   * Converts a Java value to a term.
   *
   * <table>
   *   <caption>Conversions</caption>
   *   <tr><th>Java</th><th>Erlang</th></tr>
   *   <tr><td>{@link ErlTerm}</td><td>itself</td></tr>
   *   <tr><td>Byte, Short, Integer, Long, BigInteger</td><td>integer</td></tr>
   *   <tr><td>Float, Double</td><td>float</td></tr>
   *   <tr><td>Boolean</td><td>{@code true} / {@code false}</td></tr>
   *   <tr><td>String</td><td>UTF-8 binary</td></tr>
   *   <tr><td>Character</td><td>integer (the character's code)</td></tr>
   *   <tr><td>byte[]</td><td>binary (the array is not copied)</td></tr>
   *   <tr><td>List</td><td>proper list</td></tr>
   *   <tr><td>Map</td><td>map</td></tr>
   *   <tr><td>Object[]</td><td>tuple</td></tr>
   * </table>
   *
   * @throws IllegalArgumentException for null and for any other type
   */
  public static ErlTerm of(Object v) {
    if (v instanceof ErlTerm t) {
      return t;
    } else if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      return ErlInteger.of(((Number) v).longValue());
    } else if (v instanceof BigInteger b) {
      return ErlInteger.of(b);
    } else if (v instanceof Double || v instanceof Float) {
      return ErlFloat.of(((Number) v).doubleValue());
    } else if (v instanceof Boolean b) {
      return ErlAtom.of(b);
    } else if (v instanceof String s) {
      return binary(s);
    } else if (v instanceof Character c) {
      return ErlInteger.of(c);
    } else if (v instanceof byte[] b) {
      return ErlBinary.of(b);
    } else if (v instanceof List<?> l) {
      ErlTerm[] t = new ErlTerm[l.size()];
      int i = 0;
      for (Object o : l) {
        t[i++] = of(o);
      }
      return ErlList.ofTrusted(t, null);
    } else if (v instanceof Map<?, ?> m) {
      Map<ErlTerm, ErlTerm> c = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        ErlTerm k = of(e.getKey());
        if (c.put(k, of(e.getValue())) != null) {
          throw new IllegalArgumentException("two Java keys convert to the same Erlang key " + k);
        }
      }
      return ErlMap.of(c);
    } else if (v instanceof Object[] a) {
      return tuple(a);
    }
    throw new IllegalArgumentException(
        "no Erlang term for "
            + (v == null ? "null" : "a " + v.getClass().getName())
            + "; build it with the ErlTerm classes");
  }

  /**
   * Reads a term written in Erlang syntax, e.g. {@code {call, [1, 2.5, <<"x">>], #{k => v}}}.
   *
   * <p>Besides Erlang's literal syntax (atoms, integers in any base, floats, {@code $c}
   * characters, strings, binaries with sized and typed segments, tuples, lists, maps,
   * {@code fun M:F/A}), it reads the forms {@link #print} uses for pids, ports, references and
   * closures. An optional trailing {@code .} is allowed. Text may nest at most 500 levels
   * deep.
   *
   * @throws TermParseException if the text is not one such term
   */
  public static ErlTerm parse(String erlangSyntax) {
    return TermParser.parse(Objects.requireNonNull(erlangSyntax, "erlangSyntax"));
  }

  /**
   * Prints a term in Erlang syntax, as {@code io:format("~w", [Term])} does; the same as
   * {@code term.toString()}. Lists always print as lists of integers (as {@code ~w}, not
   * {@code ~p}); atoms are quoted and escaped as {@code ~w} does, characters above Latin-1 as
   * {@code \x{...}}; floats take the shortest form that reads back exactly. One deliberate
   * difference: a binary of printable ASCII prints as a string, {@code <<"abc">>}, where
   * {@code ~w} writes {@code <<97,98,99>>}. The oracle test checks the rest against
   * {@code ~w} on a real node.
   *
   * <p>Erlang has no literal syntax for pids, ports, references and closures, and its own
   * printed forms ({@code <0.42.0>}) leave out the node and creation, so this prints forms
   * that keep every field and that {@link #parse} reads back:
   *
   * <pre>
   *   pid        &lt;Node.Id.Serial.Creation&gt;               &lt;'a@127.0.0.1'.42.0.3&gt;
   *   port       #Port&lt;Node.Id.Creation&gt;                  #Port&lt;a@host.7.3&gt;
   *   reference  #Ref&lt;Node.Creation.Id1.Id2...&gt;           #Ref&lt;a@host.3.1.2.3&gt;
   *   closure    #Fun&lt;Module.OldIndex.OldUniq.Index.UniqHex.Arity.Pid.FreeVars&gt;
   * </pre>
   *
   * The node is an atom, quoted when Erlang would quote it; numbers are unsigned decimals.
   */
  public static String print(ErlTerm term) {
    return TermPrinter.print(term);
  }
}
