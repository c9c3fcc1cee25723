package io.ei4j.epmd;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Constants, limits and request encoders of the EPMD protocol, shared by the client and
 * the embedded server. All integers are big-endian.
 *
 * <p>Every request is a 2-byte length followed by that many bytes, the first of which is
 * the request tag. Replies have no length prefix; their shape depends on the request.
 */
final class EpmdWire {
  static final int ALIVE2_REQ = 'x'; // 120
  static final int ALIVE2_X_RESP = 'v'; // 118, creation:32 (protocol version 6 and later)
  static final int ALIVE2_RESP = 'y'; // 121, creation:16
  static final int PORT_PLEASE2_REQ = 'z'; // 122
  static final int PORT2_RESP = 'w'; // 119
  static final int NAMES_REQ = 'n'; // 110
  static final int DUMP_REQ = 'd'; // 100
  static final int KILL_REQ = 'k'; // 107
  static final int STOP_REQ = 's'; // 115

  /** Highest and lowest distribution versions we register with: OTP 23+ and older. */
  static final int HIGHEST_VERSION = 6;
  static final int LOWEST_VERSION = 5;

  /** epmd accepts at most 255 characters in a node name ... */
  static final int MAX_NAME_CHARS = 255;
  /** ... and at most 255 * 4 bytes of UTF-8 for the name, and as much extra data. */
  static final int MAX_NAME_BYTES = 4 * MAX_NAME_CHARS;
  static final int MAX_EXTRA_BYTES = MAX_NAME_BYTES;

  /**
   * The largest request body either side handles: an {@code ALIVE2_REQ} with a maximal
   * name and maximal extra data is 13 + 1020 + 1020 bytes.
   */
  static final int MAX_REQUEST_BODY = 13 + MAX_NAME_BYTES + MAX_EXTRA_BYTES;

  private EpmdWire() {}

  /**
   * The UTF-8 bytes of a node's alive name, after checking what epmd checks: 1..255
   * characters, valid UTF-8, no NUL. The client also rejects {@code '@'}, which would make
   * the name a full node name.
   *
   * @throws IllegalArgumentException when the name is not acceptable
   */
  static byte[] aliveBytes(String alive) {
    if (alive == null || alive.isEmpty()) {
      throw new IllegalArgumentException("alive name is empty");
    }
    int chars = alive.codePointCount(0, alive.length());
    if (chars > MAX_NAME_CHARS) {
      throw new IllegalArgumentException(
          "alive name has " + chars + " characters, EPMD allows at most " + MAX_NAME_CHARS);
    }
    if (alive.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("alive name contains NUL");
    }
    if (alive.indexOf('@') >= 0) {
      throw new IllegalArgumentException(
          "alive name contains '@'; pass only the part before the '@': " + alive);
    }
    try {
      ByteBuffer b =
          StandardCharsets.UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(CharBuffer.wrap(alive));
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      return bytes;
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("alive name is not valid Unicode: " + alive, e);
    }
  }

  /**
   * Decodes strict UTF-8; returns null when the bytes are not valid UTF-8, so each caller
   * can fail in its own way.
   */
  static String decodeUtf8(byte[] bytes, int offset, int length) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes, offset, length))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /**
   * {@code ALIVE2_REQ}, with its length prefix.
   *
   * <pre>
   *   2      1    2     1         1         2            2           2     Nlen  2     Elen
   * +------+----+------+--------+---------+------------+-----------+-----+-----+-----+------+
   * | len  |'x' | port |nodeType|protocol |highVersion |lowVersion |Nlen |name |Elen |extra |
   * +------+----+------+--------+---------+------------+-----------+-----+-----+-----+------+
   * </pre>
   */
  static byte[] alive2Request(byte[] name, int port, int nodeType) {
    int body = 13 + name.length;
    ByteBuffer b = ByteBuffer.allocate(2 + body);
    b.putShort((short) body);
    b.put((byte) ALIVE2_REQ);
    b.putShort((short) port);
    b.put((byte) nodeType);
    b.put((byte) NodeInfo.PROTOCOL_TCP_IPV4);
    b.putShort((short) HIGHEST_VERSION);
    b.putShort((short) LOWEST_VERSION);
    b.putShort((short) name.length);
    b.put(name);
    b.putShort((short) 0);
    return b.array();
  }

  /** {@code PORT_PLEASE2_REQ}: length, {@code 'z'}, the name (no terminator). */
  static byte[] portPlease2Request(byte[] name) {
    ByteBuffer b = ByteBuffer.allocate(3 + name.length);
    b.putShort((short) (1 + name.length));
    b.put((byte) PORT_PLEASE2_REQ);
    b.put(name);
    return b.array();
  }

  /** A request that is only a tag: {@code NAMES_REQ}, {@code DUMP_REQ}, {@code KILL_REQ}. */
  static byte[] tagOnlyRequest(int tag) {
    return new byte[] {0, 1, (byte) tag};
  }

  static String describeByte(int b) {
    return b >= 0x20 && b < 0x7F
        ? String.format("'%c' (%d)", (char) b, b)
        : String.format("0x%02x", b);
  }
}
