package io.ei4j.samples;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Unauthenticated connections that never finish a handshake, held against one port of
 * 127.0.0.1 or one AF_UNIX socket file by one thread (non-blocking sockets on one selector) for a bounded time: a
 * bounded number of sockets, each re-opened as soon as the server closes it, at most
 * {@value #MAX_OPENS_PER_SECOND} opens a second for all of them.
 *
 * <ul>
 *   <li>{@link Kind#SILENT}: connects and sends nothing;
 *   <li>{@link Kind#DRIP}: sends the 2-byte length header of a 64-byte name message,
 *       then one byte of it every {@value #DRIP_MILLIS} ms, so it is never complete
 *       within any handshake timeout.
 * </ul>
 */
final class HandshakeAttack implements AutoCloseable {
  /** What an attacking socket does once connected. */
  enum Kind { SILENT, DRIP }

  static final int MAX_OPENS_PER_SECOND = 2_000;
  static final long DRIP_MILLIS = 500;

  private final SocketAddress target;
  private final Kind[] kinds;
  private final Selector selector;
  private final Thread thread;
  private final AtomicLong opens = new AtomicLong();
  private final AtomicLong closedByServer = new AtomicLong();
  private volatile boolean stop;

  private static final class Conn {
    final int index;
    SocketChannel ch;
    long nextDrip;
    int dripped;

    Conn(int index) {
      this.index = index;
    }
  }

  private HandshakeAttack(SocketAddress target, Kind[] kinds) throws IOException {
    this.target = target;
    this.kinds = kinds;
    this.selector = Selector.open();
    this.thread = new Thread(this::run, "handshake-attack-" + target);
    this.thread.setDaemon(true);
  }

  /** Starts {@code silent} silent and {@code drip} dripping sockets against {@code port} on 127.0.0.1. */
  static HandshakeAttack start(int port, int silent, int drip) throws IOException {
    return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), silent, drip);
  }

  /** Starts {@code silent} silent and {@code drip} dripping sockets against {@code target}, TCP or AF_UNIX. */
  static HandshakeAttack start(SocketAddress target, int silent, int drip) throws IOException {
    Kind[] kinds = new Kind[silent + drip];
    for (int i = 0; i < kinds.length; i++) {
      kinds[i] = i < silent ? Kind.SILENT : Kind.DRIP;
    }
    HandshakeAttack a = new HandshakeAttack(target, kinds);
    a.thread.start();
    return a;
  }

  /** Connections opened so far (first opens and re-opens). */
  long opens() {
    return opens.get();
  }

  /** Connections the server closed so far. */
  long closedByServer() {
    return closedByServer.get();
  }

  private void run() {
    List<Conn> conns = new ArrayList<>();
    for (int i = 0; i < kinds.length; i++) {
      conns.add(new Conn(i));
    }
    List<Conn> toOpen = new ArrayList<>(conns);
    long windowStart = System.nanoTime();
    long windowOpens = 0;
    ByteBuffer sink = ByteBuffer.allocate(4096);
    try {
      while (!stop) {
        long now = System.nanoTime();
        if (now - windowStart >= 1_000_000_000L) {
          windowStart = now;
          windowOpens = 0;
        }
        while (!toOpen.isEmpty() && windowOpens < MAX_OPENS_PER_SECOND) {
          Conn c = toOpen.remove(toOpen.size() - 1);
          try {
            open(c);
            windowOpens++;
          } catch (IOException e) {
            toOpen.add(c); // e.g. the backlog is full: try again later
            break;
          }
        }
        for (Conn c : conns) {
          if (c.ch != null && c.ch.isConnected() && kinds[c.index] == Kind.DRIP && now - c.nextDrip >= 0) {
            drip(c, now, toOpen);
          }
        }
        selector.select(50);
        for (SelectionKey k : selector.selectedKeys()) {
          Conn c = (Conn) k.attachment();
          try {
            if (k.isConnectable()) {
              c.ch.finishConnect();
              k.interestOps(SelectionKey.OP_READ);
              c.nextDrip = System.nanoTime();
            } else if (k.isReadable()) {
              sink.clear();
              if (c.ch.read(sink) < 0) {
                closedByServer.incrementAndGet();
                reopenLater(c, k, toOpen);
              }
            }
          } catch (IOException e) {
            closedByServer.incrementAndGet();
            reopenLater(c, k, toOpen);
          }
        }
        selector.selectedKeys().clear();
      }
    } catch (IOException | RuntimeException e) {
      System.err.println("handshake attack stopped: " + e);
    } finally {
      for (Conn c : conns) {
        closeQuietly(c.ch);
      }
      try {
        selector.close();
      } catch (IOException ignored) {
        // the test is over
      }
    }
  }

  private void open(Conn c) throws IOException {
    SocketChannel ch = target instanceof UnixDomainSocketAddress
        ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
    ch.configureBlocking(false);
    c.ch = ch;
    c.dripped = 0;
    opens.incrementAndGet();
    if (ch.connect(target)) {
      ch.register(selector, SelectionKey.OP_READ, c);
      c.nextDrip = System.nanoTime();
    } else {
      ch.register(selector, SelectionKey.OP_CONNECT, c);
    }
  }

  /** Sends the next byte of a 64-byte name message that is never completed. */
  private void drip(Conn c, long now, List<Conn> toOpen) {
    byte b = switch (c.dripped) {
      case 0 -> 0; // length, high byte
      case 1 -> 64; // length, low byte
      case 2 -> 'N';
      default -> 0;
    };
    try {
      if (c.dripped < 2 + 63) {
        c.ch.write(ByteBuffer.wrap(new byte[] {b}));
        c.dripped++;
      }
      c.nextDrip = now + DRIP_MILLIS * 1_000_000L;
    } catch (IOException e) {
      closedByServer.incrementAndGet();
      SelectionKey k = c.ch.keyFor(selector);
      reopenLater(c, k, toOpen);
    }
  }

  private static void reopenLater(Conn c, SelectionKey k, List<Conn> toOpen) {
    if (k != null) {
      k.cancel();
    }
    closeQuietly(c.ch);
    c.ch = null;
    toOpen.add(c);
  }

  private static void closeQuietly(SocketChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // already gone
      }
    }
  }

  @Override
  public void close() {
    stop = true;
    selector.wakeup();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
