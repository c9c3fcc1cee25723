package io.ei4j.transport.tcp;

import io.ei4j.api.Accepted;
import io.ei4j.api.ByteBuffers;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.JdkErrnos;
import io.ei4j.api.SocketCallbacks;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * Erlang distribution over TCP on JDK NIO channels: the Java counterpart of ei's default
 * socket callbacks, usable by anything that speaks {@code inet_tcp_dist}.
 *
 * <ul>
 *   <li>{@link #FLAG_FULL_IMPL}: every timeout is implemented here, with a selector per
 *       socket and direction, so core never needs an {@link io.ei4j.api.FdPoller}.</li>
 *   <li>{@code listen} sets {@code SO_REUSEADDR}; both handshake-complete hooks set
 *       {@code TCP_NODELAY} and {@code SO_KEEPALIVE}, as ei does.</li>
 *   <li>IPv4 and IPv6: the channels are opened dual-stack, the address given decides.</li>
 *   <li>{@link #fd} is the real descriptor, found through {@code /proc} (see
 *       {@link ProcFd}) on first use and cached; {@link Errno#ENOTSUP} where there is no
 *       {@code /proc}.</li>
 *   <li>Handshake messages have 2-byte length headers, as {@code inet_tcp_dist}'s.</li>
 *   <li>{@link #wakeupRead} wakes the read selector, so a waiting read gives up at once.</li>
 * </ul>
 *
 * <p>Stateless and thread-safe: one instance serves any number of nodes.
 */
public final class TcpTransport implements SocketCallbacks<TcpSocket> {
  private static final TcpTransport INSTANCE = new TcpTransport();

  private TcpTransport() {}

  /** The shared instance. */
  public static TcpTransport create() {
    return INSTANCE;
  }

  @Override
  public int flags() {
    return FLAG_FULL_IMPL;
  }

  @Override
  public TcpSocket socket(Object setupContext) {
    return new TcpSocket();
  }

  @Override
  public void close(TcpSocket ctx) throws IOException {
    ctx.close();
  }

  @Override
  public SocketAddress listen(TcpSocket ctx, SocketAddress address, int backlog) throws IOException {
    if (!(address instanceof InetSocketAddress inet)) {
      throw new ErrnoException(Errno.EAFNOSUPPORT, "listen: TCP needs an InetSocketAddress, got " + address);
    }
    if (inet.isUnresolved()) {
      throw new ErrnoException(Errno.EADDRNOTAVAIL, "listen: cannot resolve " + inet.getHostString());
    }
    ServerSocketChannel ch = null;
    try {
      ch = ServerSocketChannel.open();
      ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      ch.configureBlocking(false);
      ch.bind(inet, backlog);
      ctx.attach(ch);
      return ch.getLocalAddress();
    } catch (IOException | RuntimeException e) {
      if (ch != null) {
        try {
          ch.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw JdkErrnos.translate(e, "listen on " + address);
    }
  }

  @Override
  public Accepted<TcpSocket> accept(TcpSocket listenCtx, long timeoutMillis) throws IOException {
    ServerSocketChannel server = listenCtx.listening("accept");
    try {
      while (true) {
        SocketChannel ch = server.accept();
        if (ch != null) {
          try {
            ch.configureBlocking(false);
            return new Accepted<>(new TcpSocket(ch), ch.getRemoteAddress());
          } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
          }
        }
        if (!listenCtx.await(SelectionKey.OP_ACCEPT, timeoutMillis)) {
          throw new ErrnoException(Errno.ETIMEDOUT, "accept: nobody connected within " + timeoutMillis + " ms");
        }
      }
    } catch (IOException | RuntimeException e) {
      throw JdkErrnos.translate(e, "accept");
    }
  }

  @Override
  public void connect(TcpSocket ctx, SocketAddress address, long timeoutMillis) throws IOException {
    if (!(address instanceof InetSocketAddress inet)) {
      throw new ErrnoException(Errno.EAFNOSUPPORT, "connect: TCP needs an InetSocketAddress, got " + address);
    }
    if (inet.isUnresolved()) {
      throw new ErrnoException(Errno.EHOSTUNREACH, "connect: cannot resolve " + inet.getHostString());
    }
    try {
      SocketChannel ch = SocketChannel.open();
      try {
        ch.configureBlocking(false);
        ctx.attach(ch);
      } catch (IOException | RuntimeException e) {
        ch.close();
        throw e;
      }
      if (ch.connect(inet)) {
        return;
      }
      long deadline = timeoutMillis == INFINITE ? Long.MAX_VALUE : System.nanoTime() + timeoutMillis * 1_000_000L;
      while (true) {
        long left = deadline == Long.MAX_VALUE ? INFINITE : Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
        boolean ready = ctx.await(SelectionKey.OP_CONNECT, left);
        if (ch.finishConnect()) {
          return;
        }
        if (!ready) {
          throw new ErrnoException(Errno.ETIMEDOUT, "connect to " + address + ": no answer within " + timeoutMillis + " ms");
        }
      }
    } catch (IOException | RuntimeException e) {
      throw JdkErrnos.translate(e, "connect to " + address);
    }
  }

  @Override
  public boolean hasWritev() {
    return true;
  }

  /**
   * One gathering write. Heap buffers that fit are first copied, in order, into one
   * {@value TcpSocket#STAGING_BYTES}-byte native staging area of the socket, so that a batch of small
   * frames costs one copy into native memory and one iovec instead of, per buffer, a
   * temporary direct buffer from the JDK's per-thread cache and an iovec of its own (measured
   * on loopback: 128 frames of two buffers, 23 us of writer CPU per write through the JDK's
   * gathering write against 7 us staged). Larger heap buffers (a big binary that core hands
   * over as it lies) and direct buffers go to the JDK's gathering write as they are, between
   * the staged pieces, in the same system call.
   */
  @Override
  public long writev(TcpSocket ctx, ByteBuffer[] buffers, long timeoutMillis) throws IOException {
    return ctx.writev(buffers, timeoutMillis);
  }



  @Override
  public int write(TcpSocket ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    return ctx.write(buffer, timeoutMillis);
  }

  @Override
  public int read(TcpSocket ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    return ctx.read(buffer, timeoutMillis);
  }

  @Override
  public boolean hasReadWakeup() {
    return true;
  }

  @Override
  public void wakeupRead(TcpSocket ctx) {
    ctx.wakeupRead();
  }

  @Override
  public int handshakePacketHeaderSize(TcpSocket ctx) {
    return 2;
  }

  @Override
  public void connectHandshakeComplete(TcpSocket ctx) throws IOException {
    tune(ctx);
  }

  @Override
  public void acceptHandshakeComplete(TcpSocket ctx) throws IOException {
    tune(ctx);
  }

  private static void tune(TcpSocket ctx) throws IOException {
    SocketChannel ch = ctx.connected("handshake complete");
    try {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
    } catch (IOException | RuntimeException e) {
      throw JdkErrnos.translate(e, "setting TCP_NODELAY and SO_KEEPALIVE");
    }
  }

  @Override
  public int fd(TcpSocket ctx) throws IOException {
    return ctx.fd();
  }

}
