package io.ei4j.testkit;

import io.ei4j.api.Accepted;
import io.ei4j.api.SocketCallbacks;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.Optional;

/**
 * Callbacks that pass every call, the optional ones included, to another transport
 * unchanged. Tests subclass it to alter one behaviour of a real transport (hold a write,
 * throttle, resolve every node to one address) and inherit the rest, so that adding a
 * callback to {@link SocketCallbacks} means adding its forwarding here once.
 *
 * @param <C> the wrapped transport's per-socket context, handed through untouched
 */
public class ForwardingSocketCallbacks<C> implements SocketCallbacks<C> {
  private final SocketCallbacks<C> delegate;

  /**
   * Forwards to {@code delegate}.
   *
   * @param delegate the transport that does the work
   */
  public ForwardingSocketCallbacks(SocketCallbacks<C> delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  /**
   * The transport every call goes to.
   *
   * @return the wrapped callbacks
   */
  protected final SocketCallbacks<C> delegate() {
    return delegate;
  }

  @Override
  public int flags() {
    return delegate.flags();
  }

  @Override
  public C socket(Object setupContext) throws IOException {
    return delegate.socket(setupContext);
  }

  @Override
  public void close(C ctx) throws IOException {
    delegate.close(ctx);
  }

  @Override
  public SocketAddress listen(C ctx, SocketAddress address, int backlog) throws IOException {
    return delegate.listen(ctx, address, backlog);
  }

  @Override
  public Accepted<C> accept(C listenCtx, long timeoutMillis) throws IOException {
    return delegate.accept(listenCtx, timeoutMillis);
  }

  @Override
  public void connect(C ctx, SocketAddress address, long timeoutMillis) throws IOException {
    delegate.connect(ctx, address, timeoutMillis);
  }

  @Override
  public boolean hasWritev() {
    return delegate.hasWritev();
  }

  @Override
  public long writev(C ctx, ByteBuffer[] buffers, long timeoutMillis) throws IOException {
    return delegate.writev(ctx, buffers, timeoutMillis);
  }

  @Override
  public int write(C ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    return delegate.write(ctx, buffer, timeoutMillis);
  }

  @Override
  public int read(C ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    return delegate.read(ctx, buffer, timeoutMillis);
  }

  @Override
  public int handshakePacketHeaderSize(C ctx) {
    return delegate.handshakePacketHeaderSize(ctx);
  }

  @Override
  public void connectHandshakeComplete(C ctx) throws IOException {
    delegate.connectHandshakeComplete(ctx);
  }

  @Override
  public void acceptHandshakeComplete(C ctx) throws IOException {
    delegate.acceptHandshakeComplete(ctx);
  }

  @Override
  public int fd(C ctx) throws IOException {
    return delegate.fd(ctx);
  }

  @Override
  public Optional<SocketAddress> nodeAddress(String alive, String host) {
    return delegate.nodeAddress(alive, host);
  }
}
