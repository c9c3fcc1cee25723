package io.ei4j.internal.node;

/**
 * The {@code alive@host} form of node names, parsed one way for every caller: an
 * {@code alive} part before the first {@code @} and a {@code host} part after it, neither
 * empty. Whether a further {@code @} is allowed in the host part is the caller's choice
 * ({@link #requireSingle}): Erlang accepts one in names it is given, while a node's own name
 * must have exactly one.
 */
public final class NodeNames {
  private NodeNames() {}

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
