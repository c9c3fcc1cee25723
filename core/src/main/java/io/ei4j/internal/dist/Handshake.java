package io.ei4j.internal.dist;

import io.ei4j.connect.EiAuthenticationException;
import io.ei4j.connect.EiHandshakeException;
import io.ei4j.connect.HandshakeStatus;
import io.ei4j.internal.node.NodeNames;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/**
 * The distribution handshake (protocol version 6, {@code erl_dist_protocol}), both
 * directions, over a {@link SocketIo}.
 *
 * <pre>
 *  initiator (A)                                      acceptor (B)
 *  'N' flags:64 creation:32 nlen:16 name      -->                   send_name
 *      (or, from an OTP 22-era A: 'n' version:16 flags:32 name)
 *                                             <--  's' status        send_status
 *      ('c' flagsHigh:32 creation:32           -->   only after 'n')  send_complement
 *                                             <--  'N' flags:64 challenge:32
 *                                                   creation:32 nlen:16 name
 *  'r' challenge:32 digest:16                 -->                   challenge_reply
 *                                             <--  'a' digest:16     challenge_ack
 * </pre>
 *
 * Every message has a big-endian length header of the transport's
 * {@code handshakePacketHeaderSize} (2 or 4). {@code digest = MD5(cookie ++ decimal
 * unsigned challenge)}. Challenges come from {@link SecureRandom}; digests are compared
 * with {@link MessageDigest#isEqual}. Lengths are capped before anything is allocated.
 */
public final class Handshake {
  /** Longest handshake message accepted: a 255-character UTF-8 name and the fixed fields. */
  static final int MAX_MESSAGE = 2048;

  /** Longest node name accepted from a peer: a node name is an atom. */
  static final int MAX_NAME_CHARS = 255;

  private static final SecureRandom RANDOM = new SecureRandom();

  /** What the handshake learned about the peer. */
  public record Result(String peerName, long peerFlags, int peerCreation) {}

  private final SocketIo<?> io;
  private final String ourName;
  private final long ourFlags;
  private final int ourCreation;
  private final byte[] cookie;
  private final Deadline deadline;
  private final int headerSize;
  /** Told of every complete message received; see {@link #onMessage}. */
  private Runnable onMessage;
  /** Run before the acceptor sends its acknowledgement; see {@link #beforeAck}. */
  private BeforeAck beforeAck;

  /**
   * @param cookie the cookie's bytes (Latin-1, as Erlang hashes an atom's characters);
   *     never logged
   */
  public Handshake(SocketIo<?> io, String ourName, long ourFlags, int ourCreation, byte[] cookie, Deadline deadline) throws IOException {
    this.io = io;
    this.ourName = ourName;
    this.ourFlags = ourFlags;
    this.ourCreation = ourCreation;
    this.cookie = cookie;
    this.deadline = deadline;
    this.headerSize = io.handshakeHeaderSize();
  }

  /**
   * Has {@code listener} run (on the handshake's thread) each time a whole handshake message
   * has been received, before it is checked: an acceptor's admission policy measures a
   * pending handshake's progress by it, in messages rather than bytes, so that a peer that
   * drips bytes or sends a long partial message counts as having done nothing.
   *
   * @return this handshake
   */
  public Handshake onMessage(Runnable listener) {
    this.onMessage = listener;
    return this;
  }

  /** What {@link #beforeAck} runs. */
  @FunctionalInterface
  public interface BeforeAck {
    /** Returns to go on; throws to end the handshake with nothing more sent. */
    void run() throws IOException;
  }

  /**
   * Has {@code commit} run on the acceptor's side once the peer is authenticated and just
   * before the challenge acknowledgement goes out: the last moment at which the handshake
   * can still be given up without the peer believing it is connected. An exception it
   * throws ends the handshake with nothing more sent (an admission policy that evicted this
   * handshake meanwhile throws, so that no peer is acknowledged and then dropped).
   *
   * @return this handshake
   */
  public Handshake beforeAck(BeforeAck commit) {
    this.beforeAck = commit;
    return this;
  }

  /**
   * Runs the initiator's side.
   *
   * @param expectedPeer the node name the peer must present, or null to accept any
   */
  public Result initiate(String expectedPeer) throws IOException {
    return initiate(expectedPeer, null);
  }

  /**
   * Runs the initiator's side; {@code replaceExisting} (null: always yes) answers the
   * {@code alive} status, which an acceptor sends when it already has a connection to a
   * node of our name: true replaces that connection with this one, false withdraws this
   * attempt (the handshake then fails with an {@link EiHandshakeException} whose status is
   * {@code alive}). It gets {@code expectedPeer}, null when connecting by address.
   */
  public Result initiate(String expectedPeer, java.util.function.Predicate<String> replaceExisting) throws IOException {
    byte[] name = ourName.getBytes(StandardCharsets.UTF_8);
    ByteBuffer m = ByteBuffer.allocate(1 + 8 + 4 + 2 + name.length);
    m.put((byte) 'N').putLong(ourFlags).putInt(ourCreation).putShort((short) name.length).put(name);
    send(m, "sending our name");

    ByteBuffer status = receive("waiting for the status");
    expectTag(status, 's', "status");
    String st = ascii(status);
    switch (HandshakeStatus.fromWire(st)) {
      case OK, OK_SIMULTANEOUS -> { }
      case ALIVE -> {
        // The acceptor has a connection from a node of our name; 'true' says this new one
        // replaces it, 'false' withdraws this one.
        boolean replace = replaceExisting == null || replaceExisting.test(expectedPeer);
        byte[] answer = (replace ? "true" : "false").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer reply = ByteBuffer.allocate(1 + answer.length);
        reply.put((byte) 's').put(answer);
        send(reply, "answering the alive status");
        if (!replace) {
          throw new EiHandshakeException("withdrew the connection: the peer already has one from us (status alive)", st, null);
        }
      }
      case NOK -> {
        // Erlang answers nok both when its own simultaneous attempt wins and when its
        // runtime does not take our name as a node name ("Cannot get connection id").
        String nameProblem = NodeNames.peerNameProblem(ourName);
        throw new EiHandshakeException(nameProblem != null
            ? "the peer refused the connection with status nok: it does not take our name as a node name: invalid node name " + nameProblem
            : "the peer refused the connection with status nok: it is connecting to us at the same time and its connection wins", st, null);
      }
      case NOT_ALLOWED -> throw new EiHandshakeException("the peer refused the connection with status not_allowed: it does not accept connections from " + ourName, st, null);
      case NAMED -> throw new EiHandshakeException("the peer sent a dynamic name (named:) although we did not ask for one", st, null);
      case UNKNOWN -> throw new EiHandshakeException("the peer sent the unknown handshake status '" + printable(st) + "'", st, null);
    }

    ByteBuffer ch = receive("waiting for the challenge");
    byte tag = ch.get();
    if (tag == 'n') {
      throw new EiHandshakeException("the peer sent an old-style 'n' challenge: it does not speak distribution protocol version 6 (OTP 23+)");
    }
    if (tag != 'N') {
      throw new EiHandshakeException("expected the challenge 'N', got " + describeTag(tag));
    }
    need(ch, 8 + 4 + 4 + 2, "challenge");
    long peerFlags = ch.getLong();
    int challenge = ch.getInt();
    int peerCreation = ch.getInt();
    String peerName = nameField(ch, "challenge");
    checkFlags(peerFlags, peerName);
    if (expectedPeer != null && !expectedPeer.equals(peerName)) {
      throw new EiHandshakeException("connected to " + expectedPeer + " but the peer calls itself " + peerName);
    }

    int ourChallenge = RANDOM.nextInt();
    ByteBuffer reply = ByteBuffer.allocate(1 + 4 + 16);
    reply.put((byte) 'r').putInt(ourChallenge).put(digest(challenge, cookie));
    send(reply, "sending the challenge reply");

    ByteBuffer ack;
    try {
      ack = receive("waiting for the challenge acknowledgement");
    } catch (EOFException e) {
      throw new EiAuthenticationException("authentication with " + peerName + " failed: it closed the connection instead of acknowledging our digest, so it has a different cookie (or refuses us)", e);
    }
    expectTag(ack, 'a', "challenge acknowledgement");
    need(ack, 16, "challenge acknowledgement");
    byte[] theirs = new byte[16];
    ack.get(theirs);
    if (!MessageDigest.isEqual(theirs, digest(ourChallenge, cookie))) {
      throw new EiAuthenticationException("authentication with " + peerName + " failed: its acknowledgement digest does not match our cookie");
    }
    return new Result(peerName, peerFlags, peerCreation);
  }

  /** Runs the acceptor's side, answering {@code ok} to any peer. */
  public Result accept() throws IOException {
    return accept(null);
  }

  /**
   * Runs the acceptor's side; {@code statusFor} (null: always {@code ok}) chooses the
   * status sent once the peer's name is known, one that
   * {@link HandshakeStatus#acceptorMaySend()} (anything else is an
   * {@link IllegalStateException} before the status is sent). {@code nok} and {@code not_allowed}
   * are sent and then end the handshake with an {@link EiHandshakeException} carrying the
   * status; after {@code alive} the peer answers {@code true} (go on: the caller replaces
   * its existing connection) or {@code false} (the handshake ends the same way).
   */
  public Result accept(java.util.function.Function<String, HandshakeStatus> statusFor) throws IOException {
    ByteBuffer nm = receive("waiting for the peer's name");
    byte tag = nm.get();
    long peerFlags;
    int peerCreation;
    String peerName;
    boolean old;
    if (tag == 'N') {
      need(nm, 8 + 4 + 2, "name");
      peerFlags = nm.getLong();
      peerCreation = nm.getInt();
      peerName = nameField(nm, "name");
      old = false;
    } else if (tag == 'n') {
      need(nm, 2 + 4, "name");
      int version = nm.getShort() & 0xffff;
      peerFlags = nm.getInt() & 0xffffffffL;
      byte[] n = new byte[nm.remaining()];
      nm.get(n);
      peerName = checkName(new String(n, StandardCharsets.UTF_8), "name");
      peerCreation = 0;
      old = true;
      if (version != 5 && version != 6) {
        throw new EiHandshakeException("the peer " + peerName + " speaks distribution version " + version + "; only 5 and 6 exist");
      }
      if ((peerFlags & DistFlags.HANDSHAKE_23) == 0) {
        throw new EiHandshakeException("the peer " + peerName + " lacks DFLAG_HANDSHAKE_23: it predates OTP 23 and is not supported");
      }
    } else {
      throw new EiHandshakeException("expected the peer's name ('N' or 'n'), got " + describeTag(tag));
    }
    if ((peerFlags & DistFlags.NAME_ME) != 0) {
      throw new EiHandshakeException("the peer " + peerName + " asks for a dynamic name (DFLAG_NAME_ME), which this node does not hand out");
    }
    if (!old) {
      checkFlags(peerFlags, peerName);
    }

    // A name Erlang's runtime would not take: refused with nok, as net_kernel does when it
    // cannot get a connection id for the name.
    String nameProblem = NodeNames.peerNameProblem(peerName);
    HandshakeStatus status = nameProblem != null ? HandshakeStatus.NOK : statusFor == null ? HandshakeStatus.OK : statusFor.apply(peerName);
    if (status == null || !status.acceptorMaySend()) {
      throw new IllegalStateException("an acceptor's status is ok, ok_simultaneous, nok, not_allowed or alive, got " + status);
    }
    byte[] st = status.wire().getBytes(StandardCharsets.US_ASCII);
    ByteBuffer ok = ByteBuffer.allocate(1 + st.length);
    ok.put((byte) 's').put(st);
    send(ok, "sending the status");
    if (nameProblem != null) {
      throw new EiHandshakeException("refused the connection with status nok: invalid node name " + nameProblem, status.wire(), null);
    }
    switch (status) {
      case NOK -> throw new EiHandshakeException("refused " + peerName + " with status nok: a connection with it is already being made"
          + " (this node's own attempt, or another handshake from it)", status.wire(), null);
      case NOT_ALLOWED -> throw new EiHandshakeException("refused " + peerName + " with status not_allowed", status.wire(), null);
      case ALIVE -> {
        ByteBuffer answer = receive("waiting for the answer to the alive status");
        expectTag(answer, 's', "answer to the alive status");
        String a = ascii(answer);
        if ("false".equals(a)) {
          throw new EiHandshakeException(peerName + " withdrew its connection: it keeps the one it has (status alive, answer false)", status.wire(), null);
        }
        if (!"true".equals(a)) {
          throw new EiHandshakeException(peerName + " answered the alive status with '" + printable(a) + "' instead of true or false", status.wire(), null);
        }
      }
      default -> { }
    }

    if (old) {
      ByteBuffer c = receive("waiting for the complement");
      expectTag(c, 'c', "complement");
      need(c, 8, "complement");
      long high = c.getInt() & 0xffffffffL;
      peerFlags |= high << 32;
      peerCreation = c.getInt();
      checkFlags(peerFlags, peerName);
    }

    int ourChallenge = RANDOM.nextInt();
    byte[] name = ourName.getBytes(StandardCharsets.UTF_8);
    ByteBuffer ch = ByteBuffer.allocate(1 + 8 + 4 + 4 + 2 + name.length);
    ch.put((byte) 'N').putLong(ourFlags).putInt(ourChallenge).putInt(ourCreation).putShort((short) name.length).put(name);
    send(ch, "sending the challenge");

    ByteBuffer r = receive("waiting for the challenge reply");
    expectTag(r, 'r', "challenge reply");
    need(r, 4 + 16, "challenge reply");
    int theirChallenge = r.getInt();
    byte[] theirDigest = new byte[16];
    r.get(theirDigest);
    if (!MessageDigest.isEqual(theirDigest, digest(ourChallenge, cookie))) {
      throw new EiAuthenticationException("authentication of " + peerName + " failed: its digest does not match our cookie");
    }
    if (beforeAck != null) {
      beforeAck.run();
    }
    ByteBuffer a = ByteBuffer.allocate(1 + 16);
    a.put((byte) 'a').put(digest(theirChallenge, cookie));
    send(a, "sending the challenge acknowledgement");
    return new Result(peerName, peerFlags, peerCreation);
  }

  /** {@code MD5(cookie ++ decimal unsigned challenge)}, as {@code dist_util:gen_digest/2}. */
  public static byte[] digest(int challenge, byte[] cookie) {
    try {
      MessageDigest md5 = MessageDigest.getInstance("MD5");
      md5.update(cookie);
      md5.update(Integer.toUnsignedString(challenge).getBytes(StandardCharsets.US_ASCII));
      return md5.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has MD5", e);
    }
  }

  private static void checkFlags(long peerFlags, String peerName) throws EiHandshakeException {
    long missing = DistFlags.REQUIRED_OF_PEER & ~peerFlags;
    if (missing != 0) {
      throw new EiHandshakeException("the peer " + peerName + " lacks mandatory distribution flags " + DistFlags.describe(missing));
    }
  }

  private void send(ByteBuffer body, String what) throws IOException {
    body.flip();
    ByteBuffer header = ByteBuffer.allocate(headerSize);
    if (headerSize == 2) {
      header.putShort((short) body.remaining());
    } else {
      header.putInt(body.remaining());
    }
    header.flip();
    io.writeFully(new ByteBuffer[] {header, body}, deadline, "handshake: " + what);
  }

  private ByteBuffer receive(String what) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(headerSize);
    readFully(header, "handshake: " + what);
    header.flip();
    long len = headerSize == 2 ? header.getShort() & 0xffff : header.getInt() & 0xffffffffL;
    if (len > MAX_MESSAGE && header.get(0) >= 0x14 && header.get(0) <= 0x17 && header.get(1) == 0x03) {
      // A TLS record header (content type 20-23, major version 3), where a length was due:
      // the peer speaks TLS distribution (inet_tls) and this side does not.
      throw new EiHandshakeException("handshake: " + what + ": the peer answers with TLS (a TLS record header, bytes 0x"
          + Integer.toHexString(header.get(0)) + " 0x03, where a length was due): it runs TLS distribution (inet_tls), "
          + "so connect with the TLS transport");
    }
    if (len == 0 || len > MAX_MESSAGE) {
      throw new EiHandshakeException("handshake: " + what + ": message length " + len + " is out of range 1.." + MAX_MESSAGE);
    }
    ByteBuffer body = ByteBuffer.allocate((int) len);
    readFully(body, "handshake: " + what);
    body.flip();
    if (onMessage != null) {
      onMessage.run();
    }
    return body;
  }

  /**
   * {@link SocketIo#readFully} with wakeable reads: a {@link SocketIo#wakeupRead()} ends the
   * handshake with {@code ETIMEDOUT}, without closing the socket, so that an acceptor can
   * take a stalled handshake's thread back ({@code HandshakeSlots} parks it).
   */
  private void readFully(ByteBuffer buf, String what) throws IOException {
    while (buf.hasRemaining()) {
      if (io.readSome(buf, deadline, what, true) < 0) {
        throw new EOFException("the peer closed the connection while " + what + " (" + buf.position() + " of " + buf.limit() + " bytes read)");
      }
    }
  }

  private static void expectTag(ByteBuffer m, char want, String what) throws EiHandshakeException {
    byte tag = m.get();
    if (tag != want) {
      throw new EiHandshakeException("expected the " + what + " '" + want + "', got " + describeTag(tag));
    }
  }

  private static void need(ByteBuffer m, int bytes, String what) throws EiHandshakeException {
    if (m.remaining() < bytes) {
      throw new EiHandshakeException("the " + what + " message is truncated: " + m.remaining() + " bytes where at least " + bytes + " are needed");
    }
  }

  private static String nameField(ByteBuffer m, String what) throws EiHandshakeException {
    int len = m.getShort() & 0xffff;
    if (len == 0 || len > m.remaining()) {
      throw new EiHandshakeException("the " + what + " message has a name of " + len + " bytes but " + m.remaining() + " remain");
    }
    byte[] n = new byte[len];
    m.get(n);
    return checkName(new String(n, StandardCharsets.UTF_8), what);
  }

  /**
   * The peer's name arrives before it is authenticated and ends up in exception messages
   * and logs: it must be a node name {@code alive@host}, an atom of at most
   * {@value #MAX_NAME_CHARS} characters as in Erlang, without control characters (which
   * would let anyone who can connect forge log lines).
   */
  private static String checkName(String name, String what) throws EiHandshakeException {
    int chars = name.codePointCount(0, name.length());
    if (chars > MAX_NAME_CHARS) {
      throw new EiHandshakeException("the " + what + " message names a node of " + chars + " characters; a node name has at most " + MAX_NAME_CHARS);
    }
    if (name.codePoints().anyMatch(Character::isISOControl)) {
      throw new EiHandshakeException("the " + what + " message names '" + printable(name) + "', which holds control characters");
    }
    int at = name.indexOf('@');
    if (at <= 0 || at == name.length() - 1 || name.indexOf('@', at + 1) >= 0) {
      // As Erlang: a name that is not alive@host at all ends the handshake without a status.
      throw new EiHandshakeException("the " + what + " message names '" + printable(name) + "', not a node name alive@host");
    }
    return name;
  }

  private static String ascii(ByteBuffer m) {
    byte[] b = new byte[m.remaining()];
    m.get(b);
    return new String(b, StandardCharsets.ISO_8859_1);
  }

  private static String describeTag(byte tag) {
    return tag >= 32 && tag < 127 ? "'" + (char) tag + "'" : "byte " + (tag & 0xff);
  }

  private static String printable(String s) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length() && i < 64; i++) {
      char c = s.charAt(i);
      sb.append(c >= 32 && c < 127 ? c : '?');
    }
    return sb.toString();
  }
}
