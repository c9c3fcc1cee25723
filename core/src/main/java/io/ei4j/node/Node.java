package io.ei4j.node;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.BudgetPolicy;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiNode;
import io.ei4j.epmd.EpmdClient;
import io.ei4j.internal.dist.MessageBudget;
import io.ei4j.internal.node.Checks;
import io.ei4j.internal.node.FailStop;
import io.ei4j.internal.node.NodeNames;
import io.ei4j.internal.node.NodeOptions;
import io.ei4j.term.DecodeLimits;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import java.io.IOException;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Java node that Erlang code can treat as one of its own: many {@link Mailbox}es
 * (processes) with links, monitors, aliases and exit signals; connections made on first
 * use and accepted in the background; {@code rpc:call}, {@code erpc:call} and
 * {@code spawn} served by Java functions; {@code gen_server} calls both ways (see
 * {@link GenServer}). It is what JInterface's {@code OtpNode} is, on top of
 * {@link EiNode}.
 *
 * <pre>{@code
 * try (Node node = Node.builder("java@myhost").cookie("secret")
 *         .transport(TcpTransport.create()).listen(new InetSocketAddress(0)).build()) {
 *   node.registerFunction("calc", "add", 2, (self, args) -> ...);
 *   Mailbox box = node.createMailbox("echo");
 *   ErlTerm m = box.receive(5_000);
 * }
 * }</pre>
 *
 * <p>Connections: one per peer node. A send, link or monitor towards a node without a
 * connection connects first (through EPMD or the transport's own naming) within the
 * connect timeout. When both nodes connect to each other at the same time, the handshake
 * settles it as Erlang does: the acceptor whose own attempt is pending answers
 * {@code ok_simultaneous} when the peer's name is greater than its own (and its own attempt
 * then fails with {@code nok} and waits for the accepted connection), else {@code nok}.
 * When a connection goes down, every link to a process of that node fires
 * {@code noconnection}, every monitor of such a process delivers {@code 'DOWN'} with
 * {@code noconnection}, and {@link NodeListener}s hear of it.
 *
 * <p>The node advertises {@code DFLAG_SPAWN}, {@code DFLAG_ALIAS} and
 * {@code DFLAG_DIST_MONITOR_NAME} on top of {@link EiNode}'s set. A {@code SPAWN_REQUEST}
 * for {@code erpc:execute_call/4}, {@code erpc:execute_cast/3} or a function registered
 * with {@link #registerFunction} runs the Java function on a worker thread as a new
 * process; an unknown function ends that process with {@code undef}, so Erlang sees the
 * same as for a missing module on an Erlang node. The same functions answer through the
 * node's {@code rex} server ({@code RexServer}: {@code erl_call -a}, C {@code ei_rpc},
 * JInterface {@code sendRPC}, {@code rpc:block_call}/{@code cast}). {@link #rpc},
 * {@link #erpc} and their casts call functions on other nodes; which signals a peer is sent
 * follows what it advertised ({@code PeerCapabilities}).
 *
 * <p>Transports: a node may hold several at once ({@link Builder#transport(NamedTransport)}),
 * each with its own listener, sharing the node's name, cookie, creation, mailboxes and
 * connections; a {@link TransportSelector} (such as {@link TransportRules}) picks the
 * transport of each outgoing connection, and {@link #connect(String, String, long)} names
 * one explicitly. Every message in and out can be traced on the {@link Trace} logger.
 * See {@code TRANSPORTS.md} next to this class.
 *
 * <p>Threading: see {@code CONCURRENCY.md} next to this class. Thread-safe.
 */
public final class Node implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);

  /** The default of {@link Builder#maxPendingHandshakes}: {@value}. */
  public static final int DEFAULT_MAX_PENDING_HANDSHAKES = 64;
  /** The default of {@link Builder#handshakeTimeoutMillis}: {@value} ms. */
  public static final long DEFAULT_HANDSHAKE_TIMEOUT_MILLIS = 5_000;

  /** The name of the transport given to {@link Builder#transport(SocketCallbacks)}: {@value}. */
  public static final String DEFAULT_TRANSPORT = "default";

  /*
   * The node is a facade over package-private collaborators, each with one job (see
   * CONCURRENCY.md, "Layout"): the process table, signals (links, exits, monitors),
   * outgoing sends, the connection table, the acceptor, remote functions, the router of
   * incoming messages, and the transports. The lifecycle stays here.
   */
  private final EiNode ei;
  private final String nodeName;
  private final ErlAtom nodeAtom;
  private final long connectTimeoutMillis;
  private final int maxQueueLength;
  private final ProcessTable table = new ProcessTable();
  private final Outgoing outgoing;
  private final Signals signals;
  private final RemoteFunctions functions;
  private final Transports transports;
  private final Connections connections;
  private final Acceptor acceptor;
  /** The receive budget every transport's connections share. */
  private final MessageBudget budget;
  /** The fail-stop policy of the node's own threads; see {@link #fail}. */
  private final FailStop failStop;
  private volatile boolean closed;

  private Node(Builder b) throws IOException {
    this.nodeName = b.nodeName;
    this.failStop = new FailStop("node " + nodeName);
    this.failStop.onFailure(this::releaseFailed, this::stopFailed);
    this.nodeAtom = ErlAtom.of(nodeName);
    this.connectTimeoutMillis = b.connectTimeoutMillis;
    this.maxQueueLength = b.options.maxQueueLength();
    this.budget = b.options.budget();
    this.outgoing = new Outgoing(this, table, b.options.sendTimeoutMillis(), Math.max(1, b.options.tickTimeMillis() / 4));
    this.signals = new Signals(this, table, outgoing);
    this.transports = new Transports(nodeName, b.allTransports(), b.selector, b.options.epmd(), b.connectTimeoutMillis);
    this.functions = new RemoteFunctions(this, table, signals, outgoing, b.maxFunctionThreads);
    this.connections = new Connections(this, transports, signals, b.connectTimeoutMillis);
    this.acceptor = new Acceptor(this, connections, b.maxPendingHandshakes, b.handshakeTimeoutMillis);
    try {
      transports.start(nodeName, b.options.withSharedBudget(budget), s -> new Router(s.name(), nodeName, table, signals, functions, connections));
    } catch (IOException | RuntimeException e) {
      functions.shutdown();
      connections.shutdown();
      acceptor.shutdown();
      throw e;
    }
    this.ei = transports.first();
    acceptor.start(transports.all());
    RexServer.start(this);
  }

  /**
   * A builder for a node.
   *
   * @param nodeName the full name, {@code alive@host}, as Erlang nodes will call it
   * @return the builder
   */
  public static Builder builder(String nodeName) {
    NodeNames.requireValid(Objects.requireNonNull(nodeName, "nodeName"));
    return new Builder(nodeName);
  }

  /**
   * The full node name.
   *
   * @return {@code alive@host}
   */
  public String nodeName() {
    return nodeName;
  }

  /**
   * The node name as an atom, as it appears in this node's pids and references.
   *
   * @return the name atom
   */
  public ErlAtom nodeAtom() {
    return nodeAtom;
  }

  /**
   * The underlying C-node handle of the node's first transport: its flags, creation and
   * transport. Connections made directly through it bypass this node's routing, which is
   * why it is not public (a layering hook for this package and its tests).
   *
   * @return the handle
   */
  EiNode eiNode() {
    return ei;
  }

  /**
   * Where the node accepts connections: the address of the first transport that listens.
   *
   * @return the bound address, or null when the node does not listen
   */
  public SocketAddress listenAddress() {
    return transports.listenAddress();
  }

  /**
   * Where one transport accepts connections.
   *
   * @param transport the transport's name
   * @return the bound address, or null when that transport does not listen
   * @throws IllegalArgumentException when the node has no such transport
   */
  public SocketAddress listenAddress(String transport) {
    return transports.listenAddress(transport);
  }

  /**
   * The names of the node's transports, in the order they were given; a node built with
   * {@link Builder#transport(SocketCallbacks)} has one, {@value #DEFAULT_TRANSPORT}.
   *
   * @return the names
   */
  public List<String> transports() {
    return transports.names();
  }

  /**
   * The transport of the live connection to {@code peer}.
   *
   * @param peer the node's full name
   * @return the transport's name, or empty when not connected
   */
  public Optional<String> transportOf(String peer) {
    EiConnection c = connections.get(peer);
    return c == null || !c.isOpen() ? Optional.empty() : Optional.of(transports.nameOf(c));
  }

  // ---- processes ----

  /**
   * A new mailbox with a fresh pid and no name.
   *
   * @return the mailbox
   * @throws IllegalStateException when the node is closed
   */
  public Mailbox createMailbox() {
    ensureOpen();
    Mailbox m = new Mailbox(this, ei.makePid(), maxQueueLength);
    table.add(m);
    return m;
  }

  /**
   * A new mailbox registered as {@code name}: Erlang reaches it as
   * {@code {Name, 'this@node'}}. The name is free again once the mailbox is closed.
   *
   * @param name the name, at most 255 characters
   * @return the mailbox
   * @throws IllegalStateException when a live mailbox already has the name, or the node is closed
   */
  public Mailbox createMailbox(String name) {
    ErlAtom.of(name); // validates the length
    Mailbox m = createMailbox();
    m.name(name);
    if (!table.register(name, m)) {
      table.removePid(m.pid());
      m.abandon(Mailbox.NORMAL);
      throw new IllegalStateException("the name " + name + " is already registered on " + nodeName);
    }
    return m;
  }

  /**
   * The live mailbox registered under a name.
   *
   * @param name the name
   * @return the mailbox, or null
   */
  public Mailbox whereis(String name) {
    return table.byName(name);
  }

  /**
   * Makes {@code Module:Function/Arity} callable from Erlang with {@code rpc:call},
   * {@code erpc:call}/{@code cast} and {@code spawn(Node, Module, Function, Args)};
   * replaces an earlier registration of the same function.
   *
   * @param module the module atom's name
   * @param function the function atom's name
   * @param arity the number of arguments, 0..255
   * @param f the implementation
   */
  public void registerFunction(String module, String function, int arity, ErlangFunction f) {
    functions.register(module, function, arity, f);
  }

  /**
   * Removes a registered function; later calls get {@code undef}.
   *
   * @param module the module atom's name
   * @param function the function atom's name
   * @param arity the number of arguments
   */
  public void unregisterFunction(String module, String function, int arity) {
    functions.unregister(module, function, arity);
  }

  /**
   * A new reference of this node.
   *
   * @return the reference
   */
  public ErlRef makeRef() {
    return ei.makeRef();
  }

  // ---- calls to other nodes (RemoteCalls) ----

  /**
   * {@code rpc:call(Peer, M, F, Args, Timeout)} through the peer's {@code rex} server: the
   * result, or {@code {badrpc, Reason}} as {@code rpc:call} returns it ({@code {badrpc, timeout}},
   * {@code {badrpc, nodedown}}, {@code {badrpc, {'EXIT', ...}}}; a thrown value is returned as
   * is). Works towards Erlang nodes and ei4j nodes, including this one; a late reply is
   * dropped.
   *
   * @param peer the node's full name
   * @param module the module
   * @param function the function
   * @param args the arguments
   * @param timeoutMillis negative: wait for ever
   * @return the result or {@code {badrpc, Reason}}
   * @throws InterruptedException when the waiting thread is interrupted
   * @throws IllegalStateException when this node is closed
   */
  public ErlTerm rpc(String peer, String module, String function, List<ErlTerm> args, long timeoutMillis) throws InterruptedException {
    return RemoteCalls.rpc(this, peer, module, function, args, timeoutMillis);
  }

  /**
   * {@code erpc:call(Peer, M, F, Args, Timeout)}: a spawn request for
   * {@code erpc:execute_call/4} with a monitor, as Erlang makes it. Returns the value; an
   * exception raised by the function, an exit signal that killed it, a timeout (the remote
   * process is then killed), a lost connection or a peer without {@code DFLAG_SPAWN}
   * ({@code notsup}) come as {@link ErpcException}.
   *
   * @param peer the node's full name (this node's own name runs the call locally)
   * @param module the module
   * @param function the function
   * @param args the arguments
   * @param timeoutMillis negative: wait for ever
   * @return the function's value
   * @throws ErpcException as {@code erpc:call} raises
   * @throws InterruptedException when the waiting thread is interrupted
   * @throws IllegalStateException when this node is closed
   */
  public ErlTerm erpc(String peer, String module, String function, List<ErlTerm> args, long timeoutMillis)
      throws ErpcException, InterruptedException {
    return RemoteCalls.erpc(this, peer, module, function, args, timeoutMillis);
  }

  /**
   * {@code rpc:cast(Peer, M, F, Args)} through the peer's {@code rex}: no answer, no error
   * from the function.
   *
   * @param peer the node's full name
   * @param module the module
   * @param function the function
   * @param args the arguments
   * @throws IOException when the peer cannot be reached
   */
  public void cast(String peer, String module, String function, List<ErlTerm> args) throws IOException {
    RemoteCalls.cast(this, peer, module, function, args);
  }

  /**
   * {@code erpc:cast(Peer, M, F, Args)}: a spawn request for {@code erpc:execute_cast/3}.
   *
   * @param peer the node's full name
   * @param module the module
   * @param function the function
   * @param args the arguments
   * @throws IOException when the peer cannot be reached or takes no spawn requests
   */
  public void erpcCast(String peer, String module, String function, List<ErlTerm> args) throws IOException {
    RemoteCalls.erpcCast(this, peer, module, function, args);
  }

  // ---- nodes ----

  /**
   * Adds a listener for node up/down events.
   *
   * @param l the listener
   */
  public void addNodeListener(NodeListener l) {
    connections.addListener(l);
  }

  /**
   * Removes a listener.
   *
   * @param l the listener
   */
  public void removeNodeListener(NodeListener l) {
    connections.removeListener(l);
  }

  /**
   * The nodes this node has a live connection to.
   *
   * @return a snapshot of their names
   */
  public Set<String> connectedNodes() {
    return connections.connectedNodes();
  }

  /**
   * Connects to {@code peer} unless connected, as {@code net_adm:ping/1} does.
   *
   * @param peer the node's full name
   * @param timeoutMillis how long the connect may take
   * @return true when a connection is up (pong), false when none could be made (pang)
   */
  public boolean ping(String peer, long timeoutMillis) {
    try {
      connections.connection(peer, timeoutMillis, null);
      return true;
    } catch (IOException | RuntimeException e) {
      LOG.debug("ping {} failed: {}", peer, e.toString());
      return false;
    }
  }

  /**
   * Connects to {@code peer} over the named transport, bypassing the selector, unless a
   * connection is up already: there is one connection per pair of nodes, so an existing
   * connection (made by this node, or accepted from the peer on any listener) is kept,
   * and so is the peer's own connection when both connect at once and the peer's wins.
   * The result says which transport carries the connection; {@link #disconnect} first to
   * move a peer to another transport.
   *
   * @param peer the node's full name
   * @param transport the transport's name
   * @param timeoutMillis how long the connect may take
   * @return the name of the transport of the connection now up
   * @throws IllegalArgumentException when the node has no such transport
   * @throws IOException when no connection could be made
   */
  public String connect(String peer, String transport, long timeoutMillis) throws IOException {
    transports.slot(Objects.requireNonNull(transport, "transport"));
    return transports.nameOf(connections.connection(peer, timeoutMillis, transport));
  }

  /**
   * Closes the connection to {@code peer}, if any; links and monitors across it fire
   * {@code noconnection} on both sides.
   *
   * @param peer the node's full name
   */
  public void disconnect(String peer) {
    EiConnection c = connections.get(peer);
    if (c != null) {
      c.close();
    }
  }

  /**
   * How many incoming handshakes are under way now, on all listeners.
   *
   * @return a number between 0 and {@link Builder#maxPendingHandshakes}
   */
  public int pendingHandshakes() {
    return acceptor.pendingHandshakes();
  }

  /**
   * How many accepted connections were closed before their handshake finished because
   * {@link Builder#maxPendingHandshakes} handshakes were already under way: pending ones
   * evicted to make room for a newcomer, and newcomers refused when no slot came free.
   *
   * @return the count since the node started
   */
  public long refusedHandshakes() {
    return acceptor.refusedHandshakes();
  }

  /**
   * The receive budget in bytes ({@link Builder#receiveBudgetBytes}), shared by the
   * connections of every transport.
   *
   * @return the budget
   */
  public long receiveBudgetBytes() {
    return budget.limitBytes();
  }

  /**
   * Bytes the receive budget holds now: messages received and not yet taken by their
   * mailboxes (an estimate, see {@link Builder#receiveBudgetBytes}).
   *
   * @return the bytes charged
   */
  public long receiveBudgetUsedBytes() {
    return budget.usedBytes();
  }

  /**
   * Messages thrown away because the receive budget was full ({@link BudgetPolicy#DROP}).
   *
   * @return the count since the node started
   */
  public long budgetDroppedMessages() {
    return budget.droppedMessages();
  }

  // ---- for the collaborators and Mailbox ----

  boolean isLocal(ErlAtom node) {
    return nodeAtom.equals(node);
  }

  ProcessTable processTable() {
    return table;
  }

  Outgoing outgoing() {
    return outgoing;
  }

  Signals signals() {
    return signals;
  }

  RemoteFunctions functions() {
    return functions;
  }

  /** The live connection to {@code peer}, made now (within the connect timeout) if there is none. */
  EiConnection connection(String peer) throws IOException {
    return connections.connection(peer, connectTimeoutMillis, null);
  }

  /** The connection to {@code peer} in the table, live or not; null when there is none. */
  EiConnection existingConnection(String peer) {
    return connections.get(peer);
  }

  String transportOf(EiConnection c) {
    return transports.nameOf(c);
  }

  // ---- lifecycle ----

  /**
   * Whether {@link #close()} was called, or the node {@linkplain #failure() failed}.
   *
   * @return true once closed
   */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Why the node failed (fail-stop, see {@link #fail}): an {@link Error} such as
   * OutOfMemoryError or StackOverflowError on any thread of the node (a registered
   * function's, a {@link NodeListener}'s or a connection's reader included), or an
   * unexpected exception in one of its node-wide threads (accepting, handshakes, the signal
   * thread, ticks, function workers).
   *
   * @return the first cause, or empty while the node has not failed (also after a plain
   *     {@link #close()})
   */
  public Optional<Throwable> failure() {
    return failStop.failure();
  }

  /**
   * Fail-stop: closes the node at once because something it cannot survive happened,
   * instead of leaving it half alive; the node's own threads do this for an {@link Error}
   * anywhere and for an unexpected exception in a node-wide thread, and an application may
   * for its own reasons. In order: every mailbox dies with {@code noconnection} and its
   * queued messages are let go (after an OutOfMemoryError the rest needs the room); every
   * connection is dropped without flushing, so Erlang nodes see {@code nodedown} and the
   * links and monitors of this node's processes fire {@code noconnection} there; the EPMD
   * registrations end and the listeners close; {@link NodeListener#nodeFailed} is called.
   * One ERROR line gives the cause, written after the mailboxes let go and before anything
   * else, and {@link #failure()} reports the cause from then on: an application that exits
   * when it learns of the failure never loses the line. {@link #isClosed()} is true from
   * the first step. This is what an Erlang node does when it cannot go on (it writes
   * {@code erl_crash.dump} and its VM exits); the JVM may hold more than this node, so it
   * keeps running and the application decides (the samples exit non-zero). Only the first
   * cause counts; later calls, and {@link #close()}, do nothing more. Never throws.
   *
   * @param cause why the node fails
   */
  public void fail(Throwable cause) {
    failStop.fail(cause);
  }

  /**
   * The first step of {@link #fail}, before the ERROR line: every mailbox dies and lets go
   * of its queue (after an OutOfMemoryError the rest needs the room).
   */
  private void releaseFailed(Throwable cause) {
    closed = true; // new mailboxes and connections are refused, losses are not fanned out
    try {
      for (Mailbox m : table.all()) {
        try {
          m.abandon(Mailbox.NOCONNECTION); // drops its queue
        } catch (Throwable ignored) {
          // next mailbox
        }
      }
      table.clear();
    } catch (Throwable ignored) {
      // the connections matter more
    }
  }

  /** The rest of {@link #fail}, after the ERROR line; every step guards itself, so the next one still runs. */
  private void stopFailed(Throwable cause) {
    try {
      transports.failAll(cause);
    } catch (Throwable ignored) {
      // see below
    }
    try {
      connections.close();
    } catch (Throwable ignored) {
      // see below
    }
    try {
      functions.shutdown();
    } catch (Throwable ignored) {
      // see below
    }
    try {
      acceptor.shutdown();
    } catch (Throwable ignored) {
      // see below
    }
    connections.nodeFailed(cause);
  }

  /** A collaborator's thread body guarded as a node-wide thread's: whatever escapes it fails the node. */
  Runnable guard(Runnable body) {
    return failStop.guardNode(body);
  }

  /**
   * Closes the node: every connection goes down (so the other nodes see
   * {@code noconnection} for links and monitors of this node's processes), the EPMD
   * registration ends, and every mailbox is dead (receive throws {@link ExitException}
   * with reason {@code noconnection}). Idempotent.
   */
  @Override
  public void close() {
    if (closed || failStop.failed()) {
      return;
    }
    closed = true;
    transports.stopAll();
    List<Mailbox> all = new ArrayList<>(table.all());
    for (Mailbox m : all) {
      m.abandon(Mailbox.NOCONNECTION);
    }
    table.clear();
    connections.close();
    functions.shutdown();
    acceptor.shutdown();
  }

  void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("node " + nodeName + " is closed");
    }
  }

  /** Daemon threads {@code prefix-N} for the collaborators' executors, guarded by the node's fail-stop policy. */
  ThreadFactory daemon(String prefix) {
    return failStop.daemonThreads(prefix);
  }

  @Override
  public String toString() {
    return "Node[" + nodeName + (closed ? ", closed" : "") + "]";
  }

  /** Options of a {@link Node}. */
  public static final class Builder {
    final String nodeName;
    /**
     * The options {@link EiNode.Builder} has too (its {@code transport} and
     * {@code setupContext} are those of the transport given to
     * {@link #transport(SocketCallbacks)}, its {@code maxQueueLength} the mailboxes'); the
     * {@link EiNode} of each transport is built with them.
     */
    NodeOptions options = NodeOptions.DEFAULTS;
    final List<NamedTransport> namedTransports = new ArrayList<>();
    TransportSelector selector;
    SocketAddress listenAddress;
    Boolean publish;
    long connectTimeoutMillis = 10_000;
    int maxFunctionThreads = 1024;
    int maxPendingHandshakes = DEFAULT_MAX_PENDING_HANDSHAKES;
    long handshakeTimeoutMillis = DEFAULT_HANDSHAKE_TIMEOUT_MILLIS;

    private Builder(String nodeName) {
      this.nodeName = nodeName;
    }

    /**
     * The cookie; default: {@code ~/.erlang.cookie}. Never logged.
     *
     * @param cookie the cookie
     * @return this builder
     */
    public Builder cookie(String cookie) {
      this.options = options.withCookie(Objects.requireNonNull(cookie, "cookie"));
      return this;
    }

    /**
     * The transport of a node that has one, named {@value Node#DEFAULT_TRANSPORT}, configured
     * with {@link #setupContext}, {@link #listen} and {@link #publish}. A node needs this or
     * at least one {@link #transport(NamedTransport)}; with both, this one comes first.
     *
     * @param transport the socket callbacks
     * @return this builder
     */
    public Builder transport(SocketCallbacks<?> transport) {
      this.options = options.withTransport(Objects.requireNonNull(transport, "transport"));
      return this;
    }

    /**
     * Adds a transport, with its own listener if it has a listen address. A node may hold
     * several (TCP, TLS, AF_UNIX...): all share its name, cookie, creation, mailboxes and
     * connections; incoming connections arrive on any listener, and outgoing ones take the
     * transport the {@link #selector} chooses. The first transport published in EPMD gives
     * the node its creation; without a selector, outgoing connections take the first
     * transport. See {@code TRANSPORTS.md} next to this class.
     *
     * @param transport the transport; its name must be unique in the node
     * @return this builder
     */
    public Builder transport(NamedTransport transport) {
      Objects.requireNonNull(transport, "transport");
      for (NamedTransport t : namedTransports) {
        if (t.name().equals(transport.name())) {
          throw new IllegalArgumentException("the node already has a transport named '" + transport.name() + "'");
        }
      }
      namedTransports.add(transport);
      return this;
    }

    /**
     * How outgoing connections choose among the transports, such as {@link TransportRules};
     * default: the first transport.
     *
     * @param selector the selector
     * @return this builder
     */
    public Builder selector(TransportSelector selector) {
      this.selector = Objects.requireNonNull(selector, "selector");
      return this;
    }

    /** The transports in order: the unnamed one first. */
    List<NamedTransport> allTransports() {
      List<NamedTransport> all = new ArrayList<>();
      SocketCallbacks<?> transport = options.transport();
      if (transport != null) {
        NamedTransport t = NamedTransport.of(DEFAULT_TRANSPORT, transport).setupContext(options.setupContext());
        if (listenAddress != null) {
          t = t.listen(listenAddress);
        }
        if (publish != null) {
          t = t.publish(publish);
        }
        all.add(t);
      }
      for (NamedTransport t : namedTransports) {
        if (t.name().equals(DEFAULT_TRANSPORT) && transport != null) {
          throw new IllegalArgumentException("the name '" + DEFAULT_TRANSPORT + "' is taken by the transport given to transport(SocketCallbacks)");
        }
        all.add(t);
      }
      return all;
    }

    /**
     * The transport's setup context (TLS settings, ...), see {@link EiNode.Builder#setupContext}.
     *
     * @param setupContext handed to every {@code socket} call
     * @return this builder
     */
    public Builder setupContext(Object setupContext) {
      this.options = options.withSetupContext(setupContext);
      return this;
    }

    /**
     * The EPMD to publish in and look peers up in; default: EPMD on the peer's host.
     *
     * @param epmd the client
     * @return this builder
     */
    public Builder epmd(EpmdClient epmd) {
      this.options = options.withEpmd(epmd);
      return this;
    }

    /**
     * Accept connections on {@code address} (port 0: any free port). Without it the node
     * only makes connections, and Erlang cannot start one (no {@code rpc:call} to it
     * before it has sent something).
     *
     * @param address the address to bind
     * @return this builder
     */
    public Builder listen(SocketAddress address) {
      this.listenAddress = Objects.requireNonNull(address, "address");
      return this;
    }

    /**
     * Whether to register the listening port in EPMD; default: yes when listening on an IP
     * address and the node has no other transport, no otherwise.
     *
     * @param publish whether to publish
     * @return this builder
     */
    public Builder publish(boolean publish) {
      this.publish = publish;
      return this;
    }

    /**
     * Erlang's {@code net_ticktime} in milliseconds (default 60 000); use the Erlang nodes'
     * value, never a much larger one, or they may declare this node down (see
     * {@link EiNode.Builder#tickTimeMillis}).
     *
     * @param millis the tick time
     * @return this builder
     */
    public Builder tickTimeMillis(long millis) {
      this.options = options.withTickTimeMillis(millis);
      return this;
    }

    /**
     * How long a send, link or monitor may wait to connect to a node (default 10 000 ms).
     *
     * @param millis the timeout
     * @return this builder
     */
    public Builder connectTimeoutMillis(long millis) {
      if (millis < 0) {
        throw new IllegalArgumentException("connect timeout must be >= 0, got " + millis);
      }
      this.connectTimeoutMillis = millis;
      return this;
    }

    /**
     * How long a send may wait for the peer to take the bytes (default: for ever).
     *
     * @param millis the timeout; {@link SocketCallbacks#INFINITE} for ever
     * @return this builder
     */
    public Builder sendTimeoutMillis(long millis) {
      this.options = options.withSendTimeoutMillis(millis);
      return this;
    }

    /**
     * The largest frame accepted from a peer; a larger one ends the connection, with a WARN
     * naming this limit. Default: none but the receive budget ({@link #receiveBudgetBytes}),
     * as Erlang has no fixed limit.
     *
     * @param bytes the limit
     * @return this builder
     */
    public Builder maxMessageBytes(int bytes) {
      this.options = options.withMaxMessageBytes(bytes);
      return this;
    }

    /**
     * The node-wide budget for messages received but not yet consumed, in bytes (default: a
     * quarter of the heap, {@code Runtime.maxMemory() / 4}), for the connections of every
     * transport together; see {@link EiNode.Builder#receiveBudgetBytes}. A message counts
     * (an estimate: its frame bytes plus 256) from the moment its length arrives until its
     * mailbox's receive takes it, or the mailbox dies; signals and answers the node handles
     * itself count only while they are routed. With the default {@link BudgetPolicy#PAUSE},
     * a connection whose frame does not fit stops reading until mailboxes have taken enough:
     * messages for every other mailbox on that connection wait too (head-of-line blocking),
     * ticks keep flowing both ways, and other connections go on. See {@code CONCURRENCY.md}.
     *
     * @param bytes the budget, at least 1 MiB
     * @return this builder
     */
    public Builder receiveBudgetBytes(long bytes) {
      if (bytes < (1 << 20)) {
        throw new IllegalArgumentException("receiveBudgetBytes must be at least 1 MiB, got " + bytes);
      }
      this.options = options.withReceiveBudgetBytes(bytes);
      return this;
    }

    /**
     * What a connection does when a frame does not fit in the receive budget (default
     * {@link BudgetPolicy#PAUSE}).
     *
     * @param policy the policy
     * @return this builder
     */
    public Builder budgetPolicy(BudgetPolicy policy) {
      this.options = options.withBudgetPolicy(Objects.requireNonNull(policy, "policy"));
      return this;
    }

    /**
     * The limits the term decoder of every connection enforces on what peers send (default
     * {@link DecodeLimits#DEFAULT}); see {@link EiNode.Builder#decodeLimits}. A term beyond
     * them ends its connection, as any undecodable frame does.
     *
     * @param limits the limits
     * @return this builder
     */
    public Builder decodeLimits(DecodeLimits limits) {
      this.options = options.withDecodeLimits(Objects.requireNonNull(limits, "limits"));
      return this;
    }

    /**
     * How many incoming handshakes may run at once, on all listeners together (default
     * {@value Node#DEFAULT_MAX_PENDING_HANDSHAKES}). Each runs on its own thread, so a peer
     * that connects and stays silent delays nobody; it holds one of these slots until
     * {@link #handshakeTimeoutMillis} ends it. A connection accepted while every slot is taken
     * takes the slot of the pending handshake that has made the least progress (from the
     * address that holds the most slots, with the fewest whole handshake messages, the
     * longest idle; see {@link io.ei4j.connect.HandshakeSlots}), which is closed, counted in
     * {@link Node#refusedHandshakes()} and logged at WARN (rate-limited per address). The
     * limit bounds the threads and sockets that strangers can make the node hold without
     * letting them lock honest peers out.
     *
     * @param handshakes the limit, at least 1
     * @return this builder
     */
    public Builder maxPendingHandshakes(int handshakes) {
      if (handshakes < 1) {
        throw new IllegalArgumentException("maxPendingHandshakes must be at least 1, got " + handshakes);
      }
      this.maxPendingHandshakes = handshakes;
      return this;
    }

    /**
     * How long an incoming handshake may take, from the accept to the acknowledgement
     * (default {@value Node#DEFAULT_HANDSHAKE_TIMEOUT_MILLIS} ms); a peer slower than that is
     * disconnected.
     *
     * @param millis the timeout, at least 1
     * @return this builder
     */
    public Builder handshakeTimeoutMillis(long millis) {
      if (millis < 1) {
        throw new IllegalArgumentException("handshake timeout must be at least 1 ms, got " + millis);
      }
      this.handshakeTimeoutMillis = millis;
      return this;
    }

    /**
     * The queue limit of every mailbox of the node (default {@link Integer#MAX_VALUE}:
     * unbounded, as in Erlang); {@link Mailbox#maxQueueLength(int)} changes one mailbox's.
     * A message that arrives while its mailbox's queue is full is dropped, counted in
     * {@link Mailbox#droppedMessages()} and logged at WARN (one line a minute per mailbox,
     * then a count); the connection it came on, other mailboxes and
     * ticks are unaffected. {@code 'EXIT'} and {@code 'DOWN'} messages are never dropped.
     * See {@code CONCURRENCY.md}.
     *
     * @param messages the limit, at least 1
     * @return this builder
     */
    public Builder maxQueueLength(int messages) {
      this.options = options.withMaxQueueLength(Checks.queueLength(messages));
      return this;
    }

    /**
     * How many Java functions ({@link Node#registerFunction}) may run at once, each on its own
     * thread (default 1024). A spawn request beyond that is refused with
     * {@code system_limit}: {@code erpc:call} raises {@code {erpc, system_limit}}.
     *
     * @param threads the limit, at least 1
     * @return this builder
     */
    public Builder maxFunctionThreads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("maxFunctionThreads must be at least 1, got " + threads);
      }
      this.maxFunctionThreads = threads;
      return this;
    }

    /**
     * The creation when not published (EPMD hands one out otherwise).
     *
     * @param creation the creation
     * @return this builder
     */
    public Builder creation(int creation) {
      this.options = options.withCreation(creation);
      return this;
    }

    /**
     * Starts the node: listens and publishes when asked, and starts accepting.
     *
     * @return the running node
     * @throws IOException when listening or publishing fails (a taken name in EPMD)
     */
    public Node build() throws IOException {
      SocketCallbacks<?> transport = options.transport();
      if (transport == null && namedTransports.isEmpty()) {
        throw new IllegalStateException("a node needs a transport: Node.Builder.transport(...)");
      }
      if (transport == null && (listenAddress != null || publish != null || options.setupContext() != null)) {
        throw new IllegalStateException("listen(), publish() and setupContext() configure transport(SocketCallbacks), which was not given;"
            + " configure named transports on the NamedTransport itself");
      }
      return new Node(this);
    }
  }
}
