package io.ei4j.internal.node;

/**
 * The {@code alive@host} form of node names, parsed one way for every caller: an
 * {@code alive} part before the first {@code @} and a {@code host} part after it, neither
 * empty. Whether a further {@code @} is allowed in the host part is the caller's choice
 * ({@link #requireSingle}): Erlang accepts one in names it is given, while a node's own name
 * must have exactly one.
 *
 * <p>What makes a name valid is Erlang's rule, in two layers:
 *
 * <ul>
 *   <li>{@link #peerNameProblem}, the runtime's own check (erts {@code is_node_name}, applied
 *       to every name a node is given, including a connecting peer's): the alive part is one
 *       or more ASCII letters, digits, {@code _} and {@code -}; then {@code @}; then a
 *       non-empty host part without a further {@code @}. A peer whose name fails it is
 *       refused during the handshake.
 *   <li>{@link #ownNameProblem}, what {@code erl -name} and {@code net_kernel:start} add for
 *       a node's own name: the host part consists of the characters {@code !} to
 *       U+00FF only (no spaces, no control characters). {@code erl -sname} also
 *       rejects a dot in the host part; a Java node does not know which of the two its peers
 *       use, so it accepts the {@code -name} form (a peer of the other kind cannot connect
 *       anyway, as between two Erlang nodes).
 * </ul>
 *
 * Both limit the whole name to 255 characters, an atom's limit.
 */
public final class NodeNames {
  /** The longest node name, in characters: the longest atom. */
  public static final int MAX_CHARS = 255;

  /** The rule of {@link #peerNameProblem}, as error messages state it. */
  public static final String RULE = "a node name is ALIVE@HOST: ALIVE is one or more of the letters A-Z and a-z, "
      + "the digits 0-9, _ and -; HOST is not empty and has no further @; at most " + MAX_CHARS + " characters in all";

  private NodeNames() {}

  /**
   * Why Erlang's runtime would not take {@code name} as a node name, or null when it would.
   *
   * @param name a peer's full name, as it arrived
   * @return a one-line reason that states the rule, or null
   */
  public static String peerNameProblem(String name) {
    int chars = name.codePointCount(0, name.length());
    if (chars > MAX_CHARS) {
      return "'" + name.substring(0, 40) + "...' has " + chars + " characters; " + RULE;
    }
    int at = name.indexOf('@');
    if (at < 0) {
      return "'" + name + "' has no @HOST part; " + RULE;
    }
    if (at == 0) {
      return "'" + name + "' has an empty ALIVE part; " + RULE;
    }
    for (int i = 0; i < at; i++) {
      char c = name.charAt(i);
      if (!isAliveChar(c)) {
        return "'" + name + "' has " + describe(name.codePointAt(i)) + " in its ALIVE part; " + RULE;
      }
    }
    if (at == name.length() - 1) {
      return "'" + name + "' has an empty HOST part; " + RULE;
    }
    if (name.indexOf('@', at + 1) >= 0) {
      return "'" + name + "' has a second @; " + RULE;
    }
    return null;
  }

  /**
   * Why {@code erl -name} would not take {@code name} as its own node name, or null when it
   * would: {@link #peerNameProblem}, and the host part must consist of the characters
   * {@code !} (U+0021) to U+00FF.
   *
   * @param name this node's full name
   * @return a one-line reason that states the rule, or null
   */
  public static String ownNameProblem(String name) {
    String problem = peerNameProblem(name);
    if (problem != null) {
      return problem;
    }
    String host = host(name);
    for (int i = 0; i < host.length(); ) {
      int cp = host.codePointAt(i);
      if (cp < '!' || cp > 0xff) {
        return "'" + name + "' has " + describe(cp) + " in its HOST part, which erl allows to hold only the characters "
            + "from ! (U+0021) to U+00FF (no spaces or control characters)";
      }
      i += Character.charCount(cp);
    }
    return null;
  }

  /**
   * Checks a node's own name against {@link #ownNameProblem}.
   *
   * @param nodeName this node's full name
   * @return the index of its only {@code @}
   * @throws IllegalArgumentException with the reason and the rule, for a name Erlang rejects
   */
  public static int requireValid(String nodeName) {
    String problem = ownNameProblem(nodeName);
    if (problem != null) {
      throw new IllegalArgumentException("invalid node name " + problem);
    }
    return nodeName.indexOf('@');
  }

  private static boolean isAliveChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  }

  private static String describe(int cp) {
    if (cp == ' ') {
      return "a space";
    }
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
      return String.format("the control character U+%04X", cp);
    }
    return "'" + new String(Character.toChars(cp)) + "'";
  }

  /**
   * The position of the {@code @} that separates the alive part from the host part.
   *
   * @param nodeName a peer's or this node's full name
   * @return the index of the first {@code @}, at least 1 and below the last index
   * @throws IllegalArgumentException when either part is empty or there is no {@code @}
   */
  public static int separator(String nodeName) {
    int at = nodeName.indexOf('@');
    if (at <= 0 || at == nodeName.length() - 1) {
      throw notAliveAtHost(nodeName);
    }
    return at;
  }

  /**
   * As {@link #separator}, and also rejects a second {@code @}: the check for a node's own
   * name, which becomes {@code alive} and {@code host} separately.
   *
   * @param nodeName this node's full name
   * @return the index of the only {@code @}
   * @throws IllegalArgumentException when the name is not exactly {@code alive@host}
   */
  public static int requireSingle(String nodeName) {
    int at = separator(nodeName);
    if (nodeName.indexOf('@', at + 1) >= 0) {
      throw notAliveAtHost(nodeName);
    }
    return at;
  }

  /**
   * The part of a name before its first {@code @}.
   *
   * @param nodeName a name already checked by {@link #separator}
   * @return the alive part
   */
  public static String alive(String nodeName) {
    return nodeName.substring(0, nodeName.indexOf('@'));
  }

  /**
   * The part of a name after its first {@code @}.
   *
   * @param nodeName a name already checked by {@link #separator}
   * @return the host part
   */
  public static String host(String nodeName) {
    return nodeName.substring(nodeName.indexOf('@') + 1);
  }

  private static IllegalArgumentException notAliveAtHost(String nodeName) {
    return new IllegalArgumentException("a node name is alive@host, got '" + nodeName + "'");
  }
}
