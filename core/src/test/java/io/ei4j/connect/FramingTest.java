package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.conformance.ScriptedPeer;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermEncoder;
import io.ei4j.transport.tcp.TcpTransport;
import io.ei4j.transport.tcp.TcpSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Frames after the handshake, byte-exact, against a scripted peer: the layout of a sent
 * message, ticks answered and sent when idle, and frames that end the connection with a
 * clear error (too large, a distribution header that was not negotiated, undecodable).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FramingTest {
  private static final String COOKIE = "framing";
  private static final TcpTransport TCP = TcpTransport.create();

  private EiNode node;
  private ScriptedPeer<TcpSocket> peer;

  @AfterEach
  void close() {
    if (node != null) {
      node.close();
    }
    if (peer != null) {
      peer.close();
    }
  }

  private EiConnection connect(long tickTime) throws Exception {
    node = EiNode.builder("framing@localhost").cookie(COOKIE).transport(TCP).tickTimeMillis(tickTime).maxMessageBytes(4096).build();
    peer = ScriptedPeer.listen(TCP, null, new InetSocketAddress("127.0.0.1", 0), 5);
    CompletableFuture<Void> script = CompletableFuture.runAsync(() -> {
      try {
        peer.accept();
        peer.acceptHandshake("script@localhost", COOKIE);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    EiConnection c = node.connect(peer.address(), 5_000);
    script.get(10, TimeUnit.SECONDS);
    return c;
  }

  private static byte[] frame(byte[] body) {
    return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
  }

  @Test
  void aSendIsOneFrameWithControlAndPayload() throws Exception {
    EiConnection c = connect(60_000);
    ErlPid to = ErlPid.of(ErlAtom.of("script@localhost"), 1, 2, 7);
    c.send(to, ErlAtom.of("hello"));
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.write(112);
    expected.write(TermEncoder.toBytes(ErlTuple.of(io.ei4j.term.ErlInteger.of(2), ErlAtom.of(""), to)));
    expected.write(TermEncoder.toBytes(ErlAtom.of("hello")));
    byte[] want = frame(expected.toByteArray());
    assertArrayEquals(want, peer.readRaw(want.length));
  }

  @Test
  void ticksAreAnsweredAndSentWhenIdle() throws Exception {
    connect(400);
    long t0 = System.nanoTime();
    assertArrayEquals(new byte[4], peer.readRaw(4), "an idle node ticks");
    long ms = (System.nanoTime() - t0) / 1_000_000L;
    assertTrue(ms < 400, "the first tick came after " + ms + " ms; a quarter tick time is 100 ms");
    for (int i = 0; i < 5; i++) {
      peer.writeRaw(new byte[4]);
      assertArrayEquals(new byte[4], peer.readRaw(4));
    }
  }

  @Test
  void aSilentPeerIsDeclaredDown() throws Exception {
    long t0 = System.nanoTime(); // the peer's silence starts after this, at the latest
    EiConnection c = connect(400);
    EiConnectionLostException e = assertThrows(EiConnectionLostException.class, () -> c.receive(5_000));
    long ms = (System.nanoTime() - t0) / 1_000_000L;
    assertTrue(e.getMessage().contains("net_tick_timeout"), e.getMessage());
    assertTrue(ms >= 300 && ms < 3_500, "declared down after " + ms + " ms");
  }

  @Test
  void aFrameAboveTheLimitEndsTheConnection() throws Exception {
    EiConnection c = connect(60_000);
    peer.writeRaw(ByteBuffer.allocate(5).putInt(1 << 30).put((byte) 112).array());
    EiConnectionLostException e = assertThrows(EiConnectionLostException.class, () -> c.receive(5_000));
    assertTrue(e.getMessage().contains("1073741824") && e.getMessage().contains("maxMessageBytes"), e.getMessage());
  }

  @Test
  void anAtomCacheHeaderEndsTheConnection() throws Exception {
    EiConnection c = connect(60_000);
    peer.writeRaw(frame(new byte[] {(byte) 131, 68, 0}));
    EiConnectionLostException e = assertThrows(EiConnectionLostException.class, () -> c.receive(5_000));
    assertTrue(e.getMessage().contains("131"), e.getMessage());
  }

  @Test
  void anUndecodableMessageEndsTheConnection() throws Exception {
    EiConnection c = connect(60_000);
    peer.writeRaw(frame(new byte[] {112, (byte) 131, 104, 3, 97}));
    EiConnectionLostException e = assertThrows(EiConnectionLostException.class, () -> c.receive(5_000));
    assertTrue(e.getMessage().contains("undecodable"), e.getMessage());
    assertInstanceOf(io.ei4j.term.TermDecodeException.class, e.getCause().getCause());
  }

  @Test
  void messagesQueuedBeforeTheFailureAreReceivedFirst() throws Exception {
    EiConnection c = connect(60_000);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(112);
    body.write(TermEncoder.toBytes(ErlTuple.of(io.ei4j.term.ErlInteger.of(2), ErlAtom.of(""), c.self())));
    body.write(TermEncoder.toBytes(ErlAtom.of("last_words")));
    peer.writeRaw(frame(body.toByteArray()));
    peer.close();
    EiMessage.Send s = assertInstanceOf(EiMessage.Send.class, c.receive(5_000));
    assertEquals(ErlAtom.of("last_words"), s.message());
    assertThrows(EiConnectionLostException.class, () -> c.receive(5_000));
    assertThrows(EiConnectionLostException.class, () -> c.receive(0), "stays down");
  }
}
