package io.ei4j.node;

import io.ei4j.api.Accepted;
import io.ei4j.api.SocketCallbacks;
import io.ei4j.transport.tcp.TcpCallbacks;
import io.ei4j.transport.tcp.TcpSocket;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.Optional;

/** TCP whose naming resolves every node to one address, so tests need no EPMD. */
final class FixedAddress implements SocketCallbacks<TcpSocket> {
  private final TcpCallbacks tcp = TcpCallbacks.create();
  private final SocketAddress address;

  FixedAddress(SocketAddress address) {
    this.address = address;
  }

  @Override
  public Optional<SocketAddress> nodeAddress(String alive, String host) {
    return Optional.of(address);
  }

  @Override
  public int flags() {
    return tcp.flags();
  }

  @Override
  public TcpSocket socket(Object setupContext) throws IOException {
    return tcp.socket(setupContext);
  }

  @Override
  public void close(TcpSocket ctx) throws IOException {
    tcp.close(ctx);
  }

  @Override
  public SocketAddress listen(TcpSocket ctx, SocketAddress a, int backlog) throws IOException {
    return tcp.listen(ctx, a, backlog);
  }

  @Override
  public Accepted<TcpSocket> accept(TcpSocket listenCtx, long timeoutMillis) throws IOException {
    return tcp.accept(listenCtx, timeoutMillis);
  }

  @Override
  public void connect(TcpSocket ctx, SocketAddress a, long timeoutMillis) throws IOException {
    tcp.connect(ctx, a, timeoutMillis);
  }

  @Override
  public boolean hasWritev() {
    return tcp.hasWritev();
  }

  @Override
  public long writev(TcpSocket ctx, ByteBuffer[] buffers, long timeoutMillis) throws IOException {
    return tcp.writev(ctx, buffers, timeoutMillis);
  }

  @Override
  public int write(TcpSocket ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    return tcp.write(ctx, buffer, timeoutMillis);
  }

  @Override
  public int read(TcpSocket ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    return tcp.read(ctx, buffer, timeoutMillis);
  }

  @Override
  public int handshakePacketHeaderSize(TcpSocket ctx) {
    return tcp.handshakePacketHeaderSize(ctx);
  }

  @Override
  public void connectHandshakeComplete(TcpSocket ctx) throws IOException {
    tcp.connectHandshakeComplete(ctx);
  }

  @Override
  public void acceptHandshakeComplete(TcpSocket ctx) throws IOException {
    tcp.acceptHandshakeComplete(ctx);
  }

  @Override
  public int fd(TcpSocket ctx) throws IOException {
    return tcp.fd(ctx);
  }
}
