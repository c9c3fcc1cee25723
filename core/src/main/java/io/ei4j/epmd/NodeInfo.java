package io.ei4j.epmd;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * What EPMD knows about a registered node: the fields of a {@code PORT2_RESP}, which are
 * the fields the node sent in its {@code ALIVE2_REQ}.
 *
 * <p>{@link EpmdClient#names()} only learns the name and the port; its entries have
 * {@link #nodeType()}, {@link #protocol()}, both versions set to 0 and an empty
 * {@link #extra()}.
 *
 * @param name the alive part of the node name (before the {@code @}), as registered
 * @param port the TCP port the node accepts distribution connections on, 0..65535
 * @param nodeType {@link #NODE_TYPE_NORMAL} (77) or {@link #NODE_TYPE_HIDDEN} (72), as the
 *     node registered itself; EPMD does not interpret it
 * @param protocol the transport protocol, {@link #PROTOCOL_TCP_IPV4} (0) for every known
 *     node
 * @param highestVersion the highest distribution protocol version the node speaks (6 for
 *     OTP 23 and later)
 * @param lowestVersion the lowest distribution protocol version the node speaks
 * @param extra the node's extra data, usually empty; the record keeps its own copy
 */
public record NodeInfo(
    String name,
    int port,
    int nodeType,
    int protocol,
    int highestVersion,
    int lowestVersion,
    byte[] extra) {

  /** Node type of a normal, published Erlang node ({@code 'M'}). */
  public static final int NODE_TYPE_NORMAL = 77;

  /** Node type of a hidden node, as C nodes and JInterface register ({@code 'H'}). */
  public static final int NODE_TYPE_HIDDEN = 72;

  /** The only protocol Erlang defines: TCP over IPv4 (also used for IPv6). */
  public static final int PROTOCOL_TCP_IPV4 = 0;

  /**
   * Checks every field against its width on the wire and keeps a private copy of
   * {@code extra}.
   *
   * @param name the alive name, not null
   * @param port 0..65535
   * @param nodeType 0..255
   * @param protocol 0..255
   * @param highestVersion 0..65535
   * @param lowestVersion 0..65535
   * @param extra the extra data; null counts as empty
   * @throws IllegalArgumentException when a field does not fit its width
   */
  public NodeInfo {
    Objects.requireNonNull(name, "name");
    if (port < 0 || port > 0xFFFF) {
      throw new IllegalArgumentException("port out of range 0..65535: " + port);
    }
    checkByte("nodeType", nodeType);
    checkByte("protocol", protocol);
    checkShort("highestVersion", highestVersion);
    checkShort("lowestVersion", lowestVersion);
    extra = extra == null ? new byte[0] : extra.clone();
  }

  /** A names-only entry, as {@code NAMES_REQ} reports it. */
  static NodeInfo nameAndPort(String name, int port) {
    return new NodeInfo(name, port, 0, 0, 0, 0, null);
  }

  /**
   * The node's extra data.
   *
   * @return a copy, never null
   */
  @Override
  public byte[] extra() {
    return extra.clone();
  }

  /**
   * Whether the node registered as hidden: type 72, or 104 (the R4-era hidden type).
   *
   * @return true for a hidden node; always false for entries from
   *     {@link EpmdClient#names()}, which carry no type
   */
  public boolean isHidden() {
    return nodeType == NODE_TYPE_HIDDEN || nodeType == 104;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NodeInfo n
        && name.equals(n.name)
        && port == n.port
        && nodeType == n.nodeType
        && protocol == n.protocol
        && highestVersion == n.highestVersion
        && lowestVersion == n.lowestVersion
        && Arrays.equals(extra, n.extra);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, port, nodeType, protocol, highestVersion, lowestVersion)
        * 31 + Arrays.hashCode(extra);
  }

  @Override
  public String toString() {
    return "NodeInfo[name=" + name + ", port=" + port + ", nodeType=" + nodeType
        + ", protocol=" + protocol + ", highestVersion=" + highestVersion
        + ", lowestVersion=" + lowestVersion
        + ", extra=" + HexFormat.of().formatHex(extra) + "]";
  }

  private static void checkByte(String what, int value) {
    if (value < 0 || value > 0xFF) {
      throw new IllegalArgumentException(what + " out of range 0..255: " + value);
    }
  }

  private static void checkShort(String what, int value) {
    if (value < 0 || value > 0xFFFF) {
      throw new IllegalArgumentException(what + " out of range 0..65535: " + value);
    }
  }
}
