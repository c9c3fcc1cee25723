package io.ei4j.fuzz;

import io.ei4j.api.Accepted;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A {@code FULL_IMPL} transport whose sockets are byte scripts in memory, so that the
 * fuzzers can push millions of inputs through core's real reading code (handshake,
 * frames) without a kernel socket per input.
 *
 * <p>A {@link Conn} hands core the bytes of its script and then end of stream; it never
 * blocks. What core writes is collected, and an optional responder sees every write and
 * may append to the script (a scripted peer that answers a challenge, say). Connections
 * queued with {@link #offer} are what {@link #accept} returns. Public for the tests of
 * other packages that drive core's reading code over a script.
 */
public final class MemoryTransport implements SocketCallbacks<MemoryTransport.Conn> {
  static final SocketAddress ADDRESS = new InetSocketAddress(InetAddress.getLoopbackAddress(), 1);

  private final int headerSize;
  private final BlockingQueue<Conn> pending = new LinkedBlockingQueue<>();

  public MemoryTransport(int headerSize) {
    this.headerSize = headerSize;
  }

  /** One scripted socket. */
  public static final class Conn {
    private final ByteArrayOutputStream written = new ByteArrayOutputStream();
    private ByteBuffer script = ByteBuffer.allocate(0);
    private Consumer<Conn> responder;
    private boolean closed;

    public Conn(byte[] script) {
      append(script);
    }

    /** Called after every write core makes, under this connection's lock. */
    public synchronized Conn responder(Consumer<Conn> r) {
      this.responder = r;
      return this;
    }

    /** Adds bytes for core to read after those already scripted. */
    synchronized void append(byte[] more) {
      ByteBuffer b = ByteBuffer.allocate(script.remaining() + more.length);
      b.put(script).put(more).flip();
      script = b;
    }

    /** Everything core wrote so far. */
    synchronized byte[] written() {
      return written.toByteArray();
    }

    synchronized boolean isClosed() {
      return closed;
    }

    synchronized int read(ByteBuffer into) throws ErrnoException {
      if (closed) {
        throw new ErrnoException(Errno.EBADF, "memory socket closed");
      }
      if (!script.hasRemaining()) {
        return -1;
      }
      int n = Math.min(into.remaining(), script.remaining());
      ByteBuffer slice = script.slice();
      slice.limit(n);
      into.put(slice);
      script.position(script.position() + n);
      return n;
    }

    synchronized int write(ByteBuffer from) throws ErrnoException {
      if (closed) {
        throw new ErrnoException(Errno.EBADF, "memory socket closed");
      }
      int n = from.remaining();
      byte[] b = new byte[n];
      from.get(b);
      written.write(b, 0, n);
      if (responder != null) {
        responder.accept(this);
      }
      return n;
    }

    synchronized void close() {
      closed = true;
    }
  }

  /** Queues {@code c} for the next {@link #accept}. */
  void offer(Conn c) {
    pending.add(c);
  }

  @Override
  public int flags() {
    return FLAG_FULL_IMPL;
  }

  @Override
  public Conn socket(Object setupContext) {
    return new Conn(new byte[0]);
  }

  @Override
  public void close(Conn ctx) {
    ctx.close();
  }

  @Override
  public SocketAddress listen(Conn ctx, SocketAddress address, int backlog) {
    return ADDRESS;
  }

  @Override
  public Accepted<Conn> accept(Conn listenCtx, long timeoutMillis) throws IOException {
    try {
      Conn c = timeoutMillis == INFINITE ? pending.take() : pending.poll(timeoutMillis, TimeUnit.MILLISECONDS);
      if (c == null) {
        throw new ErrnoException(Errno.ETIMEDOUT, "no scripted connection queued");
      }
      return new Accepted<>(c, ADDRESS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ErrnoException(Errno.EINTR, "interrupted");
    }
  }

  @Override
  public void connect(Conn ctx, SocketAddress address, long timeoutMillis) {
    // A scripted socket is connected from the start.
  }

  @Override
  public int write(Conn ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    return ctx.write(buffer);
  }

  @Override
  public int read(Conn ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    return ctx.read(buffer);
  }

  @Override
  public int handshakePacketHeaderSize(Conn ctx) {
    return headerSize;
  }

  @Override
  public int fd(Conn ctx) throws IOException {
    throw new ErrnoException(Errno.ENOTSOCK, "a memory socket has no descriptor");
  }
}
