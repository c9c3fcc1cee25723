package io.ei4j.conformance;

import io.ei4j.api.Accepted;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import io.ei4j.internal.dist.Deadline;
import io.ei4j.internal.dist.DistFlags;
import io.ei4j.internal.dist.Handshake;
import io.ei4j.internal.dist.SocketIo;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A fake distribution peer on a real socket of any transport, scripted byte by byte, for
 * the handshake's edge cases (a peer that stalls, never acknowledges, stops reading):
 * what a real Erlang node cannot be made to do on cue. Handshake messages use the
 * transport's header size.
 *
 * @param <C> the transport's context type
 */
public final class ScriptedPeer<C> implements AutoCloseable {
  private final SocketCallbacks<C> cb;
  private final C listenCtx;
  private final SocketAddress address;
  private SocketIo<C> conn;

  private ScriptedPeer(SocketCallbacks<C> cb, C listenCtx, SocketAddress address) {
    this.cb = cb;
    this.listenCtx = listenCtx;
    this.address = address;
  }

  /** Listens on {@code where} with {@code backlog}. */
  public static <C> ScriptedPeer<C> listen(SocketCallbacks<C> cb, Object setupContext, SocketAddress where, int backlog) throws IOException {
    C ctx = cb.socket(setupContext);
    try {
      return new ScriptedPeer<>(cb, ctx, cb.listen(ctx, where, backlog));
    } catch (IOException | RuntimeException e) {
      cb.close(ctx);
      throw e;
    }
  }

  /** Connects to {@code where} as a client, for scripts that play the initiator. */
  public static <C> ScriptedPeer<C> connect(SocketCallbacks<C> cb, Object setupContext, SocketAddress where) throws IOException {
    return connectWithin(cb, setupContext, where, 10_000);
  }

  /** {@link #connect} with a timeout on the connect. */
  public static <C> ScriptedPeer<C> connectWithin(SocketCallbacks<C> cb, Object setupContext, SocketAddress where, long timeoutMillis) throws IOException {
    C ctx = cb.socket(setupContext);
    ScriptedPeer<C> p = new ScriptedPeer<>(cb, null, where);
    long end = System.nanoTime() + timeoutMillis * 1_000_000L;
    try {
      while (true) {
        try {
          cb.connect(ctx, where, timeoutMillis);
          break;
        } catch (ErrnoException e) {
          // A transport without FULL_IMPL may connect without blocking, as connect(2) does.
          if (e.errno() == Errno.EISCONN) {
            break;
          }
          if (e.errno() != Errno.EINPROGRESS && e.errno() != Errno.EALREADY) {
            throw e;
          }
          if (System.nanoTime() - end > 0) {
            throw new ErrnoException(Errno.ETIMEDOUT, "scripted peer: connect to " + where + " still in progress after " + timeoutMillis + " ms");
          }
          Thread.sleep(5);
        }
      }
    } catch (IOException | RuntimeException e) {
      cb.close(ctx);
      throw e;
    } catch (InterruptedException e) {
      cb.close(ctx);
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while connecting");
    }
    p.conn = new SocketIo<>(cb, ctx, null);
    return p;
  }

  public SocketAddress address() {
    return address;
  }

  /** Accepts the next connection (within 10 s). */
  public ScriptedPeer<C> accept() throws IOException {
    Accepted<C> a = cb.accept(listenCtx, 10_000);
    conn = new SocketIo<>(cb, a.context(), null);
    return this;
  }

  /** Reads one handshake message and returns its body. */
  public byte[] readHandshakeMessage() throws IOException {
    int hs = conn.handshakeHeaderSize();
    ByteBuffer h = ByteBuffer.allocate(hs);
    conn.readFully(h, Deadline.after(10_000), "scripted peer reading a header");
    h.flip();
    int len = hs == 2 ? h.getShort() & 0xffff : h.getInt();
    ByteBuffer b = ByteBuffer.allocate(len);
    conn.readFully(b, Deadline.after(10_000), "scripted peer reading a message");
    return b.array();
  }

  /** Writes one handshake message with the transport's header. */
  public void writeHandshakeMessage(byte[] body) throws IOException {
    int hs = conn.handshakeHeaderSize();
    ByteBuffer h = ByteBuffer.allocate(hs);
    if (hs == 2) {
      h.putShort((short) body.length);
    } else {
      h.putInt(body.length);
    }
    h.flip();
    conn.writeFully(new ByteBuffer[] {h, ByteBuffer.wrap(body)}, Deadline.after(10_000), "scripted peer writing");
  }

  /** Reads exactly {@code n} bytes as they are (within 10 s). */
  public byte[] readRaw(int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    conn.readFully(b, Deadline.after(10_000), "scripted peer reading raw bytes");
    return b.array();
  }

  /** Writes bytes as they are, without a header. */
  public void writeRaw(byte[] bytes) throws IOException {
    conn.writeFully(ByteBuffer.wrap(bytes), Deadline.after(10_000), "scripted peer writing raw bytes");
  }

  /** Sends the status {@code s}. */
  public void sendStatus(String status) throws IOException {
    byte[] s = status.getBytes(StandardCharsets.US_ASCII);
    byte[] m = new byte[s.length + 1];
    m[0] = 's';
    System.arraycopy(s, 0, m, 1, s.length);
    writeHandshakeMessage(m);
  }

  /** Sends a version 6 challenge {@code 'N'} with the advertised flags. */
  public void sendChallenge(String name, int challenge) throws IOException {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer m = ByteBuffer.allocate(1 + 8 + 4 + 4 + 2 + n.length);
    m.put((byte) 'N').putLong(DistFlags.ADVERTISED).putInt(challenge).putInt(7).putShort((short) n.length).put(n);
    writeHandshakeMessage(m.array());
  }

  /** Runs a complete, correct acceptor handshake with {@code cookie}. */
  public Handshake.Result acceptHandshake(String name, String cookie) throws IOException {
    return new Handshake(conn, name, DistFlags.ADVERTISED, 7, cookie.getBytes(StandardCharsets.ISO_8859_1), Deadline.after(10_000)).accept();
  }

  /** {@link #acceptHandshake} with {@code beforeAck} run before the acknowledgement goes out. */
  public Handshake.Result acceptHandshake(String name, String cookie, Handshake.BeforeAck beforeAck) throws IOException {
    return new Handshake(conn, name, DistFlags.ADVERTISED, 7, cookie.getBytes(StandardCharsets.ISO_8859_1), Deadline.after(10_000))
        .beforeAck(beforeAck).accept();
  }

  /** Runs a complete, correct initiator handshake with {@code cookie}. */
  public Handshake.Result initiateHandshake(String name, String cookie) throws IOException {
    return new Handshake(conn, name, DistFlags.ADVERTISED, 7, cookie.getBytes(StandardCharsets.ISO_8859_1), Deadline.after(10_000)).initiate(null);
  }

  @Override
  public void close() {
    if (conn != null) {
      conn.close();
    }
    if (listenCtx != null) {
      try {
        cb.close(listenCtx);
      } catch (IOException | RuntimeException ignored) {
        // closing twice is harmless
      }
    }
  }
}
