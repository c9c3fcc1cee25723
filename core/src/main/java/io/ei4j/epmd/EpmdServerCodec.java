package io.ei4j.epmd;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;

/**
 * The server side of the EPMD wire format ({@link EpmdWire} holds the constants and the
 * client's encoders): decodes the body of a request, after its 2-byte length, and encodes
 * the replies in {@code epmd}'s exact bytes. No I/O, no state.
 *
 * <p>A request that {@code epmd} would drop without an answer fails with
 * {@link MalformedRequestException}; a well-formed {@code ALIVE2_REQ} whose name
 * {@code epmd} refuses decodes with a null name, because that one is answered (result 1).
 */
final class EpmdServerCodec {
  private EpmdServerCodec() {}

  /** A request {@code epmd} drops without an answer; the message says why. */
  static final class MalformedRequestException extends Exception {
    private static final long serialVersionUID = 1L;

    MalformedRequestException(String message) {
      super(message);
    }
  }

  /**
   * A decoded {@code ALIVE2_REQ}.
   *
   * @param name the alive name, or null when it is not 1..255 characters of valid UTF-8
   */
  record Alive2Request(int port, int nodeType, int protocol, int highVersion, int lowVersion,
      String name, byte[] extra) {}

  /**
   * Decodes an {@code ALIVE2_REQ} body.
   *
   * <pre>
   * 'x' port:16 nodeType:8 protocol:8 high:16 low:16 nlen:16 name elen:16 extra
   *  0   1       3          4          5       7      9       11   11+nlen  13+nlen
   * </pre>
   *
   * @throws MalformedRequestException when it is too short, a length points outside it,
   *     or the name holds a NUL
   */
  static Alive2Request decodeAlive2(byte[] req) throws MalformedRequestException {
    int size = req.length;
    if (size <= 13) {
      throw new MalformedRequestException("ALIVE2_REQ of " + size + " bytes is too short");
    }
    ByteBuffer b = ByteBuffer.wrap(req);
    int nodePort = b.getShort(1) & 0xFFFF;
    int nodeType = req[3] & 0xFF;
    int protocol = req[4] & 0xFF;
    int high = b.getShort(5) & 0xFFFF;
    int low = b.getShort(7) & 0xFFFF;
    int nlen = b.getShort(9) & 0xFFFF;
    if (nlen + 13 > size) {
      throw new MalformedRequestException(
          "ALIVE2_REQ name length " + nlen + " exceeds the request");
    }
    int elen = b.getShort(11 + nlen) & 0xFFFF;
    if (elen + nlen + 13 > size) {
      throw new MalformedRequestException(
          "ALIVE2_REQ extra length " + elen + " exceeds the request");
    }
    for (int i = 11; i < 11 + nlen; i++) {
      if (req[i] == 0) {
        throw new MalformedRequestException("ALIVE2_REQ name contains NUL");
      }
    }
    String name = validName(req, 11, nlen);
    byte[] extra = new byte[elen];
    System.arraycopy(req, 13 + nlen, extra, 0, elen);
    return new Alive2Request(nodePort, nodeType, protocol, high, low, name, extra);
  }

  /**
   * Decodes a {@code PORT_PLEASE2_REQ} body: {@code 'z'} and the name, with a trailing NUL
   * tolerated as {@code epmd} tolerates it.
   *
   * @return the name
   * @throws MalformedRequestException when the name is missing, holds a NUL, or is not
   *     1..255 characters of valid UTF-8
   */
  static String decodePortPlease2(byte[] req) throws MalformedRequestException {
    int size = req.length;
    if (size > 1 && req[size - 1] == 0) {
      size--;
    }
    for (int i = 1; i < size; i++) {
      if (req[i] == 0) {
        throw new MalformedRequestException("PORT_PLEASE2_REQ name contains NUL");
      }
    }
    String name = size > 1 ? validName(req, 1, size - 1) : null;
    if (name == null) {
      throw new MalformedRequestException("PORT_PLEASE2_REQ without a valid name");
    }
    return name;
  }

  /**
   * The answer to {@code ALIVE2_REQ}: {@code 'v'}, result, creation:32 for a node whose
   * highest version is 6 or more; {@code 'y'}, result, creation:16 (1..3) otherwise. A
   * refused registration has result 1 and creation 99, as {@code epmd} sends.
   *
   * @param registered the new registration, or null when refused
   */
  static byte[] alive2Reply(int highVersion, EpmdRegistry.Entry registered) {
    boolean extended = highVersion >= 6;
    ByteBuffer r = ByteBuffer.allocate(extended ? 6 : 4);
    r.put((byte) (extended ? EpmdWire.ALIVE2_X_RESP : EpmdWire.ALIVE2_RESP));
    r.put((byte) (registered == null ? 1 : 0));
    long creation =
        registered == null ? 99 : extended ? registered.counter : registered.counter % 3 + 1;
    if (extended) {
      r.putInt((int) creation);
    } else {
      r.putShort((short) creation);
    }
    return r.array();
  }

  /**
   * The answer to {@code PORT_PLEASE2_REQ}: {@code 'w'} and result 1 for an unknown name,
   * else result 0 and the node's entry.
   *
   * <pre>
   * 'w' 0 port:16 nodeType:8 protocol:8 high:16 low:16 nlen:16 name elen:16 extra
   * </pre>
   */
  static byte[] port2Reply(EpmdRegistry.Entry n) {
    if (n == null) {
      return new byte[] {(byte) EpmdWire.PORT2_RESP, 1};
    }
    ByteBuffer r = ByteBuffer.allocate(14 + n.nameBytes.length + n.extra.length);
    r.put((byte) EpmdWire.PORT2_RESP).put((byte) 0);
    r.putShort((short) n.port).put((byte) n.nodeType).put((byte) n.protocol);
    r.putShort((short) n.highVersion).putShort((short) n.lowVersion);
    r.putShort((short) n.nameBytes.length).put(n.nameBytes);
    r.putShort((short) n.extra.length).put(n.extra);
    return r.array();
  }

  /** The answer to {@code NAMES_REQ}: EPMD's port:32, then one line per live name. */
  static byte[] namesReply(int epmdPort, List<EpmdRegistry.Entry> newestFirst) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeInt(out, epmdPort);
    for (EpmdRegistry.Entry n : newestFirst) {
      out.writeBytes(("name " + n.name + " at port " + n.port + "\n")
          .getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  /**
   * The answer to {@code DUMP_REQ}: EPMD's port:32, then a NUL-terminated line per live
   * name and per released one, as {@code epmd} sends them.
   */
  static byte[] dumpReply(int epmdPort, List<EpmdRegistry.Entry> newestFirst,
      Collection<EpmdRegistry.Entry> released) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeInt(out, epmdPort);
    for (EpmdRegistry.Entry n : newestFirst) {
      out.writeBytes(("active name     <" + n.name + "> at port " + n.port + ", fd = "
          + n.connectionId + "\n\0").getBytes(StandardCharsets.UTF_8));
    }
    for (EpmdRegistry.Entry n : released) {
      out.writeBytes(("old/unused name <" + n.name + ">, port = " + n.port + ", fd = "
          + n.connectionId + " \n\0").getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  /** The answer to {@code KILL_REQ}: {@code "OK"} when obeyed, {@code "NO"} otherwise. */
  static byte[] killReply(boolean obeyed) {
    return (obeyed ? "OK" : "NO").getBytes(StandardCharsets.US_ASCII);
  }

  /** The name at {@code off}, or null unless it is 1..255 characters of valid UTF-8. */
  private static String validName(byte[] b, int off, int len) {
    if (len < 1 || len > EpmdWire.MAX_NAME_BYTES) {
      return null;
    }
    String s = EpmdWire.decodeUtf8(b, off, len);
    if (s == null || s.codePointCount(0, s.length()) > EpmdWire.MAX_NAME_CHARS) {
      return null;
    }
    return s;
  }

  private static void writeInt(ByteArrayOutputStream out, int v) {
    out.write(v >>> 24);
    out.write(v >>> 16);
    out.write(v >>> 8);
    out.write(v);
  }
}
