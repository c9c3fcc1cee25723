package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.conformance.ScriptedPeer;
import io.ei4j.internal.dist.DistFlags;
import io.ei4j.transport.tcp.TcpSocket;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The handshake statuses as an enum: the wire texts, how a received text maps, and that an
 * acceptor's {@link EiConnectionHandler#acceptStatus} is sent as its wire text (and refused
 * before anything is sent when it is not a status an acceptor sends), against a scripted
 * initiator on a real TCP socket.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HandshakeStatusTest {
  private static final String COOKIE = "hs_status_cookie";
  private static final TcpTransport TCP = TcpTransport.create();

  @Test
  void wireTextsMapBothWays() {
    assertEquals("ok", HandshakeStatus.OK.wire());
    assertEquals("ok_simultaneous", HandshakeStatus.OK_SIMULTANEOUS.wire());
    assertEquals("nok", HandshakeStatus.NOK.wire());
    assertEquals("not_allowed", HandshakeStatus.NOT_ALLOWED.wire());
    assertEquals("alive", HandshakeStatus.ALIVE.wire());
    assertEquals("named:", HandshakeStatus.NAMED.wire());
    assertNull(HandshakeStatus.UNKNOWN.wire());
    for (HandshakeStatus s : HandshakeStatus.values()) {
      if (s != HandshakeStatus.UNKNOWN) {
        assertEquals(s, HandshakeStatus.fromWire(s.wire()));
      }
    }
    assertEquals(HandshakeStatus.NAMED, HandshakeStatus.fromWire("named:\0\5abcde"));
    assertEquals(HandshakeStatus.UNKNOWN, HandshakeStatus.fromWire("OK"));
    assertEquals(HandshakeStatus.UNKNOWN, HandshakeStatus.fromWire("okay"));
    assertEquals(HandshakeStatus.UNKNOWN, HandshakeStatus.fromWire(""));
    assertEquals(HandshakeStatus.UNKNOWN, HandshakeStatus.fromWire(null));
    assertFalse(HandshakeStatus.NAMED.acceptorMaySend());
    assertFalse(HandshakeStatus.UNKNOWN.acceptorMaySend());
  }

  @Test
  void anExceptionWithoutAStatusHasNone() {
    EiHandshakeException e = new EiHandshakeException("bad tag");
    assertNull(e.status());
    assertNull(e.statusText());
  }

  @Test
  void theHandlersRefusalIsSentAsItsWireText() throws Exception {
    EiHandshakeException e = assertInstanceOf(EiHandshakeException.class, acceptWith(HandshakeStatus.NOT_ALLOWED, "snot_allowed"));
    assertEquals(HandshakeStatus.NOT_ALLOWED, e.status());
    assertEquals("not_allowed", e.statusText());
    e = assertInstanceOf(EiHandshakeException.class, acceptWith(HandshakeStatus.NOK, "snok"));
    assertEquals(HandshakeStatus.NOK, e.status());
  }

  @Test
  void aStatusAnAcceptorDoesNotSendFailsTheAcceptBeforeAnythingIsSent() throws Exception {
    assertInstanceOf(IllegalStateException.class, acceptWith(HandshakeStatus.NAMED, null));
    assertInstanceOf(IllegalStateException.class, acceptWith(HandshakeStatus.UNKNOWN, null));
    assertInstanceOf(IllegalStateException.class, acceptWith(null, null));
  }

  /**
   * A node whose handler answers {@code status} accepts a scripted initiator; returns what
   * {@code accept} threw. {@code expectedMessage} is the status message the initiator must
   * read, or null when it must read none (the connection closes).
   */
  private static Throwable acceptWith(HandshakeStatus status, String expectedMessage) throws Exception {
    EiConnectionHandler handler = new EiConnectionHandler() {
      @Override
      public void onMessage(EiConnection connection, EiMessage message) {}

      @Override
      public HandshakeStatus acceptStatus(String peerNodeName) {
        return status;
      }
    };
    try (EiNode node = EiNode.builder("hs_status@localhost").cookie(COOKIE).transport(TCP).connectionHandler(handler).build();
         EiListener l = node.listen(new InetSocketAddress("127.0.0.1", 0), 5);
         ScriptedPeer<TcpSocket> peer = ScriptedPeer.connect(TCP, null, l.address())) {
      CompletableFuture<Throwable> accepted = CompletableFuture.supplyAsync(() -> {
        try {
          l.accept(5_000).close();
          return null;
        } catch (IOException | RuntimeException e) {
          return e;
        }
      });
      byte[] n = "initiator@localhost".getBytes(StandardCharsets.US_ASCII);
      ByteBuffer name = ByteBuffer.allocate(1 + 8 + 4 + 2 + n.length);
      name.put((byte) 'N').putLong(DistFlags.ADVERTISED).putInt(7).putShort((short) n.length).put(n);
      peer.writeHandshakeMessage(name.array());
      if (expectedMessage != null) {
        assertArrayEquals(expectedMessage.getBytes(StandardCharsets.US_ASCII), peer.readHandshakeMessage());
      } else {
        assertThrows(IOException.class, peer::readHandshakeMessage, "no status is sent");
      }
      Throwable t = accepted.get(10, TimeUnit.SECONDS);
      assertTrue(t != null, "the accept must fail");
      return t;
    }
  }
}
