package io.ei4j.epmd;

import io.ei4j.epmd.EpmdException.Reason;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * One blocking client connection to EPMD with a deadline: the connect and every read
 * together must finish before the deadline, so a server that trickles bytes cannot hold
 * the caller longer than the timeout.
 *
 * <p>A {@link SocketChannel} in blocking mode is used through its socket adaptor so
 * that a registration socket can later be switched to non-blocking mode and probed for
 * EOF without a thread (see {@link #isClosedByPeer()}).
 */
final class EpmdSocket implements Closeable {
  private final SocketChannel channel;
  private final InputStream in;
  private final String where;
  private final long deadlineNanos;

  private EpmdSocket(SocketChannel channel, String where, long deadlineNanos)
      throws IOException {
    this.channel = channel;
    this.in = channel.socket().getInputStream();
    this.where = where;
    this.deadlineNanos = deadlineNanos;
  }

  /**
   * Connects to EPMD at {@code host:port}, trying each address the host resolves to
   * until one accepts, all within {@code timeoutMillis}.
   */
  static EpmdSocket connect(String host, int port, long timeoutMillis) throws EpmdException {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    String where = "EPMD at " + host + ":" + port;
    InetAddress[] addresses;
    try {
      addresses = InetAddress.getAllByName(host);
    } catch (UnknownHostException e) {
      throw new EpmdException(Reason.UNREACHABLE, where + ": unknown host", e);
    }
    IOException last = null;
    for (InetAddress address : addresses) {
      long remaining = remainingMillis(deadline);
      if (remaining <= 0) {
        break;
      }
      SocketChannel ch = null;
      try {
        ch = SocketChannel.open();
        ch.socket().setTcpNoDelay(true);
        ch.socket().connect(new InetSocketAddress(address, port), (int) remaining);
        return new EpmdSocket(ch, where, deadline);
      } catch (IOException e) {
        closeQuietly(ch);
        last = e;
      }
    }
    if (last instanceof SocketTimeoutException || last == null) {
      throw new EpmdException(
          Reason.TIMEOUT, where + ": no connection within " + timeoutMillis + " ms", last);
    }
    throw new EpmdException(
        Reason.UNREACHABLE, where + ": cannot connect: " + last.getMessage(), last);
  }

  /** "EPMD at host:port", for messages. */
  String where() {
    return where;
  }

  void write(byte[] request) throws EpmdException {
    try {
      ByteBuffer b = ByteBuffer.wrap(request);
      while (b.hasRemaining()) {
        channel.write(b);
      }
    } catch (IOException e) {
      throw new EpmdException(Reason.IO, where + ": sending the request failed: " + e, e);
    }
  }

  /** One unsigned byte of the reply; EOF is a protocol error naming {@code what}. */
  int readUnsignedByte(String what) throws EpmdException {
    byte[] b = new byte[1];
    readFully(b, 0, 1, what);
    return b[0] & 0xFF;
  }

  int readUnsignedShort(String what) throws EpmdException {
    byte[] b = new byte[2];
    readFully(b, 0, 2, what);
    return ((b[0] & 0xFF) << 8) | (b[1] & 0xFF);
  }

  int readInt(String what) throws EpmdException {
    byte[] b = new byte[4];
    readFully(b, 0, 4, what);
    return ByteBuffer.wrap(b).getInt();
  }

  /** Exactly {@code length} bytes; the caller has already capped {@code length}. */
  byte[] readBytes(int length, String what) throws EpmdException {
    byte[] b = new byte[length];
    readFully(b, 0, length, what);
    return b;
  }

  void readFully(byte[] b, int off, int len, String what) throws EpmdException {
    int done = 0;
    while (done < len) {
      int n = timedRead(b, off + done, len - done, what);
      if (n < 0) {
        throw new EpmdException(
            Reason.PROTOCOL,
            where + " closed the connection after " + done + " of " + len + " bytes of "
                + what);
      }
      done += n;
    }
  }

  /**
   * Everything up to EOF, at most {@code cap} bytes.
   *
   * @throws EpmdException {@link Reason#PROTOCOL} when the server sends more than {@code cap}
   */
  byte[] readToEof(int cap, String what) throws EpmdException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] chunk = new byte[4096];
    while (true) {
      int n = timedRead(chunk, 0, chunk.length, what);
      if (n < 0) {
        return out.toByteArray();
      }
      if (out.size() + n > cap) {
        throw new EpmdException(
            Reason.PROTOCOL, where + " sent more than " + cap + " bytes of " + what);
      }
      out.write(chunk, 0, n);
    }
  }

  private int timedRead(byte[] b, int off, int len, String what) throws EpmdException {
    long remaining = remainingMillis(deadlineNanos);
    if (remaining <= 0) {
      throw timeout(what);
    }
    try {
      channel.socket().setSoTimeout((int) Math.min(Integer.MAX_VALUE, remaining));
      return in.read(b, off, len);
    } catch (SocketTimeoutException e) {
      throw timeout(what);
    } catch (IOException e) {
      throw new EpmdException(Reason.IO, where + ": reading " + what + " failed: " + e, e);
    }
  }

  private EpmdException timeout(String what) {
    return new EpmdException(Reason.TIMEOUT, where + " did not send " + what + " in time");
  }

  /**
   * Switches the socket to non-blocking mode; after this only {@link #isClosedByPeer()}
   * and {@link #close()} may be used. For sockets that are held, not read.
   */
  void detach() throws IOException {
    channel.configureBlocking(false);
  }

  /**
   * Whether the peer has closed or reset the connection, checked without blocking. Bytes
   * the peer sends are read and dropped (EPMD sends nothing on a registration socket).
   */
  boolean isClosedByPeer() {
    ByteBuffer b = ByteBuffer.allocate(64);
    try {
      while (true) {
        b.clear();
        int n = channel.read(b);
        if (n < 0) {
          return true;
        }
        if (n == 0) {
          return false;
        }
      }
    } catch (IOException e) {
      return true;
    }
  }

  boolean isOpen() {
    return channel.isOpen();
  }

  @Override
  public void close() {
    closeQuietly(channel);
  }

  private static long remainingMillis(long deadlineNanos) {
    long nanos = deadlineNanos - System.nanoTime();
    return nanos <= 0 ? 0 : Math.max(1, nanos / 1_000_000L);
  }

  private static void closeQuietly(SocketChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // Nothing useful to do: the socket is gone either way.
      }
    }
  }
}
