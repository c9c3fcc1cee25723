package io.ei4j.reliability;

import io.ei4j.internal.dist.DistFlags;
import io.ei4j.internal.dist.Handshake;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Raw-socket distribution peers that misbehave on purpose, for the abuse and security tests. */
final class Abuse {
  /** What ei 5.3 advertises plus what OTP 26 makes mandatory. */
  static final long FLAGS = DistFlags.REQUIRED_OF_PEER;

  private Abuse() {}

  /** A handshake message with a 2-byte length. */
  static byte[] message(byte[] body) {
    ByteBuffer b = ByteBuffer.allocate(2 + body.length);
    b.putShort((short) body.length).put(body);
    return b.array();
  }

  /** The initiator's {@code 'N'} name message (with its 2-byte length) for {@code name}. */
  static byte[] nameMessage(String name) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(1 + 8 + 4 + 2 + n.length);
    b.put((byte) 'N').putLong(FLAGS).putInt(1234).putShort((short) n.length).put(n);
    return message(b.array());
  }

  /** A plain socket to {@code where} with a read timeout. */
  static Socket connect(InetSocketAddress where, int readTimeoutMillis) throws IOException {
    Socket s = new Socket();
    s.connect(where, 5_000);
    s.setSoTimeout(readTimeoutMillis);
    return s;
  }

  /** Reads one 2-byte-length handshake message. */
  static byte[] readMessage(DataInputStream in) throws IOException {
    int len = in.readUnsignedShort();
    byte[] b = new byte[len];
    in.readFully(b);
    return b;
  }

  /**
   * Runs the initiator's side by hand up to the challenge reply: sends the name, reads the
   * status and the challenge, and returns the acceptor's challenge.
   */
  static int upToChallenge(Socket s, String name) throws IOException {
    OutputStream out = s.getOutputStream();
    DataInputStream in = new DataInputStream(s.getInputStream());
    out.write(nameMessage(name));
    byte[] status = readMessage(in);
    if (status[0] != 's') {
      throw new IOException("expected a status, got " + status[0]);
    }
    byte[] ch = readMessage(in);
    if (ch[0] != 'N') {
      throw new IOException("expected a challenge, got " + ch[0]);
    }
    return ByteBuffer.wrap(ch).getInt(1 + 8);
  }

  /** The {@code 'r'} challenge reply for {@code challenge} under {@code cookie}, with its length. */
  static byte[] challengeReply(int challenge, String cookie, int ourChallenge) {
    ByteBuffer b = ByteBuffer.allocate(1 + 4 + 16);
    b.put((byte) 'r').putInt(ourChallenge).put(Handshake.digest(challenge, cookie.getBytes(StandardCharsets.ISO_8859_1)));
    return message(b.array());
  }

  /**
   * A hand-made initiator that completes the handshake with {@code cookie} and then does
   * whatever the test wants with the raw socket (frames of {@code length:32}).
   */
  static Socket handshaken(InetSocketAddress a, String name, String cookie) throws IOException {
    Socket s = connect(a, 5_000);
    int challenge = upToChallenge(s, name);
    s.getOutputStream().write(challengeReply(challenge, cookie, 99));
    byte[] ack = readMessage(new DataInputStream(s.getInputStream()));
    if (ack[0] != 'a') {
      s.close();
      throw new IOException("expected the acknowledgement 'a', got " + ack[0]);
    }
    return s;
  }
}
