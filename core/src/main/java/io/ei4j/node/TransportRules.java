package io.ei4j.node;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A {@link TransportSelector} from an ordered list of glob rules on the peer's node name:
 * the first rule whose pattern matches the whole name chooses the transport, and a
 * fallback takes the rest.
 *
 * <pre>{@code
 * TransportRules rules = TransportRules.builder()
 *     .rule("*@localhost", "uds")   // same host: AF_UNIX
 *     .rule("*@10.*", "tcp")        // local network: plain TCP
 *     .otherwise("tls")             // everything else: TLS
 *     .build();
 * // or, from configuration text:
 * TransportRules same = TransportRules.parse("*@localhost -> uds\n*@10.* -> tcp\n* -> tls");
 * }</pre>
 *
 * <p>Patterns: {@code *} matches any run of characters (also none), {@code ?} exactly one,
 * {@code \} makes the next character literal; everything else matches itself,
 * case-sensitively (node names are atoms). Immutable and thread-safe.
 */
public final class TransportRules implements TransportSelector {
  /** The longest pattern accepted; node names are at most 255 characters. */
  static final int MAX_PATTERN = 1024;

  /** One rule: a glob pattern and the transport it chooses. */
  public record Rule(String pattern, String transport) {
    /**
     * Checks the parts.
     *
     * @param pattern the glob pattern
     * @param transport the transport name
     */
    public Rule {
      Objects.requireNonNull(pattern, "pattern");
      Objects.requireNonNull(transport, "transport");
      if (pattern.isEmpty() || pattern.length() > MAX_PATTERN) {
        throw new IllegalArgumentException("a rule's pattern is 1.." + MAX_PATTERN + " characters, got " + pattern.length());
      }
      if (pattern.endsWith("\\") && !pattern.endsWith("\\\\")) {
        throw new IllegalArgumentException("pattern '" + pattern + "' ends with a lone escape character");
      }
      if (transport.isEmpty()) {
        throw new IllegalArgumentException("a rule needs a transport name");
      }
    }

    /**
     * Whether the pattern matches the whole of {@code nodeName}.
     *
     * @param nodeName the name
     * @return true on a match
     */
    public boolean matches(String nodeName) {
      return glob(pattern, nodeName);
    }
  }

  private final List<Rule> rules;
  private final String fallback;

  private TransportRules(List<Rule> rules, String fallback) {
    this.rules = List.copyOf(rules);
    this.fallback = fallback;
  }

  /**
   * An empty set of rules to add to.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Rules from text, one {@code pattern -> transport} per line; blank lines and lines
   * starting with {@code #} are skipped. A rule whose pattern is {@code *} is the fallback
   * and must come last.
   *
   * @param text the rules
   * @return the rules
   * @throws IllegalArgumentException naming the line that is not {@code pattern -> transport}
   */
  public static TransportRules parse(String text) {
    Builder b = builder();
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int arrow = line.indexOf("->");
      String pattern = arrow < 0 ? "" : line.substring(0, arrow).strip();
      String transport = arrow < 0 ? "" : line.substring(arrow + 2).strip();
      if (pattern.isEmpty() || transport.isEmpty() || transport.contains(" ")) {
        throw new IllegalArgumentException("line " + (i + 1) + " of the transport rules is not 'pattern -> transport': " + line);
      }
      if (b.fallback != null) {
        throw new IllegalArgumentException("line " + (i + 1) + " of the transport rules comes after the catch-all rule '* -> " + b.fallback + "'");
      }
      if (pattern.equals("*")) {
        b.otherwise(transport);
      } else {
        b.rule(pattern, transport);
      }
    }
    return b.build();
  }

  /**
   * The rules in order, without the fallback.
   *
   * @return the rules
   */
  public List<Rule> rules() {
    return rules;
  }

  /**
   * The transport for names no rule matches.
   *
   * @return the fallback transport name, or null when such names have none
   */
  public String fallback() {
    return fallback;
  }

  /**
   * The transport the rules give {@code nodeName}.
   *
   * @param nodeName the peer's full name
   * @return the transport name
   * @throws IllegalArgumentException when no rule matches and there is no fallback
   */
  public String transportFor(String nodeName) {
    for (Rule r : rules) {
      if (r.matches(nodeName)) {
        return r.transport();
      }
    }
    if (fallback == null) {
      throw new IllegalArgumentException("no transport rule matches " + nodeName + " and there is no fallback");
    }
    return fallback;
  }

  @Override
  public String select(Peer peer) {
    return transportFor(peer.nodeName());
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("TransportRules[");
    for (Rule r : rules) {
      sb.append(r.pattern()).append(" -> ").append(r.transport()).append("; ");
    }
    return sb.append("* -> ").append(fallback).append(']').toString();
  }

  /**
   * Whether {@code glob} matches all of {@code s}: iterative, with backtracking to the last
   * {@code *} only, so time is at most proportional to the product of the lengths.
   */
  static boolean glob(String glob, String s) {
    int g = 0;
    int i = 0;
    int starG = -1;
    int starI = 0;
    while (i < s.length()) {
      if (g < glob.length()) {
        char c = glob.charAt(g);
        if (c == '*') {
          starG = g++;
          starI = i;
          continue;
        }
        if (c == '?') {
          g++;
          i++;
          continue;
        }
        if (c == '\\' && g + 1 < glob.length()) {
          c = glob.charAt(g + 1);
          if (c == s.charAt(i)) {
            g += 2;
            i++;
            continue;
          }
        } else if (c == s.charAt(i)) {
          g++;
          i++;
          continue;
        }
      }
      if (starG < 0) {
        return false;
      }
      g = starG + 1;
      i = ++starI;
    }
    while (g < glob.length() && glob.charAt(g) == '*') {
      g++;
    }
    return g == glob.length();
  }

  /** Collects rules in order. */
  public static final class Builder {
    private final List<Rule> rules = new ArrayList<>();
    private String fallback;

    private Builder() {}

    /**
     * Adds a rule after the ones already added.
     *
     * @param pattern a glob on the peer's full node name
     * @param transport the transport name for matching peers
     * @return this builder
     */
    public Builder rule(String pattern, String transport) {
      rules.add(new Rule(pattern, transport));
      return this;
    }

    /**
     * The transport for peers no rule matches; without one, such peers cannot be connected to.
     *
     * @param transport the transport name
     * @return this builder
     */
    public Builder otherwise(String transport) {
      this.fallback = Objects.requireNonNull(transport, "transport");
      return this;
    }

    /**
     * The rules.
     *
     * @return the immutable rules
     */
    public TransportRules build() {
      return new TransportRules(rules, fallback);
    }
  }
}
