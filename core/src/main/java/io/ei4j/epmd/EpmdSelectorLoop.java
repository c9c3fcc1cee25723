package io.ei4j.epmd;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sockets of an {@link EmbeddedEpmd}: one thread running a {@link Selector} over the
 * listening socket and every connection, non-blocking. It accepts (up to the connection
 * cap), reads one length-prefixed request per connection (capped at
 * {@link EpmdWire#MAX_REQUEST_BODY} before allocating), hands the whole request to the
 * {@link EpmdRequestHandler}, writes the reply, and closes or keeps the connection as the
 * handler decided. It enforces the request timeout and watches registration connections
 * for the EOF or stray byte that ends them.
 *
 * <p>All fields except {@link #closed} are confined to the loop thread.
 */
final class EpmdSelectorLoop implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedEpmd.class);

  private static final long ACCEPT_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final ServerSocketChannel server;
  private final Selector selector;
  private final SelectionKey serverKey;
  private final int port;
  private final int maxConnections;
  private final long requestTimeoutNanos;
  private final EpmdRequestHandler handler;

  private volatile boolean closed;

  private final Set<Connection> connections = new HashSet<>();
  private long connectionCounter;
  /** When accepting was paused after a failed accept, or 0. */
  private long acceptPausedAt;

  /**
   * Binds the listening socket; {@link #run()} then serves it.
   *
   * @param bind the address, null for all interfaces
   * @throws IOException when the address cannot be bound
   */
  EpmdSelectorLoop(InetAddress bind, int port, int maxConnections, long requestTimeoutNanos,
      EpmdRequestHandler handler) throws IOException {
    this.maxConnections = maxConnections;
    this.requestTimeoutNanos = requestTimeoutNanos;
    this.handler = handler;
    ServerSocketChannel ssc = ServerSocketChannel.open();
    Selector sel = null;
    SelectionKey key;
    try {
      ssc.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      InetSocketAddress address =
          bind == null ? new InetSocketAddress(port) : new InetSocketAddress(bind, port);
      ssc.bind(address, 128);
      ssc.configureBlocking(false);
      sel = Selector.open();
      key = ssc.register(sel, SelectionKey.OP_ACCEPT);
    } catch (IOException | RuntimeException e) {
      ssc.close();
      if (sel != null) {
        sel.close();
      }
      throw e;
    }
    this.server = ssc;
    this.selector = sel;
    this.serverKey = key;
    this.port = ((InetSocketAddress) ssc.getLocalAddress()).getPort();
  }

  /** The bound port. */
  int port() {
    return port;
  }

  boolean isClosed() {
    return closed;
  }

  /** Asks the loop to stop; it closes every connection and the listening socket. */
  void stop() {
    closed = true;
    selector.wakeup();
  }

  @Override
  public void run() {
    try {
      long timeoutMillis = TimeUnit.NANOSECONDS.toMillis(requestTimeoutNanos);
      // Wake often enough to time out slow clients with a quarter of the timeout's slack.
      long tick = Math.max(10, Math.min(1000, timeoutMillis / 4));
      while (!closed) {
        selector.select(acceptPausedAt != 0 ? Math.min(tick, 100) : tick);
        Iterator<SelectionKey> it = selector.selectedKeys().iterator();
        while (it.hasNext()) {
          SelectionKey key = it.next();
          it.remove();
          if (!key.isValid()) {
            continue;
          }
          if (key.channel() == server) {
            acceptAll();
          } else {
            Connection c = (Connection) key.attachment();
            try {
              if (key.isReadable()) {
                c.onReadable();
              }
              if (key.isValid() && key.isWritable()) {
                c.flush();
              }
            } catch (IOException e) {
              log.debug("embedded EPMD {}: connection {} failed: {}", port, c.id, e.toString());
              c.close();
            } catch (RuntimeException e) {
              log.warn("embedded EPMD {}: unexpected failure on connection {}", port, c.id, e);
              c.close();
            }
          }
        }
        expireSlowClients();
      }
    } catch (IOException | ClosedSelectorException e) {
      if (!closed) {
        log.error("embedded EPMD {} stopped: {}", port, e.toString(), e);
      }
    } finally {
      closed = true;
      for (Connection c : new ArrayList<>(connections)) {
        c.close();
      }
      closeQuietly(server);
      closeQuietly(selector);
      handler.serverStopped();
      log.debug("embedded EPMD {} closed", port);
    }
  }

  private void acceptAll() {
    while (true) {
      SocketChannel ch;
      try {
        ch = server.accept();
      } catch (IOException e) {
        // Typically out of file descriptors. Stop accepting for a moment rather than spin
        // on a listening socket that stays ready; clients wait in the backlog meanwhile.
        log.warn("embedded EPMD {}: accept failed, pausing accepts: {}", port, e.toString());
        serverKey.interestOps(0);
        acceptPausedAt = System.nanoTime();
        return;
      }
      if (ch == null) {
        return;
      }
      if (connections.size() >= maxConnections) {
        log.debug("embedded EPMD {}: {} connections open, refusing one more", port,
            connections.size());
        closeQuietly(ch);
        continue;
      }
      try {
        ch.configureBlocking(false);
        Connection c = new Connection(ch, ++connectionCounter);
        c.key = ch.register(selector, SelectionKey.OP_READ, c);
        connections.add(c);
      } catch (IOException e) {
        closeQuietly(ch);
      }
    }
  }

  private void expireSlowClients() {
    long now = System.nanoTime();
    if (acceptPausedAt != 0 && now - acceptPausedAt > ACCEPT_PAUSE_NANOS) {
      acceptPausedAt = 0;
      serverKey.interestOps(SelectionKey.OP_ACCEPT);
    }
    for (Connection c : new ArrayList<>(connections)) {
      if (c.registration == null && now - c.openedAt > requestTimeoutNanos) {
        log.debug("embedded EPMD {}: connection {} timed out", port, c.id);
        c.close();
      }
    }
  }

  /**
   * epmd's test for a client on this machine: a loopback peer, or a peer whose address
   * is the address the connection arrived on.
   */
  static boolean isLocalPeer(InetAddress remote, InetAddress local) {
    return remote.isLoopbackAddress() || remote.equals(local);
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // Closing during shutdown or after a failure: nothing left to do.
    }
  }

  /** One client connection: reads one request, answers it, and closes or registers. */
  private final class Connection {
    final SocketChannel ch;
    final long id;
    final long openedAt = System.nanoTime();
    SelectionKey key;
    final ByteBuffer header = ByteBuffer.allocate(2);
    ByteBuffer body;
    ByteBuffer out;
    boolean requestDone;
    boolean stopAfterFlush;
    /** The registration this connection holds, or null. */
    EpmdRegistry.Entry registration;

    Connection(SocketChannel ch, long id) {
      this.ch = ch;
      this.id = id;
    }

    void onReadable() throws IOException {
      if (registration != null || requestDone) {
        // A registration socket must stay silent (epmd unregisters on any byte), and one
        // connection carries one request.
        ByteBuffer sink = ByteBuffer.allocate(64);
        int n = ch.read(sink);
        if (n != 0) {
          if (registration != null) {
            log.debug("embedded EPMD {}: registration of '{}' ended ({})", port,
                registration.name, n < 0 ? "closed" : "unexpected data");
          }
          close();
        }
        return;
      }
      if (header.hasRemaining()) {
        if (ch.read(header) < 0) {
          close();
          return;
        }
        if (header.hasRemaining()) {
          return;
        }
        int length = header.getShort(0) & 0xFFFF;
        if (length < 1 || length > EpmdWire.MAX_REQUEST_BODY) {
          drop("request length " + length + " outside 1.." + EpmdWire.MAX_REQUEST_BODY);
          return;
        }
        body = ByteBuffer.allocate(length);
      }
      if (ch.read(body) < 0) {
        close();
        return;
      }
      if (!body.hasRemaining()) {
        requestDone = true;
        carryOut(handler.handle(body.array(), this::isLocal, id));
      }
    }

    private void carryOut(EpmdRequestHandler.Outcome outcome) throws IOException {
      switch (outcome.action()) {
        case DROP -> drop(outcome.reason());
        case REPLY_AND_KEEP -> {
          registration = outcome.registered();
          reply(outcome.reply(), true);
        }
        case REPLY_AND_STOP -> {
          stopAfterFlush = true;
          reply(outcome.reply(), false);
        }
        case REPLY_AND_CLOSE -> reply(outcome.reply(), false);
        default -> throw new AssertionError(outcome.action());
      }
    }

    void reply(byte[] bytes, boolean keep) throws IOException {
      out = ByteBuffer.wrap(bytes);
      if (!keep) {
        // Nothing more to read; the connection closes once the answer is out.
        key.interestOps(0);
      }
      flush();
    }

    void flush() throws IOException {
      if (out != null) {
        ch.write(out);
        if (out.hasRemaining()) {
          key.interestOps(key.interestOps() | SelectionKey.OP_WRITE);
          return;
        }
        out = null;
      }
      if (registration != null) {
        key.interestOps(SelectionKey.OP_READ);
        return;
      }
      close();
      if (stopAfterFlush) {
        log.info("embedded EPMD {} killed by KILL_REQ", port);
        closed = true;
      }
    }

    void drop(String why) {
      log.debug("embedded EPMD {}: connection {} rejected: {}", port, id, why);
      close();
    }

    void close() {
      if (!connections.remove(this)) {
        return;
      }
      if (key != null) {
        key.cancel();
      }
      closeQuietly(ch);
      if (registration != null) {
        handler.release(registration);
        registration = null;
      }
    }

    boolean isLocal() {
      try {
        InetSocketAddress remote = (InetSocketAddress) ch.getRemoteAddress();
        InetSocketAddress local = (InetSocketAddress) ch.getLocalAddress();
        return remote != null
            && local != null
            && isLocalPeer(remote.getAddress(), local.getAddress());
      } catch (IOException e) {
        return false;
      }
    }
  }
}
