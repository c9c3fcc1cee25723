package io.ei4j.epmd;

import io.ei4j.epmd.EpmdException.Reason;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of one EPMD (Erlang Port Mapper Daemon): registers a node
 * ({@code ALIVE2_REQ}), looks a node up ({@code PORT_PLEASE2_REQ}) and lists the
 * registered names ({@code NAMES_REQ}).
 *
 * <p>Each request opens its own plain TCP connection, as EPMD expects: lookups and
 * listings are answered and closed by EPMD, a registration keeps its connection open for
 * as long as the node stays registered. Connecting and reading the whole reply must
 * finish within the client's timeout; otherwise the request fails with
 * {@link Reason#TIMEOUT}. Every length EPMD sends is checked against EPMD's own limits
 * before anything is allocated.
 *
 * <p>Instances are immutable and safe to share between threads.
 */
public final class EpmdClient {
  /** The port EPMD listens on unless told otherwise. */
  public static final int DEFAULT_PORT = 4369;

  /** The timeout of {@link #local()}. */
  public static final long DEFAULT_TIMEOUT_MILLIS = 5_000;

  /** The environment variable that moves EPMD to another port, as for {@code erl}. */
  public static final String PORT_ENV = "ERL_EPMD_PORT";

  /**
   * The most {@link #names()} reads: a name line is at most about 1050 bytes, so this is
   * room for thousands of nodes, and bounds what a hostile server can make us buffer.
   */
  static final int MAX_NAMES_REPLY = 4 << 20;

  private static final Logger log = LoggerFactory.getLogger(EpmdClient.class);
  private static final String AT_PORT = " at port ";

  private final String host;
  private final int port;
  private final long timeoutMillis;

  /**
   * A client of the EPMD at {@code host:port}. Nothing is contacted until a request is
   * made.
   *
   * @param host a host name or address literal; every address it resolves to is tried in
   *     turn
   * @param port EPMD's TCP port, 1..65535
   * @param timeoutMillis how long one request may take in total, connect included; &gt; 0.
   *     Values above {@link Integer#MAX_VALUE} (about 24 days) count as that.
   */
  public EpmdClient(String host, int port, long timeoutMillis) {
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("host is empty");
    }
    if (port < 1 || port > 0xFFFF) {
      throw new IllegalArgumentException("EPMD port out of range 1..65535: " + port);
    }
    if (timeoutMillis <= 0) {
      throw new IllegalArgumentException("timeout must be positive: " + timeoutMillis + " ms");
    }
    this.host = host;
    this.port = port;
    this.timeoutMillis = Math.min(timeoutMillis, Integer.MAX_VALUE);
  }

  /**
   * The EPMD on this machine, as an Erlang node would find it: host {@code localhost},
   * port {@link #defaultPort()}, timeout {@link #DEFAULT_TIMEOUT_MILLIS}.
   *
   * @return a client of the local EPMD
   * @throws IllegalStateException when {@code ERL_EPMD_PORT} is set but is not a port
   */
  public static EpmdClient local() {
    return new EpmdClient("localhost", defaultPort(), DEFAULT_TIMEOUT_MILLIS);
  }

  /**
   * The EPMD port from the environment variable {@code ERL_EPMD_PORT}, else 4369.
   *
   * @return the port Erlang nodes started from this environment would use
   * @throws IllegalStateException when the variable is set but is not a port number
   */
  public static int defaultPort() {
    String env = System.getenv(PORT_ENV);
    if (env == null || env.isBlank()) {
      return DEFAULT_PORT;
    }
    try {
      int p = Integer.parseInt(env.trim());
      if (p >= 1 && p <= 0xFFFF) {
        return p;
      }
    } catch (NumberFormatException e) {
      // fall through to the error below
    }
    throw new IllegalStateException(PORT_ENV + " is not a port number: " + env);
  }

  /**
   * The host this client contacts.
   *
   * @return the host name or address, as given
   */
  public String host() {
    return host;
  }

  /**
   * The EPMD port this client contacts.
   *
   * @return the port, 1..65535
   */
  public int port() {
    return port;
  }

  /**
   * The time one request may take in total.
   *
   * @return the timeout in milliseconds
   */
  public long timeoutMillis() {
    return timeoutMillis;
  }

  /**
   * Asks EPMD where the node {@code alive} listens ({@code PORT_PLEASE2_REQ}).
   *
   * @param alive the part of the node name before the {@code @}
   * @return the node's registration, or empty when EPMD does not know the name
   * @throws EpmdException when EPMD cannot be reached ({@link Reason#UNREACHABLE}), does
   *     not answer in time ({@link Reason#TIMEOUT}) or answers something malformed
   *     ({@link Reason#PROTOCOL})
   * @throws IllegalArgumentException when {@code alive} is not a valid node name
   */
  public Optional<NodeInfo> portPlease(String alive) throws IOException {
    byte[] name = EpmdWire.aliveBytes(alive);
    try (EpmdSocket s = EpmdSocket.connect(host, port, timeoutMillis)) {
      s.write(EpmdWire.portPlease2Request(name));
      int tag = s.readUnsignedByte("the PORT2_RESP tag");
      if (tag != EpmdWire.PORT2_RESP) {
        throw new EpmdException(
            Reason.PROTOCOL,
            s.where() + " answered PORT_PLEASE2_REQ with " + EpmdWire.describeByte(tag)
                + ", expected PORT2_RESP 'w' (119)");
      }
      int result = s.readUnsignedByte("the PORT2_RESP result");
      if (result != 0) {
        return Optional.empty();
      }
      // port:16 nodeType:8 protocol:8 highestVersion:16 lowestVersion:16 nlen:16 name
      // elen:16 extra
      int nodePort = s.readUnsignedShort("the node's port");
      int nodeType = s.readUnsignedByte("the node type");
      int protocol = s.readUnsignedByte("the protocol");
      int high = s.readUnsignedShort("the highest version");
      int low = s.readUnsignedShort("the lowest version");
      int nlen = s.readUnsignedShort("the name length");
      if (nlen < 1 || nlen > EpmdWire.MAX_NAME_BYTES) {
        throw new EpmdException(
            Reason.PROTOCOL,
            s.where() + " sent a node name length of " + nlen + ", expected 1.."
                + EpmdWire.MAX_NAME_BYTES);
      }
      byte[] nameBytes = s.readBytes(nlen, "the node name");
      int elen = s.readUnsignedShort("the extra length");
      if (elen > EpmdWire.MAX_EXTRA_BYTES) {
        throw new EpmdException(
            Reason.PROTOCOL,
            s.where() + " sent an extra data length of " + elen + ", expected at most "
                + EpmdWire.MAX_EXTRA_BYTES);
      }
      byte[] extra = s.readBytes(elen, "the extra data");
      String registered = EpmdWire.decodeUtf8(nameBytes, 0, nlen);
      if (registered == null) {
        throw new EpmdException(
            Reason.PROTOCOL, s.where() + " sent a node name that is not valid UTF-8");
      }
      return Optional.of(new NodeInfo(registered, nodePort, nodeType, protocol, high, low, extra));
    }
  }

  /**
   * Registers this node with EPMD ({@code ALIVE2_REQ}, TCP/IPv4, distribution versions 6
   * down to 5, no extra data) and keeps the connection open: the node stays registered
   * until the returned registration is closed or the connection breaks.
   *
   * <p>EPMD answers version-6 registrations with {@code ALIVE2_X_RESP} ({@code 'v'},
   * 32-bit creation); an older EPMD answers {@code ALIVE2_RESP} ({@code 'y'}, 16-bit
   * creation, 1..3). Both are accepted; {@link EpmdRegistration#creation()} is the value
   * as EPMD sent it.
   *
   * @param alive the part of the node name before the {@code @}
   * @param port the port the node accepts distribution connections on, 1..65535
   * @param hidden register as a hidden node (type 72) rather than a normal one (type 77)
   * @return the registration, open until closed
   * @throws EpmdException with {@link Reason#REGISTRATION_REFUSED} and the result code when
   *     EPMD refuses the name (it is already registered, or not acceptable to EPMD), and
   *     with the other reasons as for {@link #portPlease}
   */
  public EpmdRegistration register(String alive, int port, boolean hidden) throws IOException {
    byte[] name = EpmdWire.aliveBytes(alive);
    if (port < 1 || port > 0xFFFF) {
      throw new IllegalArgumentException("node port out of range 1..65535: " + port);
    }
    int nodeType = hidden ? NodeInfo.NODE_TYPE_HIDDEN : NodeInfo.NODE_TYPE_NORMAL;
    EpmdSocket s = EpmdSocket.connect(host, this.port, timeoutMillis);
    try {
      s.write(EpmdWire.alive2Request(name, port, nodeType));
      int tag = s.readUnsignedByte("the ALIVE2 response tag");
      if (tag != EpmdWire.ALIVE2_X_RESP && tag != EpmdWire.ALIVE2_RESP) {
        throw new EpmdException(
            Reason.PROTOCOL,
            s.where() + " answered ALIVE2_REQ with " + EpmdWire.describeByte(tag)
                + ", expected ALIVE2_X_RESP 'v' (118) or ALIVE2_RESP 'y' (121)");
      }
      int result = s.readUnsignedByte("the ALIVE2 result");
      int creation =
          tag == EpmdWire.ALIVE2_X_RESP
              ? s.readInt("the 32-bit creation")
              : s.readUnsignedShort("the 16-bit creation");
      if (result != 0) {
        throw new EpmdException(
            Reason.REGISTRATION_REFUSED,
            s.where() + " refused to register '" + alive + "' (result " + result
                + "): the name is already registered or not acceptable to EPMD",
            result,
            null);
      }
      s.detach();
      log.debug("registered '{}' port {} with {}, creation {}", alive, port, s.where(),
          Integer.toUnsignedString(creation));
      return new EpmdRegistration(s, alive, port, creation);
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  /**
   * Lists the names EPMD has registered ({@code NAMES_REQ}). EPMD reports only each
   * node's name and port; the other {@link NodeInfo} fields are 0.
   *
   * @return the registered nodes in EPMD's order (newest first for epmd), unmodifiable
   * @throws EpmdException as for {@link #portPlease}; a reply of more than 4 MiB or with a
   *     line that is not {@code name NAME at port PORT} is {@link Reason#PROTOCOL}
   */
  public List<NodeInfo> names() throws IOException {
    byte[] text;
    try (EpmdSocket s = EpmdSocket.connect(host, port, timeoutMillis)) {
      s.write(EpmdWire.tagOnlyRequest(EpmdWire.NAMES_REQ));
      s.readInt("EPMD's port number");
      text = s.readToEof(MAX_NAMES_REPLY, "the NAMES reply");
    }
    String where = "EPMD at " + host + ":" + port;
    String all = EpmdWire.decodeUtf8(text, 0, text.length);
    if (all == null) {
      throw new EpmdException(Reason.PROTOCOL, where + " sent a NAMES reply that is not UTF-8");
    }
    return parseNames(all, where);
  }

  /** Parses the text of a NAMES reply: lines of {@code name NAME at port PORT}. */
  static List<NodeInfo> parseNames(String all, String where) throws EpmdException {
    List<NodeInfo> out = new ArrayList<>();
    for (String line : all.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      int at = line.lastIndexOf(AT_PORT);
      if (!line.startsWith("name ") || at < 5) {
        throw new EpmdException(
            Reason.PROTOCOL, where + " sent a malformed NAMES line: " + abbreviate(line));
      }
      String name = line.substring(5, at);
      String digits = line.substring(at + AT_PORT.length());
      int nodePort;
      try {
        nodePort = Integer.parseInt(digits);
      } catch (NumberFormatException e) {
        nodePort = -1;
      }
      if (name.isEmpty() || nodePort < 0 || nodePort > 0xFFFF
          || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
        throw new EpmdException(
            Reason.PROTOCOL, where + " sent a malformed NAMES line: " + abbreviate(line));
      }
      out.add(NodeInfo.nameAndPort(name, nodePort));
    }
    return Collections.unmodifiableList(out);
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? '"' + s + '"' : '"' + s.substring(0, 80) + "...\"";
  }

  @Override
  public String toString() {
    return "EpmdClient[" + host + ":" + port + ", timeout " + timeoutMillis + " ms]";
  }
}
