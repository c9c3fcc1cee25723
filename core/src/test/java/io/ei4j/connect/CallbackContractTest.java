package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.Mockito.atLeast;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.doReturn;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.transport.tcp.TcpTransport;
import io.ei4j.transport.tcp.TcpSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mockito.AdditionalAnswers;

/**
 * How core uses the {@link SocketCallbacks} contract, checked with Mockito spies over the
 * real TCP transport: short reads and writes, a transport without {@code writev}, a
 * handshake header size of 4, the completion hooks called once on success and never on
 * failure, {@code close} once per context, and transport errors surfaced with their errno.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CallbackContractTest {
  private static final String COOKIE = "contract_cookie";
  private static final TcpTransport TCP = TcpTransport.create();

  private EiNode server;
  private EiNode client;

  @AfterEach
  void closeNodes() {
    if (server != null) {
      server.close();
    }
    if (client != null) {
      client.close();
    }
  }

  @SuppressWarnings("unchecked")
  private static SocketCallbacks<TcpSocket> spyTcp() {
    return mock(SocketCallbacks.class, AdditionalAnswers.delegatesTo(TCP));
  }

  /** Reads at most one byte per call. */
  private static void shortReads(SocketCallbacks<TcpSocket> cb) throws IOException {
    doAnswer(inv -> {
      ByteBuffer b = inv.getArgument(1);
      int limit = b.limit();
      b.limit(Math.min(limit, b.position() + 1));
      try {
        return TCP.read(inv.getArgument(0), b, inv.getArgument(2));
      } finally {
        b.limit(limit);
      }
    }).when(cb).read(any(), any(), anyLong());
  }

  /** Writes at most three bytes per call, and records everything written. */
  private static ByteArrayOutputStream shortWrites(SocketCallbacks<TcpSocket> cb) throws IOException {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    doAnswer(inv -> {
      ByteBuffer b = inv.getArgument(1);
      int limit = b.limit();
      int start = b.position();
      b.limit(Math.min(limit, b.position() + 3));
      try {
        return TCP.write(inv.getArgument(0), b, inv.getArgument(2));
      } finally {
        synchronized (log) {
          log.write(b.array(), b.arrayOffset() + start, b.position() - start);
        }
        b.limit(limit);
      }
    }).when(cb).write(any(), any(), anyLong());
    return log;
  }

  private EiConnection[] connectPair(SocketCallbacks<TcpSocket> serverCb, SocketCallbacks<TcpSocket> clientCb, String clientCookie) throws Exception {
    server = EiNode.builder("contract_server@localhost").cookie(COOKIE).transport(serverCb).build();
    client = EiNode.builder("contract_client@localhost").cookie(clientCookie).transport(clientCb).build();
    EiListener l = server.listen(new InetSocketAddress("127.0.0.1", 0), 5);
    CompletableFuture<Object> accepted = CompletableFuture.supplyAsync(() -> {
      try {
        return l.accept(5_000);
      } catch (IOException e) {
        return e;
      }
    });
    Object out;
    try {
      out = client.connect(l.address(), 5_000);
    } catch (IOException e) {
      out = e;
    }
    Object in = accepted.get(10, TimeUnit.SECONDS);
    if (out instanceof Exception e) {
      throw e;
    }
    if (in instanceof Exception e) {
      throw e;
    }
    return new EiConnection[] {(EiConnection) out, (EiConnection) in};
  }

  @Test
  void shortReadsAndWritesWithoutWritevCarryHandshakeAndMessages() throws Exception {
    SocketCallbacks<TcpSocket> s = spyTcp();
    SocketCallbacks<TcpSocket> c = spyTcp();
    for (SocketCallbacks<TcpSocket> cb : Arrays.asList(s, c)) {
      doReturn(false).when(cb).hasWritev();
      shortReads(cb);
      shortWrites(cb);
    }
    EiConnection[] pair = connectPair(s, c, COOKIE);
    byte[] big = new byte[20_000];
    Arrays.fill(big, (byte) 7);
    pair[0].regSend(pair[0].self(), "box", ErlBinary.of(big));
    EiMessage.RegSend m = assertInstanceOf(EiMessage.RegSend.class, pair[1].receive(10_000));
    assertEquals(ErlBinary.of(big), m.message());
    verify(c, never()).writev(any(), any(), anyLong());
    verify(s, never()).writev(any(), any(), anyLong());
    verify(c, atLeast(100)).write(any(), any(), anyLong());
  }

  @Test
  void headerSizeFourIsUsedForEveryHandshakeMessage() throws Exception {
    SocketCallbacks<TcpSocket> s = spyTcp();
    SocketCallbacks<TcpSocket> c = spyTcp();
    doReturn(4).when(s).handshakePacketHeaderSize(any());
    doReturn(4).when(c).handshakePacketHeaderSize(any());
    doReturn(false).when(c).hasWritev();
    ByteArrayOutputStream written = shortWrites(c);
    EiConnection[] pair = connectPair(s, c, COOKIE);
    byte[] w = written.toByteArray();
    // send_name: 4-byte length, 'N', 8 flags, 4 creation, 2 name length, name.
    int nameLen = "contract_client@localhost".length();
    assertEquals(1 + 8 + 4 + 2 + nameLen, ((w[0] & 0xff) << 24) | ((w[1] & 0xff) << 16) | ((w[2] & 0xff) << 8) | (w[3] & 0xff));
    assertEquals('N', w[4]);
    // challenge_reply follows: 4-byte length 21, 'r'.
    int at = 4 + 1 + 8 + 4 + 2 + nameLen;
    assertEquals(0, w[at]);
    assertEquals(0, w[at + 1]);
    assertEquals(0, w[at + 2]);
    assertEquals(21, w[at + 3]);
    assertEquals('r', w[at + 4]);
    pair[1].send(pair[0].self(), ErlAtom.OK);
    assertEquals(ErlAtom.OK, assertInstanceOf(EiMessage.Send.class, pair[0].receive(5_000)).message());
  }

  @Test
  void completionHooksRunOnceOnSuccess() throws Exception {
    SocketCallbacks<TcpSocket> s = spyTcp();
    SocketCallbacks<TcpSocket> c = spyTcp();
    EiConnection[] pair = connectPair(s, c, COOKIE);
    verify(c, times(1)).connectHandshakeComplete(any());
    verify(c, never()).acceptHandshakeComplete(any());
    verify(s, times(1)).acceptHandshakeComplete(any());
    verify(s, never()).connectHandshakeComplete(any());
    pair[0].close();
    pair[0].close();
    verify(c, times(1)).close(any());
  }

  @Test
  void completionHooksNeverRunAfterAFailedHandshake() throws Exception {
    SocketCallbacks<TcpSocket> s = spyTcp();
    SocketCallbacks<TcpSocket> c = spyTcp();
    assertThrows(EiAuthenticationException.class, () -> connectPair(s, c, "wrong_cookie"));
    verify(c, never()).connectHandshakeComplete(any());
    verify(s, never()).acceptHandshakeComplete(any());
    verify(c, times(1)).close(any());
  }

  @Test
  void transportErrorsSurfaceWithTheirErrno() throws Exception {
    SocketCallbacks<TcpSocket> c = spyTcp();
    doThrow(new ErrnoException(Errno.ECONNREFUSED, "scripted refusal")).when(c).connect(any(), any(), anyLong());
    client = EiNode.builder("errno_client@localhost").cookie(COOKIE).transport(c).build();
    ErrnoException e = assertThrows(ErrnoException.class, () -> client.connect(new InetSocketAddress("127.0.0.1", 9), 1_000));
    assertEquals(Errno.ECONNREFUSED, e.errno());
    verify(c, times(1)).close(any());
  }

  @Test
  void plainIoExceptionsBecomeEio() throws Exception {
    SocketCallbacks<TcpSocket> s = spyTcp();
    SocketCallbacks<TcpSocket> c = spyTcp();
    doThrow(new IOException("a failure without an errno")).when(c).read(any(), any(), anyLong());
    Exception e = assertThrows(Exception.class, () -> connectPair(s, c, COOKIE));
    ErrnoException ee = assertInstanceOf(ErrnoException.class, e, "got " + e);
    assertEquals(Errno.EIO, ee.errno());
    assertTrue(ee.getMessage().contains("without an errno"), ee.getMessage());
  }
}
