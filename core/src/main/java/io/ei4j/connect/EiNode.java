package io.ei4j.connect;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.FdPoller;
import io.ei4j.api.SocketCallbacks;
import io.ei4j.epmd.EpmdClient;
import io.ei4j.epmd.EpmdRegistration;
import io.ei4j.epmd.NodeInfo;
import io.ei4j.internal.dist.ConnectionInternals;
import io.ei4j.internal.dist.Cookies;
import io.ei4j.internal.dist.Deadline;
import io.ei4j.internal.dist.DistFlags;
import io.ei4j.internal.dist.Handshake;
import io.ei4j.internal.dist.MessageBudget;
import io.ei4j.internal.dist.SocketIo;
import io.ei4j.internal.node.Checks;
import io.ei4j.internal.node.FailStop;
import io.ei4j.internal.node.NodeNames;
import io.ei4j.internal.node.NodeOptions;
import io.ei4j.term.DecodeLimits;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Collection;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Java C-node: the equivalent of ei's {@code ei_cnode}. It has a node name, a cookie, a
 * creation and a transport ({@link SocketCallbacks}); it listens for and makes
 * connections to Erlang nodes, publishes itself in EPMD, and makes pids and references in
 * its own name.
 *
 * <p>The node is hidden (it does not set {@code DFLAG_PUBLISHED}): Erlang lists it in
 * {@code nodes(hidden)}, not in {@code nodes()}, as it does ei and JInterface nodes. It
 * advertises the distribution flags OTP 26 requires and refuses peers without the ones
 * OTP 25 requires.
 *
 * <pre>{@code
 * try (EiNode node = EiNode.builder("java@localhost").cookie("secret")
 *         .transport(TcpTransport.create()).build();
 *      EiConnection c = node.connect("erl@localhost", 5_000)) {
 *   ErlTerm r = c.rpc("lists", "reverse", ErlList.of(ErlList.of(...)), 5_000);
 * }
 * }</pre>
 *
 * <p>Timeouts are milliseconds; {@link SocketCallbacks#INFINITE} waits for ever. A timeout
 * that runs out is an {@link ErrnoException} with {@link Errno#ETIMEDOUT}. When the
 * transport does not set {@link SocketCallbacks#FLAG_FULL_IMPL}, the node enforces the
 * timeouts itself by waiting on the transport's descriptor with an {@link FdPoller}
 * found through {@link ServiceLoader}; without one, {@link Builder#build()} fails.
 *
 * <p>Thread-safe. {@link #close()} closes every listener and connection the node made and
 * ends its EPMD registration.
 */
public final class EiNode implements AutoCloseable {
  /** Erlang's default {@code net_ticktime}: 60 seconds. */
  public static final long DEFAULT_TICK_TIME_MILLIS = NodeOptions.DEFAULT_TICK_TIME_MILLIS;
  /**
   * The default largest frame accepted from a peer: no fixed limit but the receive budget
   * ({@link Builder#receiveBudgetBytes}); this is the largest array a JVM can allocate.
   */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = NodeOptions.DEFAULT_MAX_MESSAGE_BYTES;

  private static final SecureRandom RANDOM = new SecureRandom();

  static {
    ConnectionInternals.grantBudgets((b, budget) -> b.sharedBudget = budget);
  }

  private final String alive;
  private final String host;
  private final String fullName;
  private final ErlAtom nodeAtom;
  private final InetAddress address;
  private final byte[] cookie;
  private volatile int creation;
  private final SocketCallbacks<?> callbacks;
  private final Object setupContext;
  private final EpmdClient epmd;
  private final FdPoller poller;
  private final long tickTimeMillis;
  private final long sendTimeoutMillis;
  private final int maxMessageBytes;
  private final boolean explicitMaxMessageBytes;
  private final MessageBudget budget;
  private final DecodeLimits decodeLimits;
  private final int maxQueueLength;
  private final long flags;
  private final EiConnectionHandler handler;

  private final AtomicLong pidCounter = new AtomicLong();
  private final AtomicLong refCounter = new AtomicLong();
  private final Set<EiConnection> connections = ConcurrentHashMap.newKeySet();
  private final Set<EiListener> listeners = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object();
  private ScheduledExecutorService ticker;
  private EpmdRegistration registration;
  private volatile boolean closed;
  /** Whether the close path has run (guarded by {@link #lock}). */
  private boolean shutDown;
  /** The fail-stop policy of this node's threads; see {@link #fail}. */
  private final FailStop failStop;

  private EiNode(Builder b, String alive, String host, String fullName, FdPoller poller) {
    this.alive = alive;
    this.host = host;
    this.fullName = fullName;
    this.nodeAtom = ErlAtom.of(fullName);
    this.address = b.address;
    NodeOptions o = b.options;
    this.cookie = b.cookieBytes;
    this.creation = b.creation;
    this.callbacks = o.transport();
    this.setupContext = o.setupContext();
    this.epmd = o.epmd();
    this.poller = poller;
    this.tickTimeMillis = o.tickTimeMillis();
    this.sendTimeoutMillis = o.sendTimeoutMillis();
    this.maxMessageBytes = o.maxMessageBytes();
    this.explicitMaxMessageBytes = o.explicitMaxMessageBytes();
    this.budget = b.sharedBudget != null ? b.sharedBudget : o.budget();
    this.decodeLimits = o.decodeLimits();
    this.maxQueueLength = o.maxQueueLength();
    this.flags = DistFlags.ADVERTISED | (b.distributionHeaders ? DistFlags.DIST_HEADERS : 0) | b.extraFlags;
    this.handler = b.handler;
    this.failStop = new FailStop("node " + fullName);
    this.failStop.onFailure(this::releaseFailed, c -> shutdown(true));
  }

  /** A builder for a node named {@code alive@host}. */
  public static Builder builder(String nodeName) {
    Objects.requireNonNull(nodeName, "nodeName");
    int at = NodeNames.requireValid(nodeName);
    return new Builder().alive(nodeName.substring(0, at)).host(nodeName.substring(at + 1));
  }

  /**
   * A builder whose name parts are given separately, like {@code ei_connect_xinit_ussi}:
   * {@link Builder#alive}, {@link Builder#host}, optionally {@link Builder#fullName} and
   * {@link Builder#address}.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** The full node name, {@code alive@host}. */
  public String nodeName() {
    return fullName;
  }

  /** The node name as an atom, as it appears in this node's pids and references. */
  public ErlAtom nodeAtom() {
    return nodeAtom;
  }

  /** The part of the name before {@code @}. */
  public String alive() {
    return alive;
  }

  /** The part of the name after {@code @}. */
  public String host() {
    return host;
  }

  /** The address given to the builder ({@code thisipaddr} of ei), or null. */
  public InetAddress address() {
    return address;
  }

  /**
   * The creation in this node's pids, references and handshakes; {@link #publish} replaces
   * it with the one EPMD hands out, as {@code ei_publish} does.
   */
  public int creation() {
    return creation;
  }

  /** The transport. */
  public SocketCallbacks<?> transport() {
    return callbacks;
  }

  /** The tick time ({@code net_ticktime}) of this node's connections, in milliseconds. */
  public long tickTimeMillis() {
    return tickTimeMillis;
  }

  /**
   * The distribution flags this node advertises, as sent in the handshake;
   * {@link DistFlag#fromBits} names them.
   */
  public long distributionFlags() {
    return flags;
  }

  /**
   * Listens on {@code address} (port 0: an ephemeral port, reported by
   * {@link EiListener#address()}) through the transport.
   */
  public EiListener listen(SocketAddress address, int backlog) throws IOException {
    ensureOpen();
    return listen0(callbacks, address, backlog);
  }

  private <C> EiListener listen0(SocketCallbacks<C> cb, SocketAddress address, int backlog) throws IOException {
    C ctx = cb.socket(setupContext);
    SocketIo<C> io = new SocketIo<>(cb, ctx, poller);
    try {
      SocketAddress bound = cb.listen(ctx, address, backlog);
      EiListener l = new EiListener(this, io, bound);
      listeners.add(l);
      if (closed) {
        l.close();
        throw new IllegalStateException("node " + fullName + " is closed");
      }
      return l;
    } catch (IOException | RuntimeException e) {
      io.close();
      throw e;
    }
  }

  /**
   * Registers this node in EPMD as listening on {@code port}, as a hidden node, and takes
   * the creation EPMD hands out. The registration lasts until it is closed or the node is.
   *
   * @throws io.ei4j.epmd.EpmdException when EPMD refuses (the name is taken)
   */
  public EpmdRegistration publish(int port) throws IOException {
    ensureOpen();
    synchronized (lock) {
      if (registration != null && registration.isActive()) {
        throw new IllegalStateException(fullName + " is already published on port " + registration.port());
      }
      EpmdRegistration r = epmdFor(host, EpmdClient.DEFAULT_TIMEOUT_MILLIS).register(alive, port, true);
      registration = r;
      creation = r.creation();
      return r;
    }
  }

  /**
   * Connects to the node {@code peerNodeName} ({@code alive@host}) and runs the handshake.
   * The address comes from the transport's {@link SocketCallbacks#nodeAddress} when it
   * names nodes itself, else from EPMD on the host part ({@code PORT_PLEASE2}); the
   * timeout covers the lookup, the connect and the handshake.
   *
   * @throws EiException when the node is not registered in EPMD, and the handshake
   *     failures of {@link #connect(SocketAddress, long)}
   */
  public EiConnection connect(String peerNodeName, long timeoutMillis) throws IOException {
    ensureOpen();
    Deadline deadline = Deadline.after(timeoutMillis);
    int at = NodeNames.separator(peerNodeName);
    String peerAlive = peerNodeName.substring(0, at);
    String peerHost = peerNodeName.substring(at + 1);
    Optional<SocketAddress> named = callbacks.nodeAddress(peerAlive, peerHost);
    SocketAddress target;
    if (named.isPresent()) {
      target = named.get();
    } else {
      long lookupTimeout = deadline.isInfinite() ? EpmdClient.DEFAULT_TIMEOUT_MILLIS : Math.max(1, deadline.remainingMillis());
      Optional<NodeInfo> info = epmdFor(peerHost, lookupTimeout).portPlease(peerAlive);
      if (info.isEmpty()) {
        throw new EiException("node " + peerNodeName + " is not registered in EPMD on " + peerHost);
      }
      target = new InetSocketAddress(peerHost, info.get().port());
    }
    return connect0(callbacks, target, peerNodeName, deadline);
  }

  /**
   * Connects to a node at {@code address} without asking EPMD, and runs the handshake as
   * the initiator, all within {@code timeoutMillis}.
   *
   * @throws EiAuthenticationException when the cookies differ
   * @throws EiHandshakeException when the peer refuses with a status or breaks the protocol
   * @throws ErrnoException from the transport; {@link Errno#ETIMEDOUT} when time runs out
   */
  public EiConnection connect(SocketAddress address, long timeoutMillis) throws IOException {
    ensureOpen();
    return connect0(callbacks, address, null, Deadline.after(timeoutMillis));
  }

  private <C> EiConnection connect0(SocketCallbacks<C> cb, SocketAddress address, String expectedPeer, Deadline deadline) throws IOException {
    C ctx = cb.socket(setupContext);
    SocketIo<C> io = new SocketIo<>(cb, ctx, poller);
    try {
      long tmo = deadline.remainingMillis();
      if (tmo == 0 && deadline.timeoutMillis() != 0) {
        throw deadline.timeout("connect to " + address);
      }
      try {
        if (poller == null) {
          cb.connect(ctx, address, tmo);
        } else {
          connectPolled(cb, ctx, address, deadline);
        }
      } catch (IOException e) {
        throw SocketIo.wrap(e, "connect to " + address);
      }
      Handshake.Result r = new Handshake(io, fullName, flags, creation, cookie, deadline)
          .initiate(expectedPeer, handler == null ? null : handler::replaceExisting);
      cb.connectHandshakeComplete(ctx);
      return register(new EiConnection(this, io, r));
    } catch (IOException | RuntimeException e) {
      io.close();
      throw e;
    }
  }

  /**
   * Connects through a transport without {@code FULL_IMPL}, the way ei connects without
   * blocking: a connect that reports {@link Errno#EINPROGRESS} (or {@code EALREADY},
   * {@code EAGAIN}) is waited for by polling the descriptor for writability until the
   * deadline, then completed by calling {@code connect} again, which succeeds or reports
   * {@link Errno#EISCONN} once the connection is up, as POSIX {@code connect(2)} does. A
   * transport whose {@code connect} blocks until connected needs none of this, but then
   * its connect cannot time out.
   */
  private <C> void connectPolled(SocketCallbacks<C> cb, C ctx, SocketAddress address, Deadline deadline) throws IOException {
    try {
      cb.connect(ctx, address, deadline.remainingMillis());
      return;
    } catch (ErrnoException e) {
      if (!inProgress(e.errno())) {
        throw e;
      }
    }
    int fd = cb.fd(ctx);
    while (true) {
      long left = deadline.remainingMillis();
      long slice = left == SocketCallbacks.INFINITE ? 500 : Math.min(left, 500);
      if (poller.poll(fd, FdPoller.WRITE, slice) != 0) {
        try {
          cb.connect(ctx, address, 0);
          return;
        } catch (ErrnoException e) {
          if (e.errno() == Errno.EISCONN) {
            return;
          }
          if (!inProgress(e.errno())) {
            throw e;
          }
        }
      }
      if (deadline.expired() || left == 0) {
        throw deadline.timeout("connect to " + address);
      }
    }
  }

  private static boolean inProgress(Errno errno) {
    return errno == Errno.EINPROGRESS || errno == Errno.EALREADY || errno == Errno.EAGAIN;
  }

  EiConnection register(EiConnection c) {
    connections.add(c);
    if (closed) {
      c.close();
    }
    if (!c.isOpen()) {
      connections.remove(c); // it went down before it was registered
    }
    return c;
  }

  void forget(EiConnection c) {
    connections.remove(c);
  }

  void forget(EiListener l) {
    listeners.remove(l);
  }

  /**
   * A new pid of this node, unique within it, like {@code ei_make_pid}: the number counts
   * up through 15 bits, then the serial through 13 bits, then wraps, after 2^28 pids.
   */
  public ErlPid makePid() {
    long n = pidCounter.getAndIncrement() & ((1L << 28) - 1);
    return ErlPid.of(nodeAtom, (int) (n & 0x7fff), (int) (n >>> 15), creation);
  }

  /**
   * A new reference of this node, unique within it, like {@code ei_make_ref}: three
   * words, the first with 18 significant bits, as Erlang's own references.
   */
  public ErlRef makeRef() {
    long n = refCounter.getAndIncrement();
    return ErlRef.of(nodeAtom, creation, (int) (n & 0x3ffff), (int) (n >>> 18), (int) (n >>> 50));
  }

  /** Whether {@link #close()} has been called, or the node {@linkplain #failure() failed}. */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Why the node failed: an {@link Error} (OutOfMemoryError, StackOverflowError...) on any
   * thread of the node, or an unexpected exception in its ticker, or what was given to
   * {@link #fail}. A failed node is closed: see {@link #fail}.
   *
   * @return the first cause, or empty while the node has not failed (also after a plain
   *     {@link #close()})
   */
  public Optional<Throwable> failure() {
    return failStop.failure();
  }

  /**
   * Fail-stop: closes the node at once because something it cannot survive happened, as an
   * Erlang VM that runs out of memory stops. The node's own threads call it for an
   * {@link Error} anywhere (a connection's reader, flusher, ticks, an
   * {@link EiConnectionHandler} that threw one) and for an unexpected exception in its
   * ticker; an application may call it from its own threads (the samples' servers do for
   * an Error in a connection's thread). Every connection is dropped without writing what
   * its send queue holds (the peers see the connection go, Erlang nodes get
   * {@code nodedown}), listeners close, the EPMD registration ends, the handler hears
   * {@link EiConnectionHandler#nodeFailed}, and one ERROR line gives the cause.
   * {@link #failure()} then reports it and {@link #isClosed()} is true. Only the first
   * cause counts; later calls, and {@link #close()}, do nothing more. Never throws.
   *
   * @param cause why the node fails
   */
  public void fail(Throwable cause) {
    failStop.fail(cause);
  }

  /**
   * Closes every connection and listener of this node and ends its EPMD registration.
   * Idempotent.
   */
  @Override
  public void close() {
    shutdown(failStop.failed());
  }

  /**
   * The first step of {@link #fail}, before the ERROR line: the handler hears of it (it
   * releases queued messages: a Node's mailboxes). The shutdown follows the line.
   */
  private void releaseFailed(Throwable cause) {
    synchronized (lock) {
      closed = true; // nothing new from now on; shutdown still runs once
    }
    if (handler != null) {
      try {
        handler.nodeFailed(this, cause);
      } catch (Throwable ignored) {
        // The node is failing already; the shutdown matters more.
      }
    }
  }

  /** The close path; {@code abort}: a failure, so connections go down without flushing. */
  private void shutdown(boolean abort) {
    ScheduledExecutorService t;
    EpmdRegistration reg;
    synchronized (lock) {
      if (shutDown) {
        return;
      }
      shutDown = true;
      closed = true;
      t = ticker;
      reg = registration;
    }
    EiConnectionLostException why = abort ? new EiConnectionLostException("node " + fullName + " failed") : null;
    for (EiConnection c : connections) {
      try {
        if (abort) {
          c.abort(why);
        } else {
          c.close();
        }
      } catch (RuntimeException | Error e) {
        if (!abort) {
          throw e;
        }
      }
    }
    for (EiListener l : listeners) {
      try {
        l.close();
      } catch (RuntimeException | Error e) {
        if (!abort) {
          throw e;
        }
      }
    }
    if (reg != null) {
      try {
        reg.close();
      } catch (RuntimeException | Error e) {
        if (!abort) {
          throw e;
        }
      }
    }
    if (t != null) {
      t.shutdownNow();
    }
  }

  /** The fail-stop policy shared by this node's threads and its connections' parts. */
  FailStop failStop() {
    return failStop;
  }

  @Override
  public String toString() {
    return "EiNode[" + fullName + (closed ? ", closed" : "") + "]";
  }

  byte[] cookieBytes() {
    return cookie;
  }

  FdPoller poller() {
    return poller;
  }

  long sendTimeoutMillis() {
    return sendTimeoutMillis;
  }

  EiConnectionHandler handler() {
    return handler;
  }

  int maxMessageBytes() {
    return maxMessageBytes;
  }

  boolean explicitMaxMessageBytes() {
    return explicitMaxMessageBytes;
  }

  MessageBudget budget() {
    return budget;
  }

  /**
   * The receive budget in bytes ({@link Builder#receiveBudgetBytes}): how much received,
   * unconsumed messages may hold, for every connection of the node together.
   */
  public long receiveBudgetBytes() {
    return budget.limitBytes();
  }

  /** Bytes the receive budget holds now (an estimate, see {@link Builder#receiveBudgetBytes}). */
  public long receiveBudgetUsedBytes() {
    return budget.usedBytes();
  }

  /** Messages thrown away because the receive budget was full ({@link BudgetPolicy#DROP}). */
  public long budgetDroppedMessages() {
    return budget.droppedMessages();
  }

  /** The limits every connection's term decoder enforces on what its peer sends. */
  public DecodeLimits decodeLimits() {
    return decodeLimits;
  }

  /**
   * The most messages a connection's own queue ({@link EiConnection#receive}) holds; see
   * {@link Builder#maxQueueLength}.
   */
  public int maxQueueLength() {
    return maxQueueLength;
  }

  ScheduledExecutorService ticker() {
    synchronized (lock) {
      if (ticker == null) {
        ticker = Executors.newSingleThreadScheduledExecutor(r -> failStop.daemonThread("ei4j-ticker-" + fullName, r));
      }
      return ticker;
    }
  }

  private EpmdClient epmdFor(String epmdHost, long timeoutMillis) {
    if (epmd != null) {
      return epmd;
    }
    return new EpmdClient(epmdHost, EpmdClient.defaultPort(), timeoutMillis);
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("node " + fullName + " is closed");
    }
  }

  /** Options of a node; {@link #build()} checks them. */
  public static final class Builder {
    private String alive;
    private String host;
    private String fullName;
    private InetAddress address;
    /** The options {@link io.ei4j.node.Node.Builder} shares; replaced by each setter. */
    private NodeOptions options = NodeOptions.DEFAULTS;
    /** A budget shared with other nodes (a {@code Node}'s transports), set through {@link ConnectionInternals}. */
    private MessageBudget sharedBudget;
    /** Set by {@link #build()}: the cookie's digest input and the creation the node gets. */
    private byte[] cookieBytes;
    private int creation;
    private FdPoller poller;
    private long extraFlags;
    private boolean distributionHeaders = true;
    private EiConnectionHandler handler;

    private Builder() {}

    /** The part of the node name before {@code @}. */
    public Builder alive(String alive) {
      this.alive = Objects.requireNonNull(alive, "alive");
      return this;
    }

    /** The part of the node name after {@code @}. */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    /** The full node name, when it is not {@code alive@host} ({@code thisnodename} of ei). */
    public Builder fullName(String fullName) {
      this.fullName = Objects.requireNonNull(fullName, "fullName");
      return this;
    }

    /** This node's IP address ({@code thisipaddr} of ei); informational. */
    public Builder address(InetAddress address) {
      this.address = address;
      return this;
    }

    /**
     * The cookie. Without one, {@link #build()} reads {@code ~/.erlang.cookie} as Erlang
     * does.
     */
    public Builder cookie(String cookie) {
      this.options = options.withCookie(Objects.requireNonNull(cookie, "cookie"));
      return this;
    }

    /**
     * The creation; values below 4 are moved up by {@code 0xE10000}, as ei does, so that
     * they never look like a creation of an old node. Default: a random one.
     */
    public Builder creation(int creation) {
      this.options = options.withCreation(creation);
      return this;
    }

    /** The transport. Required. */
    public Builder transport(SocketCallbacks<?> callbacks) {
      this.options = options.withTransport(Objects.requireNonNull(callbacks, "callbacks"));
      return this;
    }

    /** The object handed to every {@link SocketCallbacks#socket} call, such as TLS settings. */
    public Builder setupContext(Object setupContext) {
      this.options = options.withSetupContext(setupContext);
      return this;
    }

    /**
     * The EPMD to publish in and to look peers up in. Default: EPMD on the host part of
     * the peer's name (of this node's name for {@link EiNode#publish}), at the port of
     * {@code ERL_EPMD_PORT} or 4369.
     */
    public Builder epmd(EpmdClient epmd) {
      this.options = options.withEpmd(epmd);
      return this;
    }

    /**
     * The poller that enforces timeouts for a transport without {@code FULL_IMPL}, instead
     * of one found through {@link ServiceLoader}.
     */
    public Builder fdPoller(FdPoller poller) {
      this.poller = poller;
      return this;
    }

    /**
     * The tick time, Erlang's {@code net_ticktime}, in milliseconds (default 60 000): a
     * tick is sent when nothing was sent for a quarter of it, and a peer silent for the
     * whole of it is declared down. Use the same value as the Erlang nodes, and never a
     * much larger one: an Erlang node declares this one down when it hears nothing from it
     * for about its own {@code net_ticktime}, while this node may stay silent for a quarter
     * of its tick time (a sixteenth while its reads are paused for the receive budget).
     */
    public Builder tickTimeMillis(long millis) {
      if (millis < 40) {
        throw new IllegalArgumentException("tick time must be at least 40 ms, got " + millis);
      }
      this.options = options.withTickTimeMillis(millis);
      return this;
    }

    /**
     * How long {@link EiConnection#send} and friends may wait for the peer to take the
     * bytes; default {@link SocketCallbacks#INFINITE}.
     */
    public Builder sendTimeoutMillis(long millis) {
      Deadline.after(millis);
      this.options = options.withSendTimeoutMillis(millis);
      return this;
    }

    /**
     * The largest frame accepted from a peer; a larger one ends the connection, with a WARN
     * naming this limit. Default: none, only the receive budget
     * ({@link #receiveBudgetBytes}), as Erlang has no fixed limit either.
     */
    public Builder maxMessageBytes(int bytes) {
      if (bytes < 1024) {
        throw new IllegalArgumentException("maxMessageBytes must be at least 1024, got " + bytes);
      }
      this.options = options.withMaxMessageBytes(bytes);
      return this;
    }

    /**
     * The limits the term decoder of every connection enforces on what the peer sends:
     * nesting depth, atom length, inflated size of compressed terms, bytes per term
     * (default {@link DecodeLimits#DEFAULT}: what an Erlang node accepts). A term beyond them
     * ends the connection with an {@link EiConnectionLostException} whose cause is the
     * decoder's {@link io.ei4j.term.TermDecodeException}, logged at WARN with the limit's name.
     * Deep terms cost heap, not the reader thread's stack.
     */
    public Builder decodeLimits(DecodeLimits limits) {
      this.options = options.withDecodeLimits(Objects.requireNonNull(limits, "limits"));
      return this;
    }

    /**
     * The node-wide budget for messages received but not yet consumed, in bytes, for every
     * connection of the node together (default: a quarter of the heap,
     * {@code Runtime.maxMemory() / 4}, which leaves room for decoded terms larger than their
     * encoding and for the application). What a message costs is an estimate: its frame
     * bytes plus a fixed 256 bytes for the decoded objects; it counts from the moment its
     * length arrives, before its body is allocated, until {@link EiConnection#receive}
     * returns it (or the connection goes down). Each connection may hold 64 KiB beyond the
     * budget (all together at most an eighth of it), so a quiet peer is served while
     * another fills it. A single frame larger than
     * the whole budget ends its connection, with a WARN. When a frame does not fit,
     * {@link #budgetPolicy} decides; with the default {@link BudgetPolicy#PAUSE} that
     * connection stops reading until enough is consumed: every message on it waits
     * (head-of-line blocking), while ticks keep flowing. See CONNECTIONS.md.
     *
     * @throws IllegalArgumentException below 1 MiB
     */
    public Builder receiveBudgetBytes(long bytes) {
      if (bytes < (1 << 20)) {
        throw new IllegalArgumentException("receiveBudgetBytes must be at least 1 MiB, got " + bytes);
      }
      this.options = options.withReceiveBudgetBytes(bytes);
      return this;
    }

    /** What a connection does when a frame does not fit in the receive budget (default {@link BudgetPolicy#PAUSE}). */
    public Builder budgetPolicy(BudgetPolicy policy) {
      this.options = options.withBudgetPolicy(Objects.requireNonNull(policy, "policy"));
      return this;
    }

    /**
     * The most messages a connection's own queue holds for {@link EiConnection#receive}
     * (default {@link Integer#MAX_VALUE}: unbounded, as an Erlang mailbox). When it is full,
     * a newly arrived message is dropped, counted in {@link EiConnection#droppedMessages()}
     * and logged at WARN (at most one line a minute per peer, then a count); the connection, its ticks and {@code rpc} replies are unaffected.
     * Irrelevant with a {@link #connectionHandler}, which receives every message instead.
     */
    public Builder maxQueueLength(int messages) {
      this.options = options.withMaxQueueLength(Checks.queueLength(messages));
      return this;
    }

    /**
     * Distribution flags to advertise on top of the default set, for capabilities that a
     * layer above the connections implements: only {@link DistFlag#DIST_MONITOR_NAME}
     * (monitors by registered name), {@link DistFlag#SPAWN} ({@code SPAWN_REQUEST}/{@code
     * SPAWN_REPLY}, which {@code erpc} and OTP 25's {@code rpc:call} need) and
     * {@link DistFlag#ALIAS} ({@code ALIAS_SEND}) are accepted. Advertising one promises the
     * peer that its control messages are handled, so a node should only do so together with
     * a {@link #connectionHandler} that does. Replaces what an earlier call gave; no flags
     * adds none.
     *
     * @throws IllegalArgumentException naming the flags that cannot be added, for any other
     */
    public Builder advertise(DistFlag... flags) {
      return advertise(Arrays.asList(flags));
    }

    /**
     * {@link #advertise(DistFlag...)} for a set computed elsewhere.
     *
     * @throws IllegalArgumentException naming the flags that cannot be added, for any other
     * @throws NullPointerException when {@code flags} is or contains null
     */
    public Builder advertise(Collection<DistFlag> flags) {
      long bits = DistFlag.toBits(flags);
      long allowed = DistFlags.DIST_MONITOR_NAME | DistFlags.SPAWN | DistFlags.ALIAS;
      if ((bits & ~allowed) != 0) {
        throw new IllegalArgumentException("only DIST_MONITOR_NAME, SPAWN and ALIAS can be added to the advertised flags, got "
            + DistFlags.describe(bits & ~allowed));
      }
      this.extraFlags = bits;
      return this;
    }

    /**
     * Whether to advertise {@code DFLAG_DIST_HDR_ATOM_CACHE} and {@code DFLAG_FRAGMENTS}
     * (default: yes). With both sides advertising them, frames carry a distribution header:
     * Erlang replaces repeated atoms by references into a per-connection cache, and large
     * messages travel as fragments that ticks and other messages overtake. Turning them off
     * makes every frame a plain {@code 'p'} frame, as ei and JInterface send; a large message
     * then holds the connection until its last byte is written. See CONNECTIONS.md.
     */
    public Builder distributionHeaders(boolean enabled) {
      this.distributionHeaders = enabled;
      return this;
    }

    /**
     * Routes what every connection of the node receives to {@code handler} instead of the
     * connection's own queue (then {@link EiConnection#receive} never returns a message),
     * and lets it choose the handshake status of incoming connections. Default: none.
     */
    public Builder connectionHandler(EiConnectionHandler handler) {
      this.handler = handler;
      return this;
    }

    /**
     * Creates the node.
     *
     * @throws IllegalStateException when no transport was given, or the transport is not
     *     {@code FULL_IMPL} and no {@link FdPoller} is available
     * @throws IOException when the cookie file cannot be read
     */
    public EiNode build() throws IOException {
      SocketCallbacks<?> callbacks = options.transport();
      if (callbacks == null) {
        throw new IllegalStateException("a node needs a transport: EiNode.Builder.transport(...)");
      }
      if (alive == null || alive.isEmpty()) {
        throw new IllegalStateException("a node needs the alive part of its name");
      }
      if (host == null || host.isEmpty()) {
        throw new IllegalStateException("a node needs the host part of its name");
      }
      String name = fullName != null ? fullName : alive + "@" + host;
      if (NodeNames.ownNameProblem(name) != null) {
        throw new IllegalStateException("invalid node name " + NodeNames.ownNameProblem(name));
      }
      String cookie = options.cookie();
      cookieBytes = Cookies.digestBytes(cookie != null ? cookie : Cookies.read(Cookies.defaultFile()));
      Integer given = options.creation();
      if (given == null) {
        creation = 4 + RANDOM.nextInt(Integer.MAX_VALUE - 4);
      } else if (Integer.compareUnsigned(given, 4) < 0) {
        creation = given + 0xE10000;
      } else {
        creation = given;
      }
      FdPoller p = null;
      if ((callbacks.flags() & SocketCallbacks.FLAG_FULL_IMPL) == 0) {
        p = poller != null ? poller : loadPoller();
        if (p == null) {
          throw new IllegalStateException(callbacks.getClass().getName() + " does not implement its own timeouts (no FLAG_FULL_IMPL) and no "
              + FdPoller.class.getName() + " is available to enforce them: add a transport that provides one (ei4j-transport-unix) or pass one to fdPoller()");
        }
      }
      return new EiNode(this, alive, host, name, p);
    }

    private static FdPoller loadPoller() {
      for (FdPoller p : ServiceLoader.load(FdPoller.class)) {
        if (p.isAvailable()) {
          return p;
        }
      }
      return null;
    }
  }
}
