package io.ei4j.transport.tls;

import io.ei4j.api.Accepted;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Erlang distribution over TLS, as OTP's {@code -proto_dist inet_tls} speaks it: a
 * {@link SocketCallbacks} implementation on TCP with BouncyCastle's JSSE provider.
 *
 * <ul>
 *   <li>The TLS handshake runs inside {@link #connect} and {@link #accept}: when they return,
 *       the session is established and verified, and core starts the distribution handshake.
 *       A peer that fails verification, or speaks plaintext, makes them fail with
 *       {@link Errno#EPROTO} and the reason; there is no fallback to plaintext. The
 *       timeout of {@code connect} covers its TLS handshake, which
 *       {@link TlsConfig#handshakeTimeout()} also bounds. A listener drives the TLS
 *       handshakes of all connections it accepted together, each bounded by
 *       {@code handshakeTimeout}, and {@code accept} returns the first that completes, so
 *       one silent peer never holds back another; a failed handshake in {@code accept}
 *       leaves the listener serving ({@link #accept}).</li>
 *   <li>Distribution handshake messages have 4-byte length headers
 *       ({@link #handshakePacketHeaderSize}), as {@code inet_tls_dist} sends them.</li>
 *   <li>{@link #FLAG_FULL_IMPL}: TLS buffers decrypted bytes that the descriptor cannot
 *       show, so every call implements its own timeout.</li>
 *   <li>{@link #hasReadWakeup}: {@link #wakeupRead} wakes the read selector, so a read
 *       waiting for the peer gives up at once with {@link Errno#ETIMEDOUT}; decrypted
 *       bytes and complete records already received are returned first, a partial record
 *       stays buffered for the next read, and the TLS handshake and post-handshake
 *       messages (close_notify, key updates) are never cut short by it.</li>
 *   <li>{@link #fd} is the underlying TCP descriptor, the same for the socket's life. The
 *       JDK does not expose it: it is read from the channel when the application opens
 *       {@code java.base/sun.nio.ch} to this module, else found on Linux through
 *       {@code /proc/net/tcp{,6}} and {@code /proc/self/fd}; elsewhere {@code fd} fails
 *       with {@link Errno#ENOTSUP}, which a {@code FULL_IMPL} transport may do.</li>
 *   <li>{@link #close} sends close_notify before closing the TCP socket.</li>
 * </ul>
 *
 * <p>The {@code setupContext} given to {@link #socket} may be a {@link TlsConfig}, which then
 * applies to that socket instead of the transport's own; {@code null} (or any other value a
 * node was created with for another purpose) selects the transport's configuration.
 * Thread-safe: one transport serves any number of nodes and sockets.
 */
public final class TlsTransport implements SocketCallbacks<TlsSocket> {
  private final TlsConfig config;

  /** A transport whose sockets use {@code config}. */
  public TlsTransport(TlsConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  /** The configuration sockets use unless their setup context names another. */
  public TlsConfig config() {
    return config;
  }

  @Override
  public int flags() {
    return FLAG_FULL_IMPL;
  }

  @Override
  public TlsSocket socket(Object setupContext) {
    return new TlsSocket(setupContext instanceof TlsConfig c ? c : config);
  }

  @Override
  public void close(TlsSocket ctx) throws IOException {
    ctx.close();
  }

  @Override
  public SocketAddress listen(TlsSocket ctx, SocketAddress address, int backlog) throws IOException {
    return ctx.listen(address, backlog);
  }

  /**
   * Waits up to {@code timeoutMillis} for a connection whose TLS handshake completes. The
   * listening socket keeps every accepted connection whose handshake is under way and drives
   * them all together, without blocking on any one, so a peer that connects and never
   * speaks delays no other; handshakes carry on across calls, each bounded by
   * {@link TlsConfig#handshakeTimeout()} from when it was accepted, and at most
   * {@link TlsConfig#maxPendingHandshakes()} at once (a new connection beyond that closes
   * the oldest pending one). A handshake that fails or runs out is closed and logged at
   * debug; when the call has no completed connection to return, it fails with that
   * handshake's error ({@link Errno#EPROTO} with the reason, {@link Errno#ECONNRESET}, or
   * {@link Errno#ETIMEDOUT}). The listening socket is unaffected either way. Concurrent
   * calls on one listening socket are serialized. Closing the listening socket closes the
   * pending handshakes.
   */
  @Override
  public Accepted<TlsSocket> accept(TlsSocket listenCtx, long timeoutMillis) throws IOException {
    return listenCtx.accept(timeoutMillis);
  }

  /**
   * Connects and runs the TLS handshake. The address must be an
   * {@link java.net.InetSocketAddress}; its {@link java.net.InetSocketAddress#getHostString()
   * host string} is the name sent as SNI and checked against the server certificate (an IP
   * literal is checked against the certificate's IP addresses and not sent as SNI).
   */
  @Override
  public void connect(TlsSocket ctx, SocketAddress address, long timeoutMillis) throws IOException {
    ctx.connect(address, timeoutMillis);
  }

  /** True: a frame's header and payload go out in one TLS record. */
  @Override
  public boolean hasWritev() {
    return true;
  }

  @Override
  public long writev(TlsSocket ctx, ByteBuffer[] buffers, long timeoutMillis) throws IOException {
    return ctx.write(buffers, timeoutMillis);
  }

  @Override
  public int write(TlsSocket ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    return (int) ctx.write(new ByteBuffer[] {buffer}, timeoutMillis);
  }

  @Override
  public int read(TlsSocket ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    if (!buffer.hasRemaining()) {
      throw new ErrnoException(Errno.EINVAL, "read into a full buffer");
    }
    return ctx.read(buffer, timeoutMillis);
  }

  @Override
  public boolean hasReadWakeup() {
    return true;
  }

  @Override
  public void wakeupRead(TlsSocket ctx) {
    ctx.wakeupRead();
  }

  /** 4, as {@code inet_tls_dist}: its distribution handshake runs with {@code {packet, 4}}. */
  @Override
  public int handshakePacketHeaderSize(TlsSocket ctx) {
    return 4;
  }

  @Override
  public void connectHandshakeComplete(TlsSocket ctx) throws IOException {
    ctx.handshakeComplete();
  }

  @Override
  public void acceptHandshakeComplete(TlsSocket ctx) throws IOException {
    ctx.handshakeComplete();
  }

  @Override
  public int fd(TlsSocket ctx) throws IOException {
    return ctx.fd();
  }
}
