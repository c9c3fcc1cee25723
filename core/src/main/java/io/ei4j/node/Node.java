package io.ei4j.node;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiConnectionHandler;
import io.ei4j.connect.EiConnectionLostException;
import io.ei4j.connect.EiHandshakeException;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.epmd.EpmdClient;
import io.ei4j.epmd.EpmdRegistration;
import io.ei4j.epmd.NodeInfo;
import io.ei4j.internal.dist.DistFlags;
import io.ei4j.internal.node.Checks;
import io.ei4j.internal.node.NodeNames;
import io.ei4j.term.DecodeLimits;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 *         .transport(TcpCallbacks.create()).listen(new InetSocketAddress(0)).build()) {
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

  static final ErlAtom ERPC = ErlAtom.of("erpc");
  static final ErlAtom EXECUTE_CALL = ErlAtom.of("execute_call");
  static final ErlAtom EXECUTE_CAST = ErlAtom.of("execute_cast");
  static final ErlAtom RETURN = ErlAtom.of("return");
  static final ErlAtom UNDEF = ErlAtom.of("undef");
  static final ErlAtom MONITOR = ErlAtom.of("monitor");
  static final ErlAtom LINK = ErlAtom.of("link");
  static final ErlAtom NET_KERNEL = ErlAtom.of("net_kernel");

  /** Control message numbers this layer sends or reads beyond what {@link EiMessage} decodes. */
  static final int OP_LINK = 1;
  static final int OP_SEND = 2;
  static final int OP_REG_SEND = 6;
  static final int OP_SEND_SENDER = 22;
  static final ErlAtom UNUSED = ErlAtom.of("");
  static final int OP_EXIT = 3;
  static final int OP_UNLINK = 4;
  static final int OP_EXIT2 = 8;
  static final int OP_MONITOR_P = 19;
  static final int OP_DEMONITOR_P = 20;
  static final int OP_MONITOR_P_EXIT = 21;
  static final int OP_SPAWN_REQUEST = 29;
  static final int OP_SPAWN_REQUEST_TT = 30;
  static final int OP_SPAWN_REPLY = 31;
  static final int OP_ALIAS_SEND = 33;
  static final int OP_ALIAS_SEND_TT = 34;
  static final int OP_UNLINK_ID = 35;

  /** The default of {@link Builder#maxPendingHandshakes}: {@value}. */
  public static final int DEFAULT_MAX_PENDING_HANDSHAKES = 64;
  /** The default of {@link Builder#handshakeTimeoutMillis}: {@value} ms. */
  public static final long DEFAULT_HANDSHAKE_TIMEOUT_MILLIS = 5_000;
  /** How long one accept of the accepting thread waits before it looks at {@code closed}. */
  private static final long ACCEPT_WAIT_MILLIS = 5_000;

  /** The name of the transport given to {@link Builder#transport(SocketCallbacks)}: {@value}. */
  public static final String DEFAULT_TRANSPORT = "default";

  private static final int SPAWN_REPLY_LINKED = 1;
  private static final int SPAWN_REPLY_MONITORED = 2;

  private final EiNode ei;
  private final String nodeName;
  private final ErlAtom nodeAtom;
  private final long connectTimeoutMillis;
  private final long sendTimeoutMillis;
  private final long signalTimeoutMillis;
  /** The transports in the order they were given; each has its own {@link EiNode}. */
  private final List<Slot> slots;
  private final TransportSelector selector;
  private final EpmdClient defaultEpmd;

  private final Map<ErlPid, Mailbox> processes = new ConcurrentHashMap<>();
  private final Map<String, Mailbox> names = new ConcurrentHashMap<>();
  private final Map<ErlRef, Mailbox> aliases = new ConcurrentHashMap<>();
  private final Map<String, EiConnection> connections = new ConcurrentHashMap<>();
  private final Map<String, Pending> pending = new ConcurrentHashMap<>();
  private final Map<String, ErlangFunction> functions = new ConcurrentHashMap<>();
  private final List<NodeListener> nodeListeners = new CopyOnWriteArrayList<>();
  private final AtomicLong unlinkIds = new AtomicLong();
  private final ExecutorService workers;
  private final ExecutorService signals;
  /** Runs the acceptor's side of every incoming handshake, off the accepting threads. */
  private final ExecutorService handshakes;
  /** One permit per handshake that may run at once ({@link Builder#maxPendingHandshakes}). */
  private final Semaphore handshakePermits;
  private final int maxPendingHandshakes;
  private final long handshakeTimeoutMillis;
  private final AtomicLong refusedHandshakes = new AtomicLong();
  private final int maxQueueLength;
  private volatile boolean closed;

  /**
   * One transport of the node: its own {@link EiNode} (same name, cookie, creation and
   * flags as the others; only the callbacks differ), its listener, EPMD registration and
   * accepting thread, and the handler its connections report to, which knows the
   * transport's name.
   */
  private static final class Slot {
    final NamedTransport spec;
    final boolean publish;
    EiNode ei;
    EiListener listener;
    EpmdRegistration registration;
    Thread acceptor;
    Handler handler;

    Slot(NamedTransport spec, boolean publish) {
      this.spec = spec;
      this.publish = publish;
    }

    String name() {
      return spec.name();
    }
  }

  private Node(Builder b) throws IOException {
    this.connectTimeoutMillis = b.connectTimeoutMillis;
    this.sendTimeoutMillis = b.sendTimeoutMillis;
    this.defaultEpmd = b.epmd;
    List<NamedTransport> specs = b.allTransports();
    List<Slot> all = new ArrayList<>();
    for (NamedTransport t : specs) {
      // A node's only transport that listens on an IP port is published unless told
      // otherwise, as before there were several; with several, only when asked.
      boolean publish = t.publishChoice() != null ? t.publishChoice()
          : specs.size() == 1 && t.listenAddress() instanceof InetSocketAddress;
      all.add(new Slot(t, publish));
    }
    this.slots = List.copyOf(all);
    this.selector = b.selector;
    this.nodeName = b.nodeName;
    this.nodeAtom = ErlAtom.of(nodeName);
    // One thread per running call, up to the limit; beyond it a spawn request is refused
    // with system_limit, as Erlang refuses a spawn when its process table is full.
    this.workers = new ThreadPoolExecutor(0, b.maxFunctionThreads, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
        daemon("ei4j-fn-" + nodeName));
    this.signals = Executors.newSingleThreadExecutor(daemon("ei4j-signals-" + nodeName));
    this.maxPendingHandshakes = b.maxPendingHandshakes;
    this.handshakePermits = new Semaphore(b.maxPendingHandshakes);
    this.handshakeTimeoutMillis = b.handshakeTimeoutMillis;
    this.maxQueueLength = b.maxQueueLength;
    // Threads are bounded by the permits (plus the few that are finishing a task); idle
    // ones go away after a while, so a quiet node holds none.
    this.handshakes = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 10, TimeUnit.SECONDS, new SynchronousQueue<>(),
        daemon("ei4j-handshake-" + nodeName));
    try {
      // The transport published first takes its creation from EPMD; every other transport
      // is built with that creation, so that pids, references and handshakes agree.
      Slot first = slots.stream().filter(s -> s.publish).findFirst().orElse(slots.get(0));
      start(first, b, null);
      int creation = first.ei.creation();
      for (Slot s : slots) {
        if (s != first) {
          start(s, b, creation);
        }
      }
    } catch (IOException | RuntimeException e) {
      for (Slot s : slots) {
        stop(s);
      }
      workers.shutdownNow();
      signals.shutdownNow();
      handshakes.shutdownNow();
      throw e;
    }
    this.ei = slots.get(0).ei;
    this.signalTimeoutMillis = Math.max(1, ei.tickTimeMillis() / 4);
    for (Slot s : slots) {
      if (s.listener != null) {
        String threadName = "ei4j-accept-" + nodeName + (slots.size() == 1 ? "" : "-" + s.name());
        s.acceptor = new Thread(() -> acceptLoop(s), threadName);
        s.acceptor.setDaemon(true);
        s.acceptor.start();
      }
    }
    RexServer.start(this); // rex hook: rpc callers that go through the registered rex
  }

  /** Builds the slot's EiNode, listens and publishes as asked. */
  private void start(Slot s, Builder b, Integer creation) throws IOException {
    NamedTransport t = s.spec;
    s.handler = new Handler(s);
    EiNode.Builder eb = EiNode.builder(b.nodeName)
        .advertise(DistFlags.SPAWN | DistFlags.ALIAS | DistFlags.DIST_MONITOR_NAME)
        .connectionHandler(s.handler)
        .tickTimeMillis(b.tickTimeMillis)
        .sendTimeoutMillis(b.sendTimeoutMillis)
        .maxMessageBytes(b.maxMessageBytes)
        .decodeLimits(b.decodeLimits)
        .transport(t.callbacks())
        .setupContext(t.setupContext());
    if (b.cookie != null) {
      eb.cookie(b.cookie);
    }
    EpmdClient epmd = t.epmdClient() != null ? t.epmdClient() : b.epmd;
    if (epmd != null) {
      eb.epmd(epmd);
    }
    if (creation != null) {
      eb.creation(creation);
    } else if (b.creationSet) {
      eb.creation(b.creation);
    }
    s.ei = eb.build();
    if (creation != null && s.ei.creation() != creation) {
      throw new IllegalStateException("transport " + t.name() + " cannot take the node's creation " + Integer.toUnsignedString(creation)
          + " (creations below 4 are reserved)");
    }
    if (t.listenAddress() != null) {
      s.listener = s.ei.listen(t.listenAddress(), 128);
      if (s.publish) {
        if (!(s.listener.address() instanceof InetSocketAddress isa)) {
          throw new IllegalStateException("only a transport listening on an IP port can be published in EPMD, not "
              + t.name() + " on " + s.listener.address());
        }
        if (creation == null) {
          s.registration = s.ei.publish(isa.getPort());
        } else {
          // A second publication, necessarily in another EPMD: its creation is not used.
          EpmdClient where = epmd != null ? epmd : new EpmdClient(s.ei.host(), EpmdClient.defaultPort(), EpmdClient.DEFAULT_TIMEOUT_MILLIS);
          s.registration = where.register(s.ei.alive(), isa.getPort(), true);
        }
      }
    } else if (s.publish) {
      throw new IllegalStateException("transport " + t.name() + " is to be published in EPMD but does not listen");
    }
  }

  private static void stop(Slot s) {
    if (s.acceptor != null) {
      s.acceptor.interrupt();
    }
    if (s.ei != null) {
      s.ei.close();
    }
    if (s.registration != null) {
      s.registration.close();
    }
  }

  /**
   * A builder for a node.
   *
   * @param nodeName the full name, {@code alive@host}, as Erlang nodes will call it
   * @return the builder
   */
  public static Builder builder(String nodeName) {
    return new Builder(Objects.requireNonNull(nodeName, "nodeName"));
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
   * transport. Connections made directly through it bypass this node's routing.
   *
   * @return the handle
   */
  public EiNode eiNode() {
    return ei;
  }

  /**
   * Where the node accepts connections: the address of the first transport that listens.
   *
   * @return the bound address, or null when the node does not listen
   */
  public SocketAddress listenAddress() {
    for (Slot s : slots) {
      if (s.listener != null) {
        return s.listener.address();
      }
    }
    return null;
  }

  /**
   * Where one transport accepts connections.
   *
   * @param transport the transport's name
   * @return the bound address, or null when that transport does not listen
   * @throws IllegalArgumentException when the node has no such transport
   */
  public SocketAddress listenAddress(String transport) {
    EiListener l = slot(transport).listener;
    return l == null ? null : l.address();
  }

  /**
   * The names of the node's transports, in the order they were given; a node built with
   * {@link Builder#transport(SocketCallbacks)} has one, {@value #DEFAULT_TRANSPORT}.
   *
   * @return the names
   */
  public List<String> transports() {
    List<String> names = new ArrayList<>(slots.size());
    for (Slot s : slots) {
      names.add(s.name());
    }
    return names;
  }

  /**
   * The transport of the live connection to {@code peer}.
   *
   * @param peer the node's full name
   * @return the transport's name, or empty when not connected
   */
  public Optional<String> transportOf(String peer) {
    EiConnection c = connections.get(peer);
    return c == null || !c.isOpen() ? Optional.empty() : Optional.of(transportOf(c));
  }

  private String transportOf(EiConnection c) {
    EiNode n = c.node();
    for (Slot s : slots) {
      if (s.ei == n) {
        return s.name();
      }
    }
    return "?";
  }

  private Slot slot(String transport) {
    for (Slot s : slots) {
      if (s.name().equals(transport)) {
        return s;
      }
    }
    throw new IllegalArgumentException("node " + nodeName + " has no transport '" + transport + "'; it has " + transports());
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
    processes.put(m.pid(), m);
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
    if (names.putIfAbsent(name, m) != null) {
      processes.remove(m.pid());
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
    return names.get(name);
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
    if (arity < 0 || arity > 255) {
      throw new IllegalArgumentException("arity must be 0..255, got " + arity);
    }
    ErlAtom.of(module);
    ErlAtom.of(function);
    functions.put(key(module, function, arity), Objects.requireNonNull(f, "f"));
  }

  /**
   * Removes a registered function; later calls get {@code undef}.
   *
   * @param module the module atom's name
   * @param function the function atom's name
   * @param arity the number of arguments
   */
  public void unregisterFunction(String module, String function, int arity) {
    functions.remove(key(module, function, arity));
  }

  /** The registered function a call names, else a built-in one ({@link CallTarget#builtin}), else null. */
  private ErlangFunction function(CallTarget t) {
    ErlangFunction fn = functions.get(key(t.module().name(), t.function().name(), t.args().size()));
    return fn != null ? fn : t.builtin();
  }

  private static String key(String m, String f, int arity) {
    return m + ":" + f + "/" + arity;
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

  long sendTimeoutMillis() {
    return sendTimeoutMillis;
  }

  // ---- nodes ----

  /**
   * Adds a listener for node up/down events.
   *
   * @param l the listener
   */
  public void addNodeListener(NodeListener l) {
    nodeListeners.add(Objects.requireNonNull(l, "l"));
  }

  /**
   * Removes a listener.
   *
   * @param l the listener
   */
  public void removeNodeListener(NodeListener l) {
    nodeListeners.remove(l);
  }

  /**
   * The nodes this node has a live connection to.
   *
   * @return a snapshot of their names
   */
  public Set<String> connectedNodes() {
    Set<String> s = ConcurrentHashMap.newKeySet();
    connections.forEach((k, c) -> {
      if (c.isOpen()) {
        s.add(k);
      }
    });
    return s;
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
      connection(peer, timeoutMillis);
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
    slot(Objects.requireNonNull(transport, "transport"));
    return transportOf(connection(peer, timeoutMillis, transport));
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

  EiConnection connection(String peer) throws IOException {
    return connection(peer, connectTimeoutMillis);
  }

  /**
   * A connection being made to a peer: by this node ({@code own}) or by the peer, whose
   * handshake the accepting thread is running. Callers that want the peer meanwhile wait
   * for it instead of starting a second connection.
   */
  private record Pending(boolean own, CompletableFuture<EiConnection> future) {}

  /**
   * The live connection to {@code peer}, made now if there is none. Concurrent callers for
   * the same peer share one attempt, and wait for a handshake the peer started if one is
   * under way; an attempt refused with {@code nok} (the peer's own simultaneous connection
   * wins) waits for the peer's connection to be accepted. When an accepted handshake that
   * a caller waited for fails, the caller tries once by itself.
   */
  EiConnection connection(String peer, long timeoutMillis) throws IOException {
    return connection(peer, timeoutMillis, null);
  }

  /** {@link #connection(String, long)}, over {@code transport} when not null, else the one the selector picks. */
  private EiConnection connection(String peer, long timeoutMillis, String transport) throws IOException {
    for (boolean retried = false; ; retried = true) {
      EiConnection c = connections.get(peer);
      if (c != null && c.isOpen()) {
        return c;
      }
      ensureOpen();
      if (peer.equals(nodeName)) {
        throw new IllegalArgumentException("a node does not connect to itself: " + peer);
      }
      Pending mine = new Pending(true, new CompletableFuture<>());
      Pending other = pending.putIfAbsent(peer, mine);
      if (other != null) {
        try {
          return await(other, peer, timeoutMillis);
        } catch (IOException e) {
          if (other.own() || retried) {
            throw e;
          }
          continue;
        }
      }
      // install() adds the connection before it clears pending: look again.
      c = connections.get(peer);
      if (c != null && c.isOpen()) {
        pending.remove(peer, mine);
        mine.future().complete(c);
        return c;
      }
      Slot via = null;
      try {
        via = choose(peer, transport);
        EiConnection nc = via.ei.connect(peer, timeoutMillis);
        install(nc, true);
        mine.future().complete(nc);
        return nc;
      } catch (EiHandshakeException e) {
        if (via != null && Trace.on()) {
          Trace.refused(nodeName, via.name(), peer, e.status() != null ? e.status() : e.getMessage());
        }
        if ("nok".equals(e.status()) || "alive".equals(e.status())) {
          // nok: the peer's simultaneous connection wins and is being accepted here;
          // alive (withdrawn): the peer's connection was accepted while ours was under way.
          LOG.debug("simultaneous connect with {}: its connection wins ({})", peer, e.status());
          return await(mine, peer, timeoutMillis);
        }
        pending.remove(peer, mine);
        mine.future().completeExceptionally(e);
        throw e;
      } catch (IOException | RuntimeException e) {
        if (via != null && Trace.on()) {
          Trace.refused(nodeName, via.name(), peer, e.toString());
        }
        pending.remove(peer, mine);
        mine.future().completeExceptionally(e);
        throw e;
      }
    }
  }

  /**
   * The transport for a new connection to {@code peer}: the explicit one, else the
   * selector's choice, else the only (first) transport.
   */
  private Slot choose(String peer, String transport) throws IOException {
    Slot s;
    String why;
    if (transport != null) {
      s = slot(transport);
      why = "explicit choice";
    } else if (selector != null) {
      String name = selector.select(new SelectorPeer(peer));
      if (name == null) {
        throw new IllegalStateException("the transport selector of " + nodeName + " chose no transport for " + peer);
      }
      s = slot(name);
      why = "selector";
    } else {
      s = slots.get(0);
      why = slots.size() == 1 ? "only transport" : "first transport (no selector)";
    }
    if (Trace.on()) {
      Trace.select(nodeName, s.name(), peer, why);
    }
    return s;
  }

  /** What a selector sees of a peer; EPMD is asked on the first {@link #epmd()} only. */
  private final class SelectorPeer implements TransportSelector.Peer {
    private final String peer;
    private Optional<NodeInfo> info;

    SelectorPeer(String peer) {
      NodeNames.separator(peer);
      this.peer = peer;
    }

    @Override
    public String nodeName() {
      return peer;
    }

    @Override
    public Optional<NodeInfo> epmd() throws IOException {
      if (info == null) {
        EpmdClient c = defaultEpmd != null ? defaultEpmd
            : new EpmdClient(host(), EpmdClient.defaultPort(), Math.min(EpmdClient.DEFAULT_TIMEOUT_MILLIS, Math.max(1, connectTimeoutMillis)));
        info = c.portPlease(alive());
      }
      return info;
    }
  }

  private EiConnection await(Pending p, String peer, long timeoutMillis) throws IOException {
    CompletableFuture<EiConnection> f = p.future();
    try {
      return timeoutMillis < 0 ? f.get() : f.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      pending.remove(peer, p);
      throw new ErrnoException(Errno.ETIMEDOUT, "no connection to " + peer + " within " + timeoutMillis + " ms");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw new IOException(io.getMessage(), io);
      }
      throw new IOException("connecting to " + peer + " failed: " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while connecting to " + peer);
    }
  }

  private void install(EiConnection c, boolean initiated) {
    String peer = c.peerNodeName();
    EiConnection old = connections.put(peer, c);
    if (old != null && old != c) {
      // A new connection from a restarted or reconnecting peer replaces the old one.
      connections.remove(peer, old);
      old.close();
      down(old, "replaced by a new connection");
      connections.put(peer, c);
    }
    if (Trace.on()) {
      // Traced once the connection is in the table: whoever reads "up" can find it.
      Trace.up(nodeName, transportOf(c), peer, initiated, c.peerFlags(), c.peerCreation());
    }
    Pending p = pending.remove(peer);
    if (p != null) {
      p.future().complete(c);
    }
    if (!c.isOpen()) {
      // It died before it was installed, so onDown found nothing to remove: fire the
      // noconnection signals for what its first messages may have linked or monitored.
      if (connections.remove(peer, c) && !closed) {
        signals.execute(() -> down(c, "the connection was lost while it was being set up"));
      }
      return;
    }
    for (NodeListener l : nodeListeners) {
      try {
        l.nodeUp(peer);
      } catch (RuntimeException e) {
        LOG.warn("node listener failed on nodeUp({})", peer, e);
      }
    }
  }

  /**
   * Accepts sockets and hands each to a handshake thread at once, so that a peer that
   * connects and says nothing never delays the next one. At most
   * {@link Builder#maxPendingHandshakes} handshakes run at a time; a socket accepted beyond
   * that is closed at once and counted in {@link #refusedHandshakes()}.
   */
  private void acceptLoop(Slot s) {
    while (!closed) {
      EiListener.Incoming in;
      try {
        // The wait bounds how late the loop notices close() on a transport whose accept a
        // closed listener does not wake. It is not short: a transport that runs work of its
        // own inside accept (TLS runs its handshake there) gets what is left of it.
        in = s.listener.acceptSocket(ACCEPT_WAIT_MILLIS);
      } catch (IOException | RuntimeException e) {
        acceptFailed(e);
        continue;
      }
      if (!handshakePermits.tryAcquire()) {
        // Counted before the close: the peer that sees the close may ask at once.
        long n = refusedHandshakes.incrementAndGet();
        in.close();
        LOG.debug("{}: closed a connection from {} at once: {} handshakes are already under way (maxPendingHandshakes); {} refused so far",
            nodeName, in.peerAddress(), maxPendingHandshakes, n);
        continue;
      }
      try {
        handshakes.execute(() -> handshake(s, in));
      } catch (RejectedExecutionException e) {
        // Only after close(): the executor is shut down.
        handshakePermits.release();
        in.close();
      }
    }
  }

  /** Runs on a handshake thread: the acceptor's handshake, then the connection is installed. */
  private void handshake(Slot s, EiListener.Incoming in) {
    Handler h = s.handler;
    try {
      install(in.handshake(handshakeTimeoutMillis), false);
    } catch (IOException | RuntimeException e) {
      Handler.Accepting a = h.accepting.get();
      if (a != null && pending.remove(a.peer(), a.pending())) {
        a.pending().future().completeExceptionally(new IOException("the connection " + a.peer() + " started failed: " + e.getMessage(), e));
      }
      if (Trace.on() && a != null) {
        Trace.refused(nodeName, s.name(), a.peer(), e instanceof EiHandshakeException he && he.status() != null ? he.status() : e.toString());
      }
      if (!closed) {
        LOG.debug("handshake on {} with {} failed: {}", nodeName, a != null ? a.peer() : in.peerAddress(), e.toString());
      }
    } finally {
      h.accepting.remove();
      handshakePermits.release();
    }
  }

  /**
   * How many incoming handshakes are under way now, on all listeners.
   *
   * @return a number between 0 and {@link Builder#maxPendingHandshakes}
   */
  public int pendingHandshakes() {
    return maxPendingHandshakes - handshakePermits.availablePermits();
  }

  /**
   * How many accepted connections were closed without a handshake because
   * {@link Builder#maxPendingHandshakes} handshakes were already under way.
   *
   * @return the count since the node started
   */
  public long refusedHandshakes() {
    return refusedHandshakes.get();
  }

  /** A failed accept: a timeout means nobody came; anything else is logged, and errors of the listener slow the loop down. */
  private void acceptFailed(Exception e) {
    if (closed) {
      return;
    }
    if (e instanceof ErrnoException ee && ee.isTimeout()) {
      return;
    }
    LOG.debug("accept on {}: {}", nodeName, e.toString());
    if (e instanceof ErrnoException) {
      pause();
    }
  }

  private static void pause() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A connection went down: noconnection to links and monitors that involve its node. */
  private void down(EiConnection c, String why) {
    String peer = c.peerNodeName();
    ErlAtom peerAtom = ErlAtom.of(peer);
    for (Mailbox m : processes.values()) {
      for (ErlPid p : m.links) {
        if (p.node().equals(peerAtom) && m.links.remove(p)) {
          m.exitSignal(p, Mailbox.NOCONNECTION, true);
        }
      }
      m.monitoring.forEach((ref, mon) -> {
        if (peer.equals(mon.nodeName()) && m.monitoring.remove(ref, mon)) {
          m.deliverSignal(ErlTuple.of(Mailbox.DOWN, ref, Mailbox.PROCESS, mon.downObject(), Mailbox.NOCONNECTION));
        }
      });
      m.watchers.values().removeIf(w -> w.watcher().node().equals(peerAtom));
    }
    for (NodeListener l : nodeListeners) {
      try {
        l.nodeDown(peer, why);
      } catch (RuntimeException e) {
        LOG.warn("node listener failed on nodeDown({})", peer, e);
      }
    }
  }

  // ---- sending ----

  private boolean isLocal(ErlAtom node) {
    return nodeAtom.equals(node);
  }

  void send(ErlPid from, ErlPid to, ErlTerm message) throws IOException {
    if (isLocal(to.node())) {
      Mailbox m = processes.get(to);
      if (m != null) {
        m.deliver(message);
      }
      return;
    }
    EiConnection c = connection(to.node().name());
    if (Trace.on()) {
      ErlTuple control = from != null && (c.peerFlags() & DistFlags.SEND_SENDER) != 0
          ? ErlTuple.of(ErlInteger.of(OP_SEND_SENDER), from, to) : ErlTuple.of(ErlInteger.of(OP_SEND), UNUSED, to);
      Trace.out(nodeName, transportOf(c), c.peerNodeName(), control, message);
    }
    c.send(from, to, message, sendTimeoutMillis);
  }

  /** Sends a control message on {@code c}, traced. */
  void sendControl(EiConnection c, ErlTuple control, ErlTerm payload, long timeoutMillis) throws IOException {
    if (Trace.on()) {
      Trace.out(nodeName, transportOf(c), c.peerNodeName(), control, payload);
    }
    c.sendControl(control, payload, timeoutMillis);
  }

  void sendLocalName(String name, ErlTerm message) {
    Mailbox m = names.get(name);
    if (m != null) {
      m.deliver(message);
    }
  }

  void sendName(ErlPid from, String name, String node, ErlTerm message) throws IOException {
    if (node.equals(nodeName)) {
      sendLocalName(name, message);
      return;
    }
    EiConnection c = connection(node);
    if (Trace.on()) {
      Trace.out(nodeName, transportOf(c), node, ErlTuple.of(ErlInteger.of(OP_REG_SEND), from, UNUSED, ErlAtom.of(name)), message);
    }
    c.regSend(from, name, message, sendTimeoutMillis);
  }

  void sendAlias(ErlPid from, ErlRef alias, ErlTerm message) throws IOException {
    if (isLocal(alias.node())) {
      Mailbox m = aliases.get(alias);
      if (m != null) {
        m.deliver(message);
      }
      return;
    }
    EiConnection c = connection(alias.node().name());
    if (!PeerCapabilities.of(c).aliases()) {
      // PeerCapabilities hook: a node without DFLAG_ALIAS made no alias; Erlang drops the message.
      LOG.debug("{}: message to alias {} dropped: {} has no DFLAG_ALIAS", nodeName, alias, c.peerNodeName());
      return;
    }
    sendControl(c, ErlTuple.of(ErlInteger.of(OP_ALIAS_SEND), from, alias), message, sendTimeoutMillis);
  }

  /**
   * Sends a control message to the node of {@code target}, connecting when {@code connect};
   * failures are reported through the return value only, for signals whose loss the
   * protocol already covers (a lost connection fires noconnection on the other side).
   */
  private boolean signal(String targetNode, ErlTuple control, boolean connect) {
    try {
      EiConnection c = connect ? connection(targetNode) : connections.get(targetNode);
      if (c == null || !c.isOpen()) {
        return false;
      }
      sendControl(c, control, null, signalTimeoutMillis);
      return true;
    } catch (IOException | RuntimeException e) {
      LOG.debug("signal {} to {} not sent: {}", control, targetNode, e.toString());
      return false;
    }
  }

  void link(Mailbox from, ErlPid to) {
    if (isLocal(to.node())) {
      Mailbox m = processes.get(to);
      if (m == null || !linkArrived(from.pid(), m)) {
        from.links.remove(to);
        from.exitSignal(to, Mailbox.NOPROC, true);
      }
      return;
    }
    if (!signal(to.node().name(), ErlTuple.of(ErlInteger.of(OP_LINK), from.pid(), to), true)) {
      from.links.remove(to);
      from.exitSignal(to, Mailbox.NOCONNECTION, true);
    }
  }

  /**
   * Records a link from {@code from} on {@code to}; false when {@code to} is dead, also when
   * it died while the link was being added and its exit did not see the link.
   */
  private static boolean linkArrived(ErlPid from, Mailbox to) {
    if (to.isClosed()) {
      return false;
    }
    to.links.add(from);
    return !to.isClosed() || !to.links.remove(from);
  }

  void unlink(Mailbox from, ErlPid to) {
    if (isLocal(to.node())) {
      Mailbox m = processes.get(to);
      if (m != null) {
        m.links.remove(from.pid());
      }
      return;
    }
    EiConnection c = connections.get(to.node().name());
    if (c == null || !c.isOpen()) {
      return;
    }
    ErlTuple control = PeerCapabilities.of(c).unlinkId()
        ? ErlTuple.of(ErlInteger.of(OP_UNLINK_ID), ErlInteger.of(unlinkIds.incrementAndGet()), from.pid(), to)
        : ErlTuple.of(ErlInteger.of(OP_UNLINK), from.pid(), to);
    signal(to.node().name(), control, false);
  }

  void exit2(ErlPid from, ErlPid to, ErlTerm reason) throws IOException {
    if (isLocal(to.node())) {
      Mailbox m = processes.get(to);
      if (m != null) {
        m.exitSignal(from, reason, false);
      }
      return;
    }
    sendControl(connection(to.node().name()), ErlTuple.of(ErlInteger.of(OP_EXIT2), from, to, reason), null, sendTimeoutMillis);
  }

  ErlRef monitor(Mailbox from, ErlTerm target, String targetNode, ErlTerm downObject) {
    ErlRef ref = ei.makeRef();
    Mailbox.Monitoring mon = new Mailbox.Monitoring(target, targetNode, downObject);
    from.monitoring.put(ref, mon);
    if (targetNode.equals(nodeName)) {
      Mailbox m = target instanceof ErlPid p ? processes.get(p) : names.get(((ErlAtom) target).name());
      if (m == null || !watch(m, ref, from.pid(), target)) {
        if (from.monitoring.remove(ref, mon)) {
          from.deliverSignal(ErlTuple.of(Mailbox.DOWN, ref, Mailbox.PROCESS, downObject, Mailbox.NOPROC));
        }
      }
      return ref;
    }
    // PeerCapabilities hook: a peer that cannot take MONITOR_P gets none; the monitor stays
    // local and fires noconnection when the connection goes (down()), as on Erlang.
    EiConnection c;
    try {
      c = connection(targetNode);
    } catch (IOException | RuntimeException e) {
      c = null;
    }
    boolean kept = c != null && c.isOpen() && (!PeerCapabilities.of(c).remoteMonitor(target instanceof ErlAtom)
        || signal(targetNode, ErlTuple.of(ErlInteger.of(OP_MONITOR_P), from.pid(), target, ref), false));
    if (!kept) {
      if (from.monitoring.remove(ref, mon)) {
        from.deliverSignal(ErlTuple.of(Mailbox.DOWN, ref, Mailbox.PROCESS, downObject, Mailbox.NOCONNECTION));
      }
    }
    return ref;
  }

  private static boolean watch(Mailbox target, ErlRef ref, ErlPid watcher, ErlTerm toProc) {
    if (target.isClosed()) {
      return false;
    }
    target.watchers.put(ref, new Mailbox.Watcher(watcher, toProc));
    // closed in between: its exit already sent DOWNs to the watchers it saw; this one too
    return !target.isClosed() || target.watchers.remove(ref) == null;
  }

  void demonitor(Mailbox from, ErlRef ref, Mailbox.Monitoring mon) {
    if (mon.nodeName().equals(nodeName)) {
      Mailbox m = mon.target() instanceof ErlPid p ? processes.get(p) : names.get(((ErlAtom) mon.target()).name());
      if (m != null) {
        m.watchers.remove(ref);
      }
      return;
    }
    EiConnection c = connections.get(mon.nodeName());
    if (c != null && PeerCapabilities.of(c).remoteMonitor(mon.target() instanceof ErlAtom)) { // PeerCapabilities hook
      signal(mon.nodeName(), ErlTuple.of(ErlInteger.of(OP_DEMONITOR_P), from.pid(), mon.target(), ref), false);
    }
  }

  void addAlias(Mailbox m, ErlRef ref) {
    m.aliases.add(ref);
    aliases.put(ref, m);
  }

  boolean removeAlias(Mailbox m, ErlRef ref) {
    m.aliases.remove(ref);
    return aliases.remove(ref, m);
  }

  /** A mailbox died: unregister it, then signal its links and monitors. */
  void exited(Mailbox m, ErlTerm reason) {
    processes.remove(m.pid());
    String name = m.name();
    if (name != null) {
      names.remove(name, m);
    }
    for (ErlRef a : m.aliases) {
      aliases.remove(a, m);
    }
    if (closed) {
      return;
    }
    for (ErlPid p : m.links) {
      m.links.remove(p);
      if (isLocal(p.node())) {
        Mailbox other = processes.get(p);
        if (other != null && other.links.remove(m.pid())) {
          other.exitSignal(m.pid(), reason, true);
        }
      } else {
        signal(p.node().name(), ErlTuple.of(ErlInteger.of(OP_EXIT), m.pid(), p, reason), false);
      }
    }
    m.watchers.forEach((ref, w) -> {
      if (m.watchers.remove(ref) == null) {
        return;
      }
      if (isLocal(w.watcher().node())) {
        Mailbox other = processes.get(w.watcher());
        if (other != null) {
          Mailbox.Monitoring mon = other.monitoring.remove(ref);
          if (mon != null) {
            other.deliverSignal(ErlTuple.of(Mailbox.DOWN, ref, Mailbox.PROCESS, mon.downObject(), reason));
          }
        }
      } else {
        signal(w.watcher().node().name(),
            ErlTuple.of(ErlInteger.of(OP_MONITOR_P_EXIT), w.toProc(), w.watcher(), ref, reason), false);
      }
    });
    m.monitoring.forEach((ref, mon) -> {
      if (m.monitoring.remove(ref) != null) {
        demonitor(m, ref, mon);
      }
    });
  }

  // ---- incoming ----

  /** What the connections of one transport report to; knows the transport for the trace. */
  private final class Handler implements EiConnectionHandler {
    private final Slot slot;
    /**
     * The peer-started handshake that the current handshake thread registered in
     * {@code pending}, so that a failure can withdraw it. Handshakes run on many threads at
     * once; each sees only its own.
     */
    final ThreadLocal<Accepting> accepting = new ThreadLocal<>();

    record Accepting(String peer, Pending pending) {}

    Handler(Slot slot) {
      this.slot = slot;
    }

    @Override
    public void onMessage(EiConnection c, EiMessage msg) {
      if (Trace.on()) {
        Trace.in(nodeName, slot.name(), c.peerNodeName(), msg);
      }
      try {
        route(c, msg);
      } catch (RuntimeException e) {
        LOG.warn("{}: dropped a malformed {} from {}: {}", nodeName, msg.getClass().getSimpleName(), c.peerNodeName(), e.toString());
      }
    }

    @Override
    public void onDown(EiConnection c, EiConnectionLostException reason) {
      if (Trace.on()) {
        Trace.down(nodeName, slot.name(), c.peerNodeName(), reason.getMessage());
      }
      if (closed) {
        return;
      }
      if (connections.remove(c.peerNodeName(), c)) {
        String why = reason.getMessage();
        signals.execute(() -> down(c, why));
      }
    }

    @Override
    public boolean replaceExisting(String peer) {
      // Only when this node has no live connection of its own to the peer: otherwise this
      // attempt lost a simultaneous connect and the installed connection stays.
      EiConnection c = peer == null ? null : connections.get(peer);
      return c == null || !c.isOpen();
    }

    @Override
    public String acceptStatus(String peer) {
      String status = status(peer);
      if (Trace.on()) {
        Trace.status(nodeName, slot.name(), peer, status);
      }
      return status;
    }

    private String status(String peer) {
      if (closed) {
        return "not_allowed";
      }
      Pending p = pending.get(peer);
      if (p == null) {
        EiConnection existing = connections.get(peer);
        if (existing != null && existing.isOpen()) {
          // The peer decides: a restarted peer or one that lost the connection replaces it;
          // an ei4j node whose own simultaneous attempt arrives late withdraws.
          return "alive";
        }
        Pending mine = new Pending(false, new CompletableFuture<>());
        p = pending.putIfAbsent(peer, mine);
        if (p == null) {
          // Senders on this node now wait for this handshake instead of connecting too.
          accepting.set(new Accepting(peer, mine));
          return "ok";
        }
      }
      if (p.own()) {
        return peer.compareTo(nodeName) > 0 ? "ok_simultaneous" : "nok";
      }
      // The peer is already connecting on another listener (or another process with its
      // name is): the handshake under way wins, as this node's own attempt would.
      return "nok";
    }
  }

  private void route(EiConnection c, EiMessage msg) {
    if (msg instanceof EiMessage.Send s) {
      Mailbox m = processes.get(s.to());
      if (m != null) {
        m.arrivedVia(c);
        m.deliver(s.message());
      }
    } else if (msg instanceof EiMessage.RegSend r) {
      Mailbox m = names.get(r.toName().name());
      if (m != null) {
        m.arrivedVia(c);
        m.deliver(r.message());
      }
    } else if (msg instanceof EiMessage.Link l) {
      Mailbox m = processes.get(l.to());
      if (m == null || !linkArrived(l.from(), m)) {
        answer(c, ErlTuple.of(ErlInteger.of(OP_EXIT), l.to(), l.from(), Mailbox.NOPROC));
      }
    } else if (msg instanceof EiMessage.Unlink u) {
      Mailbox m = processes.get(u.to());
      if (m != null) {
        m.links.remove(u.from());
      }
    } else if (msg instanceof EiMessage.Exit e) {
      Mailbox m = processes.get(e.to());
      if (m != null && m.links.remove(e.from())) {
        m.exitSignal(e.from(), e.reason(), true);
      }
    } else if (msg instanceof EiMessage.Exit2 e) {
      Mailbox m = processes.get(e.to());
      if (m != null) {
        m.exitSignal(e.from(), e.reason(), false);
      }
    } else if (msg instanceof EiMessage.Monitor mon) {
      Mailbox m = mon.toProc() instanceof ErlPid p ? processes.get(p)
          : mon.toProc() instanceof ErlAtom a ? names.get(a.name()) : null;
      if (m == null && NET_KERNEL.equals(mon.toProc())) {
        // net_adm:ping/1 monitors {net_kernel, Node} before it asks is_auth, which the
        // connection answers itself: that net_kernel lives as long as the connection, so
        // the monitor stands (a noproc would make the ping fail with pang).
        return;
      }
      if (m == null || !watch(m, mon.ref(), mon.from(), mon.toProc())) {
        answer(c, ErlTuple.of(ErlInteger.of(OP_MONITOR_P_EXIT), mon.toProc(), mon.from(), mon.ref(), Mailbox.NOPROC));
      }
    } else if (msg instanceof EiMessage.Demonitor d) {
      Mailbox m = d.toProc() instanceof ErlPid p ? processes.get(p)
          : d.toProc() instanceof ErlAtom a ? names.get(a.name()) : null;
      if (m != null) {
        m.watchers.remove(d.ref());
      }
    } else if (msg instanceof EiMessage.MonitorExit x) {
      Mailbox m = processes.get(x.to());
      if (m != null) {
        Mailbox.Monitoring mon = m.monitoring.remove(x.ref());
        if (mon != null) {
          m.deliverSignal(ErlTuple.of(Mailbox.DOWN, x.ref(), Mailbox.PROCESS, mon.downObject(), x.reason()));
        }
      }
    } else if (msg instanceof EiMessage.Other o) {
      routeOther(c, o.control(), o.payload());
    }
    // GROUP_LEADER: a Java mailbox has no I/O to redirect; ignored.
  }

  /**
   * Answers a signal on the connection it came from (which may not be installed yet), with a
   * bounded wait so that a peer that does not read cannot hold the reader thread for long.
   */
  private void answer(EiConnection c, ErlTuple control) {
    try {
      sendControl(c, control, null, signalTimeoutMillis);
    } catch (IOException e) {
      LOG.debug("{}: could not answer {} to {}: {}", nodeName, control, c.peerNodeName(), e.toString());
    }
  }

  private void routeOther(EiConnection c, ErlTuple t, ErlTerm payload) {
    if (t.arity() < 1 || !(t.get(0) instanceof ErlInteger op) || !op.isInt()) {
      LOG.debug("{}: ignored a control message without an operation from {}: {}", nodeName, c.peerNodeName(), t);
      return;
    }
    switch (op.intValue()) {
      case OP_ALIAS_SEND, OP_ALIAS_SEND_TT -> {
        if (t.arity() >= 3 && t.get(2) instanceof ErlRef alias && payload != null) {
          Mailbox m = aliases.get(alias);
          if (m != null) {
            m.deliver(payload);
          }
        }
      }
      case OP_SPAWN_REQUEST, OP_SPAWN_REQUEST_TT -> spawnRequest(c, t, payload);
      case OP_SPAWN_REPLY -> {
        // {31, ReqId, To, Flags, Result}: to the caller as {spawn_reply, ReqId, ok | error, Result}
        Mailbox m = t.arity() == 5 && t.get(2) instanceof ErlPid to ? processes.get(to) : null;
        if (m != null) {
          ErlTerm r = t.get(4);
          m.deliverSignal(ErlTuple.of(RemoteCalls.SPAWN_REPLY, t.get(1), r instanceof ErlPid ? RemoteCalls.OK : RemoteCalls.ERROR, r));
        }
      }
      default -> LOG.debug("{}: ignored control message {} from {}", nodeName, t, c.peerNodeName());
    }
  }

  // ---- spawn requests (erpc, rpc:call, spawn/4) ----

  /**
   * {@code {29, ReqId, From, GroupLeader, {M, F, Arity}, OptList}} with the argument list
   * as payload. The new process is a mailbox; the reply
   * {@code {31, ReqId, From, Flags, Pid}} goes out before the function runs, so the
   * requester knows the pid before any exit or {@code 'DOWN'} of it.
   */
  private void spawnRequest(EiConnection c, ErlTuple t, ErlTerm payload) {
    if (t.arity() != 6 || !(t.get(1) instanceof ErlRef reqId) || !(t.get(2) instanceof ErlPid from)
        || !(t.get(4) instanceof ErlTuple mfa) || mfa.arity() != 3
        || !(mfa.get(0) instanceof ErlAtom mod) || !(mfa.get(1) instanceof ErlAtom fun)
        || !(t.get(5) instanceof ErlList opts) || !(payload instanceof ErlList args) || !args.isProper()) {
      LOG.debug("{}: malformed SPAWN_REQUEST from {}: {}", nodeName, c.peerNodeName(), t);
      return;
    }
    boolean link = false;
    boolean monitor = false;
    if (opts.isProper()) {
      for (ErlTerm o : opts.elements()) {
        if (LINK.equals(o)) {
          link = true;
        } else if (MONITOR.equals(o) || (o instanceof ErlTuple ot && ot.arity() == 2 && MONITOR.equals(ot.get(0)))) {
          monitor = true;
        }
      }
    }
    if (closed) {
      sendSpawnReply(c, reqId, from, 0, ErlAtom.of("system_limit"), signalTimeoutMillis);
      return;
    }
    Mailbox self = createMailbox();
    int flags = 0;
    if (link) {
      self.links.add(from);
      flags |= SPAWN_REPLY_LINKED;
    }
    if (monitor) {
      self.watchers.put(reqId, new Mailbox.Watcher(from, self.pid()));
      flags |= SPAWN_REPLY_MONITORED;
    }
    int replyFlags = flags;
    List<ErlTerm> argList = args.elements();
    try {
      workers.execute(() -> {
        if (!sendSpawnReply(c, reqId, from, replyFlags, self.pid(), sendTimeoutMillis)) {
          self.abandon(Mailbox.NOCONNECTION);
          exited(self, Mailbox.NOCONNECTION);
          return;
        }
        self.close(runSpawned(self, mod, fun, argList));
      });
    } catch (RuntimeException rejected) {
      self.abandon(Mailbox.NOCONNECTION);
      processes.remove(self.pid());
      sendSpawnReply(c, reqId, from, 0, ErlAtom.of("system_limit"), signalTimeoutMillis);
    }
  }

  private boolean sendSpawnReply(EiConnection c, ErlRef reqId, ErlPid to, int flags, ErlTerm result, long timeoutMillis) {
    try {
      sendControl(c, ErlTuple.of(ErlInteger.of(OP_SPAWN_REPLY), reqId, to, ErlInteger.of(flags), result), null, timeoutMillis);
      return true;
    } catch (IOException e) {
      LOG.debug("{}: SPAWN_REPLY to {} not sent: {}", nodeName, to, e.toString());
      return false;
    }
  }

  /** Runs a task on a function worker; rejected when {@link Builder#maxFunctionThreads} are busy. */
  void execute(Runnable task) {
    workers.execute(task);
  }

  /** Runs a spawned process's function and returns its exit reason. */
  private ErlTerm runSpawned(Mailbox self, ErlAtom mod, ErlAtom fun, List<ErlTerm> args) {
    if (ERPC.equals(mod) && EXECUTE_CALL.equals(fun) && args.size() == 4 && args.get(1) instanceof ErlAtom m
        && args.get(2) instanceof ErlAtom f && args.get(3) instanceof ErlList a && a.isProper()) {
      return executeCall(self, args.get(0), m, f, a);
    }
    if (ERPC.equals(mod) && EXECUTE_CAST.equals(fun) && args.size() == 3 && args.get(0) instanceof ErlAtom m
        && args.get(1) instanceof ErlAtom f && args.get(2) instanceof ErlList a && a.isProper()) {
      return plainRun(self, m, f, a);
    }
    return plainRun(self, mod, fun, ErlList.of(args));
  }

  /**
   * What {@code erpc:execute_call/4} makes its process exit with, which the caller's
   * {@code 'DOWN'} carries back: {@code {Ref, return, Value}}, {@code {Ref, throw, Value}},
   * {@code {Ref, exit, Reason}} or {@code {Ref, error, Reason, Stack}}.
   */
  ErlTerm executeCall(Mailbox self, ErlTerm ref, ErlAtom m0, ErlAtom f0, ErlList a0) {
    CallTarget t = CallTarget.of(m0, f0, a0);
    ErlAtom m = t.module();
    ErlAtom f = t.function();
    ErlList a = t.args();
    ErlangFunction fn = function(t);
    if (fn == null) {
      return ErlTuple.of(ref, ErlangException.Kind.ERROR.atom(), UNDEF, undefStack(m, f, a));
    }
    try {
      ErlTerm v = fn.apply(self, a.elements());
      return ErlTuple.of(ref, RETURN, v == null ? ErlAtom.UNDEFINED : v);
    } catch (ErlangException e) {
      return e.kind() == ErlangException.Kind.ERROR
          ? ErlTuple.of(ref, e.kind().atom(), e.reason(), javaStack(m, f, a))
          : ErlTuple.of(ref, e.kind().atom(), e.reason());
    } catch (Exception | Error e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return ErlTuple.of(ref, ErlangException.Kind.ERROR.atom(), javaReason(e), javaStack(m, f, a));
    }
  }

  /** A spawned process that is not an erpc call: it exits normal, or with Erlang's crash reason. */
  ErlTerm plainRun(Mailbox self, ErlAtom m0, ErlAtom f0, ErlList a0) {
    CallTarget t = CallTarget.of(m0, f0, a0);
    ErlAtom m = t.module();
    ErlAtom f = t.function();
    ErlList a = t.args();
    ErlangFunction fn = function(t);
    if (fn == null) {
      return ErlTuple.of(UNDEF, undefStack(m, f, a));
    }
    try {
      fn.apply(self, a.elements());
      return Mailbox.NORMAL;
    } catch (ErlangException e) {
      return switch (e.kind()) {
        case EXIT -> e.reason();
        case ERROR -> ErlTuple.of(e.reason(), javaStack(m, f, a));
        case THROW -> ErlTuple.of(ErlTuple.of(ErlAtom.of("nocatch"), e.reason()), javaStack(m, f, a));
      };
    } catch (Exception | Error e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return ErlTuple.of(javaReason(e), javaStack(m, f, a));
    }
  }

  private static ErlList undefStack(ErlAtom m, ErlAtom f, ErlList a) {
    return ErlList.of(ErlTuple.of(m, f, a, ErlList.NIL));
  }

  private static ErlList javaStack(ErlAtom m, ErlAtom f, ErlList a) {
    return ErlList.of(ErlTuple.of(m, f, ErlInteger.of(a.size()), ErlList.NIL));
  }

  /** {@code {java_exception, 'java.lang.IllegalStateException', <<"message">>}}. */
  static ErlTerm javaReason(Throwable e) {
    String msg = e.getMessage() == null ? "" : e.getMessage();
    return ErlTuple.of(ErlAtom.of("java_exception"), ErlAtom.of(truncate(e.getClass().getName())),
        io.ei4j.term.ErlBinary.of(msg.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }

  private static String truncate(String s) {
    return s.length() <= ErlAtom.MAX_CHARS ? s : s.substring(0, ErlAtom.MAX_CHARS);
  }

  // ---- lifecycle ----

  /**
   * Whether {@link #close()} was called.
   *
   * @return true once closed
   */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Closes the node: every connection goes down (so the other nodes see
   * {@code noconnection} for links and monitors of this node's processes), the EPMD
   * registration ends, and every mailbox is dead (receive throws {@link ExitException}
   * with reason {@code noconnection}). Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Slot s : slots) {
      stop(s);
    }
    List<Mailbox> all = new ArrayList<>(processes.values());
    for (Mailbox m : all) {
      m.abandon(Mailbox.NOCONNECTION);
    }
    processes.clear();
    names.clear();
    aliases.clear();
    for (Pending p : pending.values()) {
      p.future().completeExceptionally(new IOException("node " + nodeName + " closed"));
    }
    workers.shutdownNow();
    signals.shutdownNow();
    handshakes.shutdownNow();
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("node " + nodeName + " is closed");
    }
  }

  private static ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public String toString() {
    return "Node[" + nodeName + (closed ? ", closed" : "") + "]";
  }

  /** Options of a {@link Node}. */
  public static final class Builder {
    private final String nodeName;
    private String cookie;
    private final List<NamedTransport> namedTransports = new ArrayList<>();
    private TransportSelector selector;
    private SocketCallbacks<?> transport;
    private Object setupContext;
    private EpmdClient epmd;
    private SocketAddress listenAddress;
    private Boolean publish;
    private long tickTimeMillis = EiNode.DEFAULT_TICK_TIME_MILLIS;
    private long connectTimeoutMillis = 10_000;
    private long sendTimeoutMillis = SocketCallbacks.INFINITE;
    private int maxFunctionThreads = 1024;
    private int maxMessageBytes = EiNode.DEFAULT_MAX_MESSAGE_BYTES;
    private DecodeLimits decodeLimits = DecodeLimits.DEFAULT;
    private int maxPendingHandshakes = DEFAULT_MAX_PENDING_HANDSHAKES;
    private long handshakeTimeoutMillis = DEFAULT_HANDSHAKE_TIMEOUT_MILLIS;
    private int maxQueueLength = Integer.MAX_VALUE;
    private int creation;
    private boolean creationSet;

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
      this.cookie = Objects.requireNonNull(cookie, "cookie");
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
      this.transport = Objects.requireNonNull(transport, "transport");
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
      if (transport != null) {
        NamedTransport t = NamedTransport.of(DEFAULT_TRANSPORT, transport).setupContext(setupContext);
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
      this.setupContext = setupContext;
      return this;
    }

    /**
     * The EPMD to publish in and look peers up in; default: EPMD on the peer's host.
     *
     * @param epmd the client
     * @return this builder
     */
    public Builder epmd(EpmdClient epmd) {
      this.epmd = epmd;
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
     * Erlang's {@code net_ticktime} in milliseconds (default 60 000); use the Erlang nodes' value.
     *
     * @param millis the tick time
     * @return this builder
     */
    public Builder tickTimeMillis(long millis) {
      this.tickTimeMillis = millis;
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
      this.sendTimeoutMillis = millis;
      return this;
    }

    /**
     * The largest frame accepted from a peer (default {@link EiNode#DEFAULT_MAX_MESSAGE_BYTES}, no
     * practical limit); a larger one ends the connection, logged at WARN.
     *
     * @param bytes the limit
     * @return this builder
     */
    public Builder maxMessageBytes(int bytes) {
      this.maxMessageBytes = bytes;
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
      this.decodeLimits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /**
     * How many incoming handshakes may run at once, on all listeners together (default
     * {@value Node#DEFAULT_MAX_PENDING_HANDSHAKES}). Each runs on its own thread, so a peer
     * that connects and stays silent delays nobody; it holds one of these slots until
     * {@link #handshakeTimeoutMillis} ends it. A connection accepted while every slot is taken
     * is closed at once, before any byte is read (the peer sees the connection closed and
     * may retry), counted in {@link Node#refusedHandshakes()} and logged at debug. The limit
     * bounds the threads and sockets that strangers can make the node hold.
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
     * A message that arrives while its mailbox's queue is full is dropped and counted in
     * {@link Mailbox#droppedMessages()}; the connection it came on, other mailboxes and
     * ticks are unaffected. {@code 'EXIT'} and {@code 'DOWN'} messages are never dropped.
     * See {@code CONCURRENCY.md}.
     *
     * @param messages the limit, at least 1
     * @return this builder
     */
    public Builder maxQueueLength(int messages) {
      this.maxQueueLength = Checks.queueLength(messages);
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
      this.creation = creation;
      this.creationSet = true;
      return this;
    }

    /**
     * Starts the node: listens and publishes when asked, and starts accepting.
     *
     * @return the running node
     * @throws IOException when listening or publishing fails (a taken name in EPMD)
     */
    public Node build() throws IOException {
      if (transport == null && namedTransports.isEmpty()) {
        throw new IllegalStateException("a node needs a transport: Node.Builder.transport(...)");
      }
      if (transport == null && (listenAddress != null || publish != null || setupContext != null)) {
        throw new IllegalStateException("listen(), publish() and setupContext() configure transport(SocketCallbacks), which was not given;"
            + " configure named transports on the NamedTransport itself");
      }
      return new Node(this);
    }
  }
}
