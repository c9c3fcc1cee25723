package io.ei4j.api;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * A transport for Erlang distribution: the Java form of erl_interface's
 * {@code ei_socket_callbacks}, field for field and in the same order.
 *
 * <p>Core runs the distribution handshake, the digest, framing and the term codec on top
 * of whatever these callbacks talk to: a TCP socket, a TLS session, an AF_UNIX socket, a
 * tunnel. Each socket is represented by a context of type {@code C} that the transport
 * chooses; core never looks inside it and hands it back to every call on that socket.
 *
 * <h2>Differences from ei, and why</h2>
 * <ul>
 *   <li>ei's callbacks return 0 or a POSIX error code. Here a callback returns normally on
 *       success and throws {@link ErrnoException} (an {@link IOException}) carrying the
 *       {@link Errno} on failure. Any other {@code IOException} counts as {@link Errno#EIO},
 *       as ei reports a failure without a code.</li>
 *   <li>Results that ei writes back through pointer arguments are return values: the bound
 *       address from {@link #listen}, the new context and peer from {@link #accept}, the
 *       byte counts from {@link #read}, {@link #write} and {@link #writev}.</li>
 *   <li>Timeouts are milliseconds as a {@code long}; {@link #INFINITE} stands for ei's
 *       {@code EI_SCLBK_INF_TMO}, and 0 means "try once, do not wait".</li>
 *   <li>{@link #nodeAddress} is ei4j's own addition: a transport that has its own naming
 *       (AF_UNIX socket files) resolves node names without EPMD.</li>
 * </ul>
 *
 * <h2>Timeouts</h2>
 * With {@link #FLAG_FULL_IMPL} in {@link #flags()}, {@code accept}, {@code connect},
 * {@code writev}, {@code write} and {@code read} implement the timeout they are given and
 * fail with {@link Errno#ETIMEDOUT} when it runs out. Without it, core waits for
 * readiness on {@link #fd} (as ei uses {@code select()}) before each call and the
 * callbacks must ignore their timeout argument; this only works when the descriptor
 * shows all buffered state, which is false for TLS.
 *
 * <h2>Threads</h2>
 * Core never calls two reads, or two writes, on one context at the same time, but a read
 * and a write on the same context may run concurrently on different threads, and
 * {@link #close} may be called from any thread to abort a blocked call.
 *
 * @param <C> the transport's per-socket context
 */
public interface SocketCallbacks<C> {

  /**
   * The callbacks implement the timeouts they are given ({@code EI_SCLBK_FLG_FULL_IMPL}).
   */
  int FLAG_FULL_IMPL = 1;

  /** A timeout that never runs out ({@code EI_SCLBK_INF_TMO}). */
  long INFINITE = -1L;

  /**
   * Flags that tell core how these callbacks behave, bitwise or-ed; currently only
   * {@link #FLAG_FULL_IMPL}. Read once when a node is created.
   */
  int flags();

  /**
   * Creates a socket and its context. Called before every {@link #listen} and
   * {@link #connect}.
   *
   * @param setupContext the object the node was created with, handed over unchanged;
   *     transports use it for configuration such as TLS settings
   * @return the new socket's context; it identifies the socket until {@link #close}
   */
  C socket(Object setupContext) throws IOException;

  /**
   * Closes the socket and releases the context. Called exactly once per context that
   * {@link #socket} or {@link #accept} returned, also after a failure. It may be called
   * while another thread is blocked on the same context, and must then make that call
   * fail promptly.
   */
  void close(C ctx) throws IOException;

  /**
   * Binds the socket to a local address and listens on it.
   *
   * @param address where to bind; an {@link java.net.InetSocketAddress} with port 0 for
   *     TCP-like transports asks for an ephemeral port
   * @param backlog the length of the queue of pending connections
   * @return the address actually bound (with the chosen port, say); never null
   */
  SocketAddress listen(C ctx, SocketAddress address, int backlog) throws IOException;

  /**
   * Accepts one connection on a listening socket.
   *
   * @param listenCtx a context on which {@link #listen} succeeded; it stays listening
   * @param timeoutMillis see the class comment
   * @return the context of the accepted connection and the peer's address
   * @throws ErrnoException {@link Errno#ETIMEDOUT} when nobody connected in time
   */
  Accepted<C> accept(C listenCtx, long timeoutMillis) throws IOException;

  /**
   * Connects the socket to {@code address}. A TLS transport also completes its TLS
   * handshake here: core sends the distribution handshake right after this returns.
   *
   * @throws ErrnoException {@link Errno#ECONNREFUSED}, {@link Errno#ETIMEDOUT},
   *     {@link Errno#EHOSTUNREACH} and the like
   */
  void connect(C ctx, SocketAddress address, long timeoutMillis) throws IOException;

  /**
   * Whether {@link #writev} is implemented. ei's {@code writev} field may be NULL; here the
   * transport says so by leaving this false, and core then sends a frame's header and
   * payload with {@link #write}.
   */
  default boolean hasWritev() {
    return false;
  }

  /**
   * Writes the remaining bytes of {@code buffers}, in order, as one gathering write.
   * Advances the positions of the buffers by what was written.
   *
   * @return the number of bytes written, at least 1 unless all buffers were empty; fewer
   *     than remained is a short write, and core calls again with the rest
   * @throws ErrnoException {@link Errno#ETIMEDOUT} when nothing could be written in time
   */
  default long writev(C ctx, ByteBuffer[] buffers, long timeoutMillis) throws IOException {
    throw new UnsupportedOperationException("writev is not implemented by " + getClass().getName());
  }

  /**
   * Writes the remaining bytes of {@code buffer}, advancing its position by what was
   * written.
   *
   * @return the number of bytes written, at least 1 when bytes remained; a short write is
   *     allowed and core calls again with the rest
   * @throws ErrnoException {@link Errno#ETIMEDOUT} when nothing could be written in time
   */
  int write(C ctx, ByteBuffer buffer, long timeoutMillis) throws IOException;

  /**
   * Reads what is available into {@code buffer}, up to its remaining space, advancing its
   * position.
   *
   * @return the number of bytes read, at least 1; or -1 at end of stream (ei's "0 bytes
   *     read"), which core reports as the peer having closed the connection
   * @throws ErrnoException {@link Errno#ETIMEDOUT} when nothing arrived in time
   */
  int read(C ctx, ByteBuffer buffer, long timeoutMillis) throws IOException;

  /**
   * ei4j's addition to ei's callbacks: whether {@link #wakeupRead} is implemented. Only
   * {@link #FLAG_FULL_IMPL} transports are asked. When it is, core lets a thread that waits
   * for a message read the socket itself instead of waiting for the connection's reader
   * thread to hand the message over, since it can then be called back when its message
   * comes from elsewhere.
   */
  default boolean hasReadWakeup() {
    return false;
  }

  /**
   * Makes a {@link #read} of {@code ctx} that is waiting for data on another thread stop
   * waiting soon and throw {@link Errno#ETIMEDOUT}, as if its timeout had run out; when no
   * read is waiting, the next one that would wait does so instead. Data already readable is
   * still returned. Called from any thread, concurrently with a read; it must not block.
   * Only called when {@link #hasReadWakeup} says it is implemented.
   */
  default void wakeupRead(C ctx) {
    throw new UnsupportedOperationException("wakeupRead is not implemented by " + getClass().getName());
  }

  /**
   * The size of the length header of each distribution handshake message: 2 for TCP and
   * AF_UNIX distribution, 4 for TLS distribution ({@code inet_tls_dist}). After the
   * handshake, frames always have 4-byte lengths.
   */
  int handshakePacketHeaderSize(C ctx);

  /**
   * Called once when a handshake that this side started has succeeded, and never after a
   * failed one. ei's TCP transport sets {@code TCP_NODELAY} and {@code SO_KEEPALIVE} here.
   */
  default void connectHandshakeComplete(C ctx) throws IOException {}

  /**
   * Called once when a handshake that the peer started has succeeded, and never after a
   * failed one.
   */
  default void acceptHandshakeComplete(C ctx) throws IOException {}

  /**
   * The native descriptor of the socket, the same for its whole life. Core waits on it
   * through an {@link FdPoller} when {@link #FLAG_FULL_IMPL} is not set, and reports it
   * for diagnostics.
   *
   * @throws ErrnoException {@link Errno#ENOTSUP} when the transport has no descriptor;
   *     such a transport must set {@link #FLAG_FULL_IMPL}
   */
  int fd(C ctx) throws IOException;

  /**
   * ei4j's addition to ei's callbacks: the address of node {@code alive@host} when this
   * transport names its peers itself, as AF_UNIX distribution does with socket files.
   * The default, empty, makes core ask EPMD on {@code host} for the port.
   */
  default Optional<SocketAddress> nodeAddress(String alive, String host) {
    return Optional.empty();
  }
}
