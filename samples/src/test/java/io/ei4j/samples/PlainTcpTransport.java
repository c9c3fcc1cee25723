package io.ei4j.samples;

// README:begin transport
import io.ei4j.api.Accepted;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;

/**
 * Erlang distribution over plain java.net sockets: a complete, if simple, transport.
 * FLAG_FULL_IMPL says that the callbacks implement their timeouts themselves (here with
 * SO_TIMEOUT), so core needs no descriptor to poll. A java.net write cannot time out:
 * writes block until the peer reads (use NIO, as ei4j-transport-tcp does, to bound them).
 */
public final class PlainTcpTransport implements SocketCallbacks<PlainTcpTransport.Ctx> {

  /** One socket: a listening one or a connection. */
  public static final class Ctx {
    ServerSocket server;
    Socket socket;
  }

  @Override
  public int flags() {
    return FLAG_FULL_IMPL;
  }

  @Override
  public Ctx socket(Object setupContext) {
    return new Ctx();
  }

  @Override
  public void close(Ctx ctx) throws IOException {
    if (ctx.server != null) {
      ctx.server.close();
    }
    if (ctx.socket != null) {
      ctx.socket.close();
    }
  }

  @Override
  public SocketAddress listen(Ctx ctx, SocketAddress address, int backlog) throws IOException {
    ctx.server = new ServerSocket();
    ctx.server.setReuseAddress(true);
    ctx.server.bind(address, backlog);
    return ctx.server.getLocalSocketAddress();
  }

  @Override
  public Accepted<Ctx> accept(Ctx listenCtx, long timeoutMillis) throws IOException {
    listenCtx.server.setSoTimeout(soTimeout(timeoutMillis));
    try {
      Ctx c = new Ctx();
      c.socket = listenCtx.server.accept();
      return new Accepted<>(c, c.socket.getRemoteSocketAddress());
    } catch (SocketTimeoutException e) {
      throw new ErrnoException(Errno.ETIMEDOUT, "nobody connected within " + timeoutMillis + " ms");
    }
  }

  @Override
  public void connect(Ctx ctx, SocketAddress address, long timeoutMillis) throws IOException {
    ctx.socket = new Socket();
    try {
      ctx.socket.connect(address, soTimeout(timeoutMillis));
    } catch (SocketTimeoutException e) {
      throw new ErrnoException(Errno.ETIMEDOUT, "connect to " + address);
    } catch (ConnectException e) {
      throw new ErrnoException(Errno.ECONNREFUSED, "connect to " + address + ": " + e.getMessage());
    }
  }

  @Override
  public int write(Ctx ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    int n = buffer.remaining();
    byte[] bytes = new byte[n];
    buffer.get(bytes);
    ctx.socket.getOutputStream().write(bytes);
    return n;
  }

  @Override
  public int read(Ctx ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    ctx.socket.setSoTimeout(soTimeout(timeoutMillis));
    byte[] bytes = new byte[buffer.remaining()];
    try {
      int n = ctx.socket.getInputStream().read(bytes);
      if (n > 0) {
        buffer.put(bytes, 0, n);
      }
      return n; // -1 at end of stream
    } catch (SocketTimeoutException e) {
      throw new ErrnoException(Errno.ETIMEDOUT, "nothing to read within " + timeoutMillis + " ms");
    }
  }

  @Override
  public int handshakePacketHeaderSize(Ctx ctx) {
    return 2; // as inet_tcp_dist; TLS distribution uses 4
  }

  @Override
  public int fd(Ctx ctx) throws IOException {
    throw new ErrnoException(Errno.ENOTSUP, "java.net sockets do not expose their descriptor");
  }

  /** SO_TIMEOUT for a callback timeout: 0 blocks for ever, and 0 ms means "poll once". */
  private static int soTimeout(long timeoutMillis) {
    if (timeoutMillis == INFINITE) {
      return 0;
    }
    return (int) Math.max(1, Math.min(timeoutMillis, Integer.MAX_VALUE));
  }
}
// README:end
