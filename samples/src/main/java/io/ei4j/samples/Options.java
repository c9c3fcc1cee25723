package io.ei4j.samples;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A parsed command line: {@code --name value} or {@code --name=value} options, flags
 * without a value, and positional arguments in order. {@code --} ends the options, so
 * that a positional argument may start with {@code --}. A single dash is not an option
 * marker, so negative numbers such as {@code -5} are positional.
 */
final class Options {
  private final Map<String, String> values = new LinkedHashMap<>();
  private final List<String> positional = new ArrayList<>();

  private Options() {}

  /**
   * Parses {@code args}.
   *
   * @param withValue the option names (without dashes) that take a value
   * @param flags the option names that take none
   * @throws UsageException for an unknown option, a flag given a value, an option without
   *     its value, or an option given twice
   */
  static Options parse(List<String> args, Set<String> withValue, Set<String> flags) throws UsageException {
    Options o = new Options();
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("--")) {
        o.positional.addAll(args.subList(i + 1, args.size()));
        break;
      }
      if (!a.startsWith("--") || a.length() == 2) {
        o.positional.add(a);
        continue;
      }
      String name = a.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (flags.contains(name)) {
        if (value != null) {
          throw new UsageException("--" + name + " takes no value");
        }
        value = "";
      } else if (withValue.contains(name)) {
        if (value == null) {
          if (i + 1 >= args.size()) {
            throw new UsageException("--" + name + " needs a value");
          }
          value = args.get(++i);
        }
      } else {
        throw new UsageException("unknown option --" + name);
      }
      if (o.values.put(name, value) != null) {
        throw new UsageException("--" + name + " is given twice");
      }
    }
    return o;
  }

  /** Whether the option or flag was given. */
  boolean has(String name) {
    return values.containsKey(name);
  }

  /** The option's value, or {@code fallback} when it was not given. */
  String get(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  /** The option's value, or null. */
  String get(String name) {
    return values.get(name);
  }

  /**
   * The option's value as an integer in {@code min..max}, or {@code fallback}.
   *
   * @throws UsageException when the value is not such an integer
   */
  long getLong(String name, long fallback, long min, long max) throws UsageException {
    String v = values.get(name);
    if (v == null) {
      return fallback;
    }
    try {
      long n = Long.parseLong(v.trim());
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException("--" + name + " must be an integer in " + min + ".." + max + ", got '" + v + "'");
  }

  /**
   * The option's value, which must be one of {@code allowed}, or {@code fallback}.
   *
   * @throws UsageException for any other value
   */
  String choice(String name, String fallback, List<String> allowed) throws UsageException {
    String v = values.getOrDefault(name, fallback);
    if (!allowed.contains(v)) {
      throw new UsageException("--" + name + " must be one of " + String.join("|", allowed) + ", got '" + v + "'");
    }
    return v;
  }

  /** The positional arguments, in order. */
  List<String> positional() {
    return positional;
  }
}
