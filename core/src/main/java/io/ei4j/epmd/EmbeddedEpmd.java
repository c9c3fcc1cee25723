package io.ei4j.epmd;

import java.io.ByteArrayOutputStream;
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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An EPMD server in Java, for machines where no {@code epmd} runs: real Erlang nodes
 * (started with {@code ERL_EPMD_PORT} set to {@link #port()}), ei4j nodes and
 * {@code epmd -names}-style clients use it as they would use {@code epmd}.
 *
 * <h2>Requests</h2>
 * <ul>
 *   <li>{@code ALIVE2_REQ} registers a node for as long as its connection stays open,
 *       answering {@code ALIVE2_X_RESP} ({@code 'v'}, 32-bit creation) when the node
 *       speaks distribution version 6 or later and {@code ALIVE2_RESP} ({@code 'y'},
 *       creation 1..3) otherwise. Creations are assigned as {@code epmd} does: a new name
 *       starts from the current time in seconds, a name registered again gets the next
 *       value (never below 4). A taken or invalid name gets result 1.</li>
 *   <li>{@code PORT_PLEASE2_REQ}, {@code NAMES_REQ} and {@code DUMP_REQ} are answered
 *       in {@code epmd}'s formats. DUMP's {@code fd} is a connection number.</li>
 *   <li>{@code KILL_REQ} is answered {@code "NO"} unless {@link #allowKill(boolean)} is
 *       on, in which case the answer is {@code "OK"} and the server closes, dropping every
 *       registration.</li>
 *   <li>{@code STOP_REQ} (forced unregistration) is always refused: the connection is
 *       closed without an answer, as {@code epmd} does without
 *       {@code -relaxed_command_check}.</li>
 * </ul>
 * As in {@code epmd}, {@code ALIVE2_REQ}, {@code DUMP_REQ}, {@code KILL_REQ} and
 * {@code STOP_REQ} are only accepted from this machine (a loopback address or the
 * server's own address); from elsewhere the connection is closed without an answer.
 *
 * <h2>Hostile input</h2>
 * A request longer than the largest valid one (2053 bytes), a length field that points
 * outside its request, a name that is not 1..255 characters of UTF-8 without NUL, an
 * unknown request tag, a second request on one connection or data on a registration
 * connection each close that connection (and end the registration) and affect no other
 * client. A connection that has not sent a whole request, or not read its whole answer,
 * within the request timeout (default 10 s) is closed. At most
 * {@link Builder#maxConnections(int)} connections (default 1024) are open at a time; one
 * more is accepted and closed at once.
 *
 * <h2>Threads</h2>
 * One daemon thread ({@code ei4j-epmd-PORT}) runs a {@link Selector} loop over the
 * listening socket and every connection, non-blocking; it owns all state. Nothing ever
 * blocks that thread on a client, so a slow or silent client cannot delay others, and
 * the thread count does not grow with clients. {@link #registered()},
 * {@link #allowKill(boolean)}, {@link #isOpen()} and {@link #close()} may be called from
 * any thread.
 */
public final class EmbeddedEpmd implements AutoCloseable {
  /** Default limit of simultaneously open connections, registrations included. */
  public static final int DEFAULT_MAX_CONNECTIONS = 1024;

  /** Default time a client has to send its request and read the answer. */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);

  /** How many released names keep their creation counter, as epmd's MAX_UNREG_COUNT. */
  static final int MAX_UNREGISTERED = 1000;

  private static final long ACCEPT_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private static final Logger log = LoggerFactory.getLogger(EmbeddedEpmd.class);

  private final ServerSocketChannel server;
  private final Selector selector;
  private final int port;
  private final int maxConnections;
  private final long requestTimeoutNanos;
  private final Thread thread;

  private volatile boolean allowKill;
  private volatile boolean closed;
  private volatile List<NodeInfo> snapshot = List.of();

  // Owned by the loop thread.
  private final Set<Conn> connections = new HashSet<>();
  /** Registered nodes by name, oldest first. */
  private final Map<String, Node> registry = new LinkedHashMap<>();
  /** Released names, oldest first, with what DUMP shows and the creation counter. */
  private final LinkedHashMap<String, Node> released =
      new LinkedHashMap<>() {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Node> eldest) {
          return size() > MAX_UNREGISTERED;
        }
      };
  private long connectionCounter;
  private SelectionKey serverKey;
  /** When accepting was paused after a failed accept, or 0. */
  private long acceptPausedAt;

  private EmbeddedEpmd(Builder b) throws IOException {
    this.maxConnections = b.maxConnections;
    this.requestTimeoutNanos = b.requestTimeout.toNanos();
    this.allowKill = b.allowKill;
    ServerSocketChannel ssc = ServerSocketChannel.open();
    Selector sel = null;
    try {
      ssc.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      InetSocketAddress address =
          b.bind == null ? new InetSocketAddress(b.port) : new InetSocketAddress(b.bind, b.port);
      ssc.bind(address, 128);
      ssc.configureBlocking(false);
      sel = Selector.open();
      serverKey = ssc.register(sel, SelectionKey.OP_ACCEPT);
    } catch (IOException | RuntimeException e) {
      ssc.close();
      if (sel != null) {
        sel.close();
      }
      throw e;
    }
    this.server = ssc;
    this.selector = sel;
    this.port = ((InetSocketAddress) ssc.getLocalAddress()).getPort();
    this.thread = new Thread(this::loop, "ei4j-epmd-" + port);
    thread.setDaemon(true);
  }

  /**
   * Starts an EPMD with the default limits, listening on {@code bind:port}.
   *
   * @param bind the address to listen on; null for all interfaces. Erlang nodes register
   *     through {@code 127.0.0.1}, so a loopback address suits nodes on this machine.
   * @param port the TCP port, 0 for an ephemeral one (see {@link #port()})
   * @return the running server
   * @throws IOException when the port cannot be bound (for example, an {@code epmd}
   *     already listens there)
   */
  public static EmbeddedEpmd start(InetAddress bind, int port) throws IOException {
    return builder().bind(bind).port(port).start();
  }

  /**
   * Options for an embedded EPMD; {@link Builder#start()} starts it.
   *
   * @return a builder with the defaults: all interfaces, port 4369, 1024 connections,
   *     10 s request timeout, KILL refused
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The port this EPMD listens on.
   *
   * @return the bound port; the ephemeral one chosen when 0 was asked for
   */
  public int port() {
    return port;
  }

  /**
   * Whether a {@code KILL_REQ} from this machine shuts this EPMD down (answered
   * {@code "OK"}); when off (the default) it is answered {@code "NO"}.
   *
   * @param allow whether to obey {@code KILL_REQ}
   * @return this
   */
  public EmbeddedEpmd allowKill(boolean allow) {
    this.allowKill = allow;
    return this;
  }

  /**
   * Whether the server still runs.
   *
   * <p>True until the server thread has closed every connection and the listening socket;
   * once it is false, a connection to the port is refused rather than accepted and dropped.
   *
   * @return false once {@link #close()} returned or a permitted {@code KILL_REQ} shut the
   *     server down
   */
  public boolean isOpen() {
    return thread.isAlive();
  }

  /**
   * The registered nodes, newest first as {@code NAMES} lists them: a snapshot, updated
   * by the server thread after each registration and each release.
   *
   * @return an unmodifiable list; names-only fields are filled as the node registered
   */
  public List<NodeInfo> registered() {
    return snapshot;
  }

  /**
   * Stops listening, closes every connection (which ends every registration) and waits
   * up to 5 s for the server thread. Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    selector.wakeup();
    if (Thread.currentThread() != thread) {
      try {
        thread.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public String toString() {
    return "EmbeddedEpmd[port " + port + (closed ? ", closed" : "") + "]";
  }

  // ---------------------------------------------------------------------------------------
  // The loop thread.

  private void loop() {
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
            Conn c = (Conn) key.attachment();
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
      for (Conn c : new ArrayList<>(connections)) {
        c.close();
      }
      closeQuietly(server);
      closeQuietly(selector);
      snapshot = List.of();
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
        Conn c = new Conn(ch, ++connectionCounter);
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
    for (Conn c : new ArrayList<>(connections)) {
      if (c.node == null && now - c.openedAt > requestTimeoutNanos) {
        log.debug("embedded EPMD {}: connection {} timed out", port, c.id);
        c.close();
      }
    }
  }

  /** One client connection: reads one request, answers it, and closes or registers. */
  private final class Conn {
    final SocketChannel ch;
    final long id;
    final long openedAt = System.nanoTime();
    SelectionKey key;
    final ByteBuffer header = ByteBuffer.allocate(2);
    ByteBuffer body;
    ByteBuffer out;
    boolean requestDone;
    boolean killAfterFlush;
    Node node;

    Conn(SocketChannel ch, long id) {
      this.ch = ch;
      this.id = id;
    }

    void onReadable() throws IOException {
      if (node != null || requestDone) {
        // A registration socket must stay silent (epmd unregisters on any byte), and one
        // connection carries one request.
        ByteBuffer sink = ByteBuffer.allocate(64);
        int n = ch.read(sink);
        if (n != 0) {
          if (node != null) {
            log.debug("embedded EPMD {}: registration of '{}' ended ({})", port, node.name,
                n < 0 ? "closed" : "unexpected data");
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
          reject("request length " + length + " outside 1.." + EpmdWire.MAX_REQUEST_BODY);
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
        handle(body.array());
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
      if (node != null) {
        key.interestOps(SelectionKey.OP_READ);
        return;
      }
      close();
      if (killAfterFlush) {
        log.info("embedded EPMD {} killed by KILL_REQ", port);
        closed = true;
      }
    }

    void reject(String why) {
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
      if (node != null) {
        release(node);
        node = null;
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

    void handle(byte[] req) throws IOException {
      int tag = req[0] & 0xFF;
      switch (tag) {
        case EpmdWire.ALIVE2_REQ -> alive2(req);
        case EpmdWire.PORT_PLEASE2_REQ -> portPlease2(req);
        case EpmdWire.NAMES_REQ -> reply(names(), false);
        case EpmdWire.DUMP_REQ -> {
          if (localOnly("DUMP_REQ")) {
            reply(dump(), false);
          }
        }
        case EpmdWire.KILL_REQ -> {
          if (localOnly("KILL_REQ")) {
            if (allowKill) {
              killAfterFlush = true;
              reply("OK".getBytes(StandardCharsets.US_ASCII), false);
            } else {
              log.debug("embedded EPMD {}: KILL_REQ refused", port);
              reply("NO".getBytes(StandardCharsets.US_ASCII), false);
            }
          }
        }
        case EpmdWire.STOP_REQ -> reject("STOP_REQ is not allowed");
        default -> reject("unknown request " + EpmdWire.describeByte(tag));
      }
    }

    boolean localOnly(String what) {
      if (isLocal()) {
        return true;
      }
      reject(what + " from a remote address");
      return false;
    }

    /**
     * <pre>
     * 'x' port:16 nodeType:8 protocol:8 high:16 low:16 nlen:16 name elen:16 extra
     *  0   1       3          4          5       7      9       11   11+nlen  13+nlen
     * </pre>
     */
    void alive2(byte[] req) throws IOException {
      if (!localOnly("ALIVE2_REQ")) {
        return;
      }
      int size = req.length;
      if (size <= 13) {
        reject("ALIVE2_REQ of " + size + " bytes is too short");
        return;
      }
      ByteBuffer b = ByteBuffer.wrap(req);
      int nodePort = b.getShort(1) & 0xFFFF;
      int nodeType = req[3] & 0xFF;
      int protocol = req[4] & 0xFF;
      int high = b.getShort(5) & 0xFFFF;
      int low = b.getShort(7) & 0xFFFF;
      int nlen = b.getShort(9) & 0xFFFF;
      if (nlen + 13 > size) {
        reject("ALIVE2_REQ name length " + nlen + " exceeds the request");
        return;
      }
      int elen = b.getShort(11 + nlen) & 0xFFFF;
      if (elen + nlen + 13 > size) {
        reject("ALIVE2_REQ extra length " + elen + " exceeds the request");
        return;
      }
      for (int i = 11; i < 11 + nlen; i++) {
        if (req[i] == 0) {
          reject("ALIVE2_REQ name contains NUL");
          return;
        }
      }
      String name = validName(req, 11, nlen);
      byte[] extra = new byte[elen];
      System.arraycopy(req, 13 + nlen, extra, 0, elen);
      Node n = null;
      if (name == null) {
        log.debug("embedded EPMD {}: ALIVE2_REQ with an invalid name", port);
      } else if (registry.containsKey(name)) {
        log.debug("embedded EPMD {}: name '{}' is already registered", port, name);
      } else {
        n = register(name, nodePort, nodeType, protocol, high, low, extra);
      }
      boolean extended = high >= 6;
      ByteBuffer r = ByteBuffer.allocate(extended ? 6 : 4);
      r.put((byte) (extended ? EpmdWire.ALIVE2_X_RESP : EpmdWire.ALIVE2_RESP));
      r.put((byte) (n == null ? 1 : 0));
      long creation = n == null ? 99 : extended ? n.counter : n.counter % 3 + 1;
      if (extended) {
        r.putInt((int) creation);
      } else {
        r.putShort((short) creation);
      }
      if (n != null) {
        node = n;
        n.conn = this;
      }
      reply(r.array(), n != null);
    }

    void portPlease2(byte[] req) throws IOException {
      int size = req.length;
      if (size > 1 && req[size - 1] == 0) {
        size--; // a NUL terminator is tolerated, as by epmd
      }
      for (int i = 1; i < size; i++) {
        if (req[i] == 0) {
          reject("PORT_PLEASE2_REQ name contains NUL");
          return;
        }
      }
      String name = size > 1 ? validName(req, 1, size - 1) : null;
      if (name == null) {
        reject("PORT_PLEASE2_REQ without a valid name");
        return;
      }
      Node n = registry.get(name);
      if (n == null) {
        reply(new byte[] {(byte) EpmdWire.PORT2_RESP, 1}, false);
        return;
      }
      ByteBuffer r = ByteBuffer.allocate(14 + n.nameBytes.length + n.extra.length);
      r.put((byte) EpmdWire.PORT2_RESP).put((byte) 0);
      r.putShort((short) n.port).put((byte) n.nodeType).put((byte) n.protocol);
      r.putShort((short) n.high).putShort((short) n.low);
      r.putShort((short) n.nameBytes.length).put(n.nameBytes);
      r.putShort((short) n.extra.length).put(n.extra);
      reply(r.array(), false);
    }
  }

  /** A registration, live (in {@link #registry}) or released (in {@link #released}). */
  private static final class Node {
    final String name;
    final byte[] nameBytes;
    int port;
    int nodeType;
    int protocol;
    int high;
    int low;
    byte[] extra;
    long counter; // unsigned 32 bits
    long connectionId;
    Conn conn;

    Node(String name) {
      this.name = name;
      this.nameBytes = name.getBytes(StandardCharsets.UTF_8);
    }

    NodeInfo info() {
      return new NodeInfo(name, port, nodeType, protocol, high, low, extra);
    }
  }

  private Node register(String name, int nodePort, int nodeType, int protocol, int high,
      int low, byte[] extra) {
    Node n = released.remove(name);
    if (n == null) {
      n = new Node(name);
      n.counter = (System.currentTimeMillis() / 1000) & 0xFFFF_FFFFL;
    }
    // epmd's bump: the next value, never below 4, wrapping at 32 bits.
    n.counter = (n.counter + 1) & 0xFFFF_FFFFL;
    if (n.counter < 4) {
      n.counter = 4;
    }
    n.port = nodePort;
    n.nodeType = nodeType;
    n.protocol = protocol;
    n.high = high;
    n.low = low;
    n.extra = extra;
    registry.put(name, n);
    publish();
    log.debug("embedded EPMD {}: registered '{}' at port {}, creation {}", port, name,
        nodePort, n.counter);
    return n;
  }

  private void release(Node n) {
    if (registry.remove(n.name) != n) {
      return;
    }
    n.connectionId = n.conn == null ? 0 : n.conn.id;
    n.conn = null;
    released.put(n.name, n);
    publish();
    log.debug("embedded EPMD {}: released '{}'", port, n.name);
  }

  private void publish() {
    List<NodeInfo> list = new ArrayList<>(registry.size());
    for (Node n : registry.values()) {
      list.add(n.info());
    }
    Collections.reverse(list);
    snapshot = Collections.unmodifiableList(list);
  }

  private byte[] names() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeInt(out, port);
    List<Node> nodes = new ArrayList<>(registry.values());
    Collections.reverse(nodes);
    for (Node n : nodes) {
      out.writeBytes(("name " + n.name + " at port " + n.port + "\n")
          .getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  /** DUMP lines, each NUL-terminated as epmd sends them. */
  private byte[] dump() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeInt(out, port);
    List<Node> nodes = new ArrayList<>(registry.values());
    Collections.reverse(nodes);
    for (Node n : nodes) {
      out.writeBytes(("active name     <" + n.name + "> at port " + n.port + ", fd = "
          + n.conn.id + "\n\0").getBytes(StandardCharsets.UTF_8));
    }
    for (Node n : released.values()) {
      out.writeBytes(("old/unused name <" + n.name + ">, port = " + n.port + ", fd = "
          + n.connectionId + " \n\0").getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  /**
   * epmd's test for a client on this machine: a loopback peer, or a peer whose address
   * is the address the connection arrived on.
   */
  static boolean isLocalPeer(InetAddress remote, InetAddress local) {
    return remote.isLoopbackAddress() || remote.equals(local);
  }

  /** The name at {@code off}, or null unless it is 1..255 characters of valid UTF-8. */
  private static String validName(byte[] b, int off, int len) {
    if (len < 1 || len > EpmdWire.MAX_NAME_BYTES) {
      return null;
    }
    String s = EpmdWire.decodeUtf8(b, off, len);
    if (s == null || s.codePointCount(0, s.length()) > EpmdWire.MAX_NAME_CHARS) {
      return null;
    }
    return s;
  }

  private static void writeInt(ByteArrayOutputStream out, int v) {
    out.write(v >>> 24);
    out.write(v >>> 16);
    out.write(v >>> 8);
    out.write(v);
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // Closing during shutdown or after a failure: nothing left to do.
    }
  }

  /** Options for an {@link EmbeddedEpmd}. */
  public static final class Builder {
    private InetAddress bind;
    private int port = EpmdClient.DEFAULT_PORT;
    private int maxConnections = DEFAULT_MAX_CONNECTIONS;
    private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
    private boolean allowKill;

    private Builder() {}

    /**
     * The address to listen on.
     *
     * @param address a local address, or null (the default) for all interfaces
     * @return this
     */
    public Builder bind(InetAddress address) {
      this.bind = address;
      return this;
    }

    /**
     * The port to listen on.
     *
     * @param port 0..65535, 0 for an ephemeral one; default 4369
     * @return this
     */
    public Builder port(int port) {
      if (port < 0 || port > 0xFFFF) {
        throw new IllegalArgumentException("port out of range 0..65535: " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * The most connections open at once, registrations included.
     *
     * @param max at least 1; default 1024
     * @return this
     */
    public Builder maxConnections(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxConnections must be at least 1: " + max);
      }
      this.maxConnections = max;
      return this;
    }

    /**
     * How long a client may take from connecting to having read its answer; registered
     * connections are exempt.
     *
     * @param timeout positive; default 10 s
     * @return this
     */
    public Builder requestTimeout(Duration timeout) {
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("request timeout must be positive: " + timeout);
      }
      this.requestTimeout = timeout;
      return this;
    }

    /**
     * Whether {@code KILL_REQ} shuts the server down; see
     * {@link EmbeddedEpmd#allowKill(boolean)}.
     *
     * @param allow default false
     * @return this
     */
    public Builder allowKill(boolean allow) {
      this.allowKill = allow;
      return this;
    }

    /**
     * Binds the port and starts the server thread.
     *
     * @return the running server
     * @throws IOException when the address cannot be bound
     */
    public EmbeddedEpmd start() throws IOException {
      EmbeddedEpmd epmd = new EmbeddedEpmd(this);
      epmd.thread.start();
      log.debug("embedded EPMD listening on port {}", epmd.port);
      return epmd;
    }
  }
}
