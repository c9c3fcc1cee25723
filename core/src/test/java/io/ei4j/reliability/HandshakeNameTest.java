package io.ei4j.reliability;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.connect.EiHandshakeException;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiNode;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The peer's name arrives before any authentication, so an acceptor must not take it on
 * trust: a node name is an atom (at most 255 characters, like Erlang's), and a name with
 * control characters would let anyone who can connect write forged lines into the
 * acceptor's logs through its exception messages. Both the version-6 {@code 'N'} and the
 * old {@code 'n'} name message are checked, over a real socket.
 */
@Timeout(60)
class HandshakeNameTest {
  private static final String COOKIE = "name-cookie";

  private static Throwable acceptFrom(byte[] nameMessage) throws Exception {
    try (EiNode node = EiNode.builder(ErlangPeer.uniqueName("names") + "@localhost").cookie(COOKIE).transport(TcpTransport.create()).build();
        EiListener l = node.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4)) {
      CompletableFuture<Object> r = CompletableFuture.supplyAsync(() -> {
        try {
          return l.accept(5_000);
        } catch (IOException e) {
          throw new CompletionException(e);
        }
      });
      try (Socket s = Abuse.connect((InetSocketAddress) l.address(), 5_000)) {
        s.getOutputStream().write(nameMessage);
        s.getOutputStream().write(Abuse.challengeReply(1, "not-the-cookie", 2));
        try {
          Object c = r.get(10, TimeUnit.SECONDS);
          throw new AssertionError("accepted " + c);
        } catch (java.util.concurrent.ExecutionException e) {
          return e.getCause();
        }
      }
    }
  }

  private static byte[] oldName(String name) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(1 + 2 + 4 + n.length);
    b.put((byte) 'n').putShort((short) 6).putInt((int) Abuse.FLAGS).put(n);
    return Abuse.message(b.array());
  }

  @Test
  void namesWithControlCharactersAreRefusedWithoutEchoingThem() throws Exception {
    for (byte[] msg : new byte[][] {Abuse.nameMessage("evil@host\n2026-01-01 INFO forged line"), oldName("evil@host\r\nforged")}) {
      Throwable t = acceptFrom(msg);
      EiHandshakeException e = assertInstanceOf(EiHandshakeException.class, t, "got " + t);
      assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\r"), "the message carries the peer's line break: " + e.getMessage());
    }
  }

  @Test
  void namesLongerThanAnAtomAreRefused() throws Exception {
    Throwable t = acceptFrom(Abuse.nameMessage("a".repeat(300) + "@localhost"));
    EiHandshakeException e = assertInstanceOf(EiHandshakeException.class, t, "got " + t);
    assertTrue(e.getMessage().contains("255"), e.getMessage());
  }

  @Test
  void oldStyleNamesMustBeNodeNames() throws Exception {
    Throwable t = acceptFrom(oldName("no-at-sign"));
    EiHandshakeException e = assertInstanceOf(EiHandshakeException.class, t, "got " + t);
    assertTrue(e.getMessage().contains("alive@host"), e.getMessage());
  }
}
