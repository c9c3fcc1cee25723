package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.conformance.ScriptedPeer;
import io.ei4j.internal.dist.DistFlags;
import io.ei4j.internal.dist.Handshake;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlTuple;
import io.ei4j.transport.tcp.TcpTransport;
import io.ei4j.transport.tcp.TcpSocket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The handshake's edge cases against a scripted peer on a real TCP socket: every status,
 * the OTP 22-era {@code 'n'} + {@code 'c'} form, missing flags, bad lengths, bad digests.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HandshakeTest {
  private static final String COOKIE = "hs_cookie";
  private static final TcpTransport TCP = TcpTransport.create();

  private EiNode node;

  @BeforeEach
  void node() throws IOException {
    node = EiNode.builder("hs_java@localhost").cookie(COOKIE).transport(TCP).creation(99).build();
  }

  @AfterEach
  void close() {
    node.close();
  }

  private static ScriptedPeer<TcpSocket> listener() throws IOException {
    return ScriptedPeer.listen(TCP, null, new InetSocketAddress("127.0.0.1", 0), 5);
  }

  /** Runs {@code script} as the acceptor while the node connects; returns the connect's outcome. */
  private Object connectAgainst(ScriptedPeer<TcpSocket> peer, Script script) throws Exception {
    CompletableFuture<Object> result = CompletableFuture.supplyAsync(() -> {
      try {
        return node.connect(peer.address(), 5_000);
      } catch (IOException e) {
        return e;
      }
    });
    peer.accept();
    script.run(peer);
    return result.get(10, TimeUnit.SECONDS);
  }

  interface Script {
    void run(ScriptedPeer<TcpSocket> peer) throws IOException;
  }

  private static String statusFailure(HandshakeTest t, String status, HandshakeStatus expected) throws Exception {
    try (ScriptedPeer<TcpSocket> peer = listener()) {
      Object r = t.connectAgainst(peer, p -> {
        byte[] name = p.readHandshakeMessage();
        assertEquals('N', name[0]);
        p.sendStatus(status);
      });
      EiHandshakeException e = assertInstanceOf(EiHandshakeException.class, r, "outcome " + r);
      assertEquals(status, e.statusText());
      assertEquals(expected, e.status());
      return e.getMessage();
    }
  }

  @Test
  void everyRefusingStatusIsAHandshakeErrorNamingIt() throws Exception {
    assertTrue(statusFailure(this, "nok", HandshakeStatus.NOK).contains("nok"));
    assertTrue(statusFailure(this, "not_allowed", HandshakeStatus.NOT_ALLOWED).contains("not_allowed"));
    assertTrue(statusFailure(this, "named:", HandshakeStatus.NAMED).contains("named"));
    assertTrue(statusFailure(this, "bogus", HandshakeStatus.UNKNOWN).contains("bogus"));
    assertTrue(statusFailure(this, "ok_simultaneousX", HandshakeStatus.UNKNOWN).contains("ok_simultaneousX"));
  }

  @Test
  void initiatorSendsVersion6NameWithFlagsAndCreation() throws Exception {
    try (ScriptedPeer<TcpSocket> peer = listener()) {
      connectAgainst(peer, p -> {
        ByteBuffer m = ByteBuffer.wrap(p.readHandshakeMessage());
        assertEquals('N', m.get());
        long flags = m.getLong();
        assertEquals(DistFlags.ADVERTISED | DistFlags.DIST_HEADERS, flags);
        assertEquals(0, flags & DistFlags.PUBLISHED, "a hidden node");
        assertEquals(DistFlags.MANDATORY_26, flags & DistFlags.MANDATORY_26);
        assertEquals(DistFlags.DIST_HEADERS, flags & (DistFlags.DIST_HDR_ATOM_CACHE | DistFlags.FRAGMENTS), "distribution headers and fragments");
        assertEquals(99, m.getInt(), "the creation given");
        byte[] name = new byte[m.getShort()];
        m.get(name);
        assertEquals("hs_java@localhost", new String(name, StandardCharsets.UTF_8));
        p.sendStatus("not_allowed");
      });
    }
  }

  @Test
  void creationBelowFourIsMovedUpAsEiDoes() throws IOException {
    try (EiNode n = EiNode.builder("low@localhost").cookie(COOKIE).transport(TCP).creation(2).build()) {
      assertEquals(0xE10002, n.creation());
      assertEquals(0xE10002, n.makePid().creation());
    }
  }

  @Test
  void aliveStatusIsAnsweredTrueAndTheHandshakeGoesOn() throws Exception {
    try (ScriptedPeer<TcpSocket> peer = listener()) {
      Object r = connectAgainst(peer, p -> {
        p.readHandshakeMessage();
        p.sendStatus("alive");
        assertArrayEquals("strue".getBytes(StandardCharsets.US_ASCII), p.readHandshakeMessage());
        finishAsAcceptor(p, COOKIE);
      });
      EiConnection c = assertInstanceOf(EiConnection.class, r, "outcome " + r);
      assertEquals("scripted@localhost", c.peerNodeName());
      c.close();
    }
  }

  @Test
  void anAcceptorThatGivesUpBeforeTheAcknowledgementNeverLetsThePeerBelieveItIsConnected() throws Exception {
    // What an evicted or parked accept does once the peer's reply has arrived anyway.
    try (ScriptedPeer<TcpSocket> peer = listener()) {
      Object r = connectAgainst(peer, p -> {
        ErrnoException given = new ErrnoException(Errno.EBADF, "evicted");
        ErrnoException e = assertThrows(ErrnoException.class, () -> p.acceptHandshake("scripted@localhost", COOKIE, () -> {
          throw given;
        }));
        assertEquals(given, e);
        p.close();
      });
      assertInstanceOf(IOException.class, r, "outcome " + r);
    }
  }

  @Test
  void wrongAcknowledgementDigestIsAnAuthenticationError() throws Exception {
    try (ScriptedPeer<TcpSocket> peer = listener()) {
      Object r = connectAgainst(peer, p -> {
        p.readHandshakeMessage();
        p.sendStatus("ok");
        finishAsAcceptor(p, "another_cookie");
      });
      assertInstanceOf(EiAuthenticationException.class, r, "outcome " + r);
    }
  }

  @Test
  void peerWithoutMandatoryFlagsIsRefused() throws Exception {
    try (ScriptedPeer<TcpSocket> peer = listener()) {
      Object r = connectAgainst(peer, p -> {
        p.readHandshakeMessage();
        p.sendStatus("ok");
        byte[] n = "old@localhost".getBytes(StandardCharsets.US_ASCII);
        ByteBuffer m = ByteBuffer.allocate(1 + 8 + 4 + 4 + 2 + n.length);
        m.put((byte) 'N').putLong(DistFlags.ADVERTISED & ~DistFlags.BIG_CREATION).putInt(1).putInt(5).putShort((short) n.length).put(n);
        p.writeHandshakeMessage(m.array());
      });
      EiHandshakeException e = assertInstanceOf(EiHandshakeException.class, r, "outcome " + r);
      assertTrue(e.getMessage().contains("BIG_CREATION"), e.getMessage());
    }
  }

  @Test
  void oversizedHandshakeLengthIsRejectedBeforeAllocating() throws Exception {
    try (ScriptedPeer<TcpSocket> peer = listener()) {
      Object r = connectAgainst(peer, p -> {
        p.readHandshakeMessage();
        // A raw header claiming 65535 bytes.
        rawWrite(p, new byte[] {(byte) 0xff, (byte) 0xff, 's'});
      });
      EiHandshakeException e = assertInstanceOf(EiHandshakeException.class, r, "outcome " + r);
      assertTrue(e.getMessage().contains("65535"), e.getMessage());
    }
  }

  @Test
  void acceptorTakesTheOldNameFormWithComplement() throws Exception {
    try (EiListener l = node.listen(new InetSocketAddress("127.0.0.1", 0), 5);
         ScriptedPeer<TcpSocket> peer = ScriptedPeer.connect(TCP, null, l.address())) {
      CompletableFuture<Object> accepted = CompletableFuture.supplyAsync(() -> {
        try {
          return l.accept(5_000);
        } catch (IOException e) {
          return e;
        }
      });
      byte[] n = "oldstyle@localhost".getBytes(StandardCharsets.US_ASCII);
      ByteBuffer name = ByteBuffer.allocate(1 + 2 + 4 + n.length);
      name.put((byte) 'n').putShort((short) 5).putInt((int) DistFlags.ADVERTISED).put(n);
      peer.writeHandshakeMessage(name.array());
      assertArrayEquals("sok".getBytes(StandardCharsets.US_ASCII), peer.readHandshakeMessage());
      ByteBuffer complement = ByteBuffer.allocate(9);
      complement.put((byte) 'c').putInt((int) (DistFlags.ADVERTISED >>> 32)).putInt(0x12345678);
      peer.writeHandshakeMessage(complement.array());
      ByteBuffer ch = ByteBuffer.wrap(peer.readHandshakeMessage());
      assertEquals('N', ch.get());
      ch.getLong();
      int challenge = ch.getInt();
      ByteBuffer reply = ByteBuffer.allocate(21);
      reply.put((byte) 'r').putInt(42).put(Handshake.digest(challenge, COOKIE.getBytes(StandardCharsets.ISO_8859_1)));
      peer.writeHandshakeMessage(reply.array());
      ByteBuffer ack = ByteBuffer.wrap(peer.readHandshakeMessage());
      assertEquals('a', ack.get());
      byte[] digest = new byte[16];
      ack.get(digest);
      assertArrayEquals(Handshake.digest(42, COOKIE.getBytes(StandardCharsets.ISO_8859_1)), digest);
      EiConnection c = assertInstanceOf(EiConnection.class, accepted.get(10, TimeUnit.SECONDS));
      assertEquals("oldstyle@localhost", c.peerNodeName());
      assertEquals(0x12345678, c.peerCreation());
      assertEquals(DistFlags.ADVERTISED, c.peerFlags());
      c.close();
    }
  }

  @Test
  void wrongCookieAtTheAcceptorLeavesTheListenerWorking() throws Exception {
    try (EiListener l = node.listen(new InetSocketAddress("127.0.0.1", 0), 5)) {
      try (ScriptedPeer<TcpSocket> bad = ScriptedPeer.connect(TCP, null, l.address())) {
        CompletableFuture<Object> badSide = CompletableFuture.supplyAsync(() -> {
          try {
            return bad.initiateHandshake("intruder@localhost", "wrong");
          } catch (IOException e) {
            return e;
          }
        });
        assertThrows(EiAuthenticationException.class, () -> l.accept(5_000));
        assertInstanceOf(EiAuthenticationException.class, badSide.get(10, TimeUnit.SECONDS));
      }
      try (EiNode friend = EiNode.builder("friend@localhost").cookie(COOKIE).transport(TCP).build()) {
        CompletableFuture<EiConnection> out = connectAsync(friend, l);
        try (EiConnection in = l.accept(5_000); EiConnection o = out.get(10, TimeUnit.SECONDS)) {
          o.regSend(o.self(), "anyone", ErlAtom.of("hi"));
          EiMessage.RegSend m = assertInstanceOf(EiMessage.RegSend.class, in.receive(5_000));
          assertEquals(ErlAtom.of("hi"), m.message());
          in.send(o.self(), ErlTuple.of(ErlAtom.of("back")));
          assertEquals(ErlTuple.of(ErlAtom.of("back")), assertInstanceOf(EiMessage.Send.class, o.receive(5_000)).message());
        }
      }
    }
  }

  @Test
  void javaNodesTalkOverIpv6Loopback() throws Exception {
    try (EiListener l = node.listen(new InetSocketAddress("::1", 0), 5);
         EiNode friend = EiNode.builder("v6friend@localhost").cookie(COOKIE).transport(TCP).build()) {
      assertTrue(((InetSocketAddress) l.address()).getAddress() instanceof java.net.Inet6Address, "bound " + l.address());
      CompletableFuture<EiConnection> out = connectAsync(friend, l);
      try (EiConnection in = l.accept(5_000); EiConnection o = out.get(10, TimeUnit.SECONDS)) {
        assertEquals("v6friend@localhost", in.peerNodeName());
        o.send(in.self(), ErlAtom.of("over_v6"));
        assertEquals(ErlAtom.of("over_v6"), assertInstanceOf(EiMessage.Send.class, in.receive(5_000)).message());
      }
    }
  }

  /** {@code from} connects to {@code l} on another thread, so that the test can accept. */
  private static CompletableFuture<EiConnection> connectAsync(EiNode from, EiListener l) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return from.connect(l.address(), 5_000);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
  }

  /** Sends the challenge, checks the reply's digest against {@code cookie}, acknowledges. */
  private static void finishAsAcceptor(ScriptedPeer<TcpSocket> p, String cookie) throws IOException {
    int ours = 0x7f00ff01;
    p.sendChallenge("scripted@localhost", ours);
    ByteBuffer r = ByteBuffer.wrap(p.readHandshakeMessage());
    assertEquals('r', r.get());
    int theirs = r.getInt();
    byte[] digest = new byte[16];
    r.get(digest);
    assertArrayEquals(Handshake.digest(ours, COOKIE.getBytes(StandardCharsets.ISO_8859_1)), digest, "the node digests our challenge with its cookie");
    ByteBuffer a = ByteBuffer.allocate(17);
    a.put((byte) 'a').put(Handshake.digest(theirs, cookie.getBytes(StandardCharsets.ISO_8859_1)));
    p.writeHandshakeMessage(a.array());
  }

  private static void rawWrite(ScriptedPeer<TcpSocket> p, byte[] bytes) throws IOException {
    p.writeRaw(bytes);
  }
}
