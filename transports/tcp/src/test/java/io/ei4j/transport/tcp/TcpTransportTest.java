package io.ei4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.Accepted;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What the TCP transport promises beyond the common conformance suite. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TcpTransportTest {
  private final TcpTransport tcp = TcpTransport.create();

  private record Pair(TcpSocket listener, TcpSocket client, TcpSocket server) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      TcpTransport.create().close(client);
      TcpTransport.create().close(server);
      TcpTransport.create().close(listener);
    }
  }

  private Pair pair(String host) throws Exception {
    TcpSocket l = tcp.socket(null);
    InetSocketAddress bound = (InetSocketAddress) tcp.listen(l, new InetSocketAddress(host, 0), 5);
    CompletableFuture<Accepted<TcpSocket>> a = CompletableFuture.supplyAsync(() -> {
      try {
        return tcp.accept(l, 5_000);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    TcpSocket c = tcp.socket(null);
    tcp.connect(c, bound, 5_000);
    return new Pair(l, c, a.get(10, TimeUnit.SECONDS).context());
  }

  @Test
  void flagsAndHeaderSizeAreThoseOfInetTcpDist() throws Exception {
    assertEquals(SocketCallbacks.FLAG_FULL_IMPL, tcp.flags());
    assertTrue(tcp.hasWritev());
    try (Pair p = pair("127.0.0.1")) {
      assertEquals(2, tcp.handshakePacketHeaderSize(p.client()));
    }
  }

  @Test
  void listenSetsReuseAddress() throws Exception {
    try (Pair p = pair("127.0.0.1")) {
      assertTrue(p.listener().listening("test").getOption(StandardSocketOptions.SO_REUSEADDR));
    }
  }

  @Test
  void handshakeHooksSetNoDelayAndKeepAlive() throws Exception {
    try (Pair p = pair("127.0.0.1")) {
      SocketChannel c = p.client().connected("test");
      SocketChannel s = p.server().connected("test");
      assertFalse(c.getOption(StandardSocketOptions.TCP_NODELAY));
      assertFalse(s.getOption(StandardSocketOptions.SO_KEEPALIVE));
      tcp.connectHandshakeComplete(p.client());
      tcp.acceptHandshakeComplete(p.server());
      for (SocketChannel ch : new SocketChannel[] {c, s}) {
        assertTrue(ch.getOption(StandardSocketOptions.TCP_NODELAY));
        assertTrue(ch.getOption(StandardSocketOptions.SO_KEEPALIVE));
      }
    }
  }

  @Test
  void fdIsTheRealSocketDescriptor() throws Exception {
    for (String host : new String[] {"127.0.0.1", "::1", "0.0.0.0", "::"}) {
      try (Pair p = pair(host)) {
        for (TcpSocket s : new TcpSocket[] {p.listener(), p.client(), p.server()}) {
          int fd = tcp.fd(s);
          String link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
          assertTrue(link.startsWith("socket:["), "fd " + fd + " of " + s + " is " + link);
          assertEquals(fd, tcp.fd(s), "cached and stable");
        }
        assertEquals(3, java.util.Set.of(tcp.fd(p.listener()), tcp.fd(p.client()), tcp.fd(p.server())).size());
      }
    }
  }

  @Test
  void misuseIsReportedWithAnErrno() throws Exception {
    TcpSocket s = tcp.socket(null);
    try {
      assertEquals(Errno.ENOTCONN, assertThrows(ErrnoException.class, () -> tcp.fd(s)).errno());
      assertEquals(Errno.ENOTCONN, assertThrows(ErrnoException.class,
          () -> tcp.read(s, java.nio.ByteBuffer.allocate(1), 10)).errno());
      assertEquals(Errno.EAFNOSUPPORT, assertThrows(ErrnoException.class,
          () -> tcp.listen(s, UnixDomainSocketAddress.of("/tmp/x"), 1)).errno());
      assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> tcp.accept(s, 10)).errno());
    } finally {
      tcp.close(s);
    }
    assertEquals(Errno.EBADF, assertThrows(ErrnoException.class, () -> tcp.fd(s)).errno());
    tcp.close(s); // a second close is harmless
  }

  @Test
  void listeningOnATakenPortIsEaddrinuse() throws Exception {
    try (Pair p = pair("127.0.0.1")) {
      TcpSocket other = tcp.socket(null);
      try {
        InetSocketAddress taken = (InetSocketAddress) p.listener().localAddress();
        assertEquals(Errno.EADDRINUSE, assertThrows(ErrnoException.class, () -> tcp.listen(other, taken, 1)).errno());
      } finally {
        tcp.close(other);
      }
    }
  }
}
