package io.ei4j.samples;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.connect.DistFlag;
import io.ei4j.connect.EiAuthenticationException;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiConnectionLostException;
import io.ei4j.connect.EiException;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.connect.HandshakeSlots;
import io.ei4j.epmd.EmbeddedEpmd;
import io.ei4j.internal.node.AcceptFailures;
import io.ei4j.internal.node.RateLimitedLog;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.transport.unix.UnixTransport;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A C-node style server: listens, publishes itself in EPMD (TCP and TLS), prints
 * {@code ready NODENAME} on standard output, and serves every accepted connection on a
 * thread of its own, handing each message to a {@link Handler}.
 *
 * <p>A shutdown hook (SIGINT, SIGTERM, normal exit) closes the node, which ends the EPMD
 * registration, closes every connection and the listener (an AF_UNIX listener removes its
 * socket file), then stops the embedded EPMD if this process runs one.
 */
final class Server {
  /**
   * How long one accept waits before the loop checks whether the server is stopping, and
   * how long a handshake may take. A peer that connects and stalls holds its own
   * handshake thread at most this long, never the accept loop.
   */
  static final long ACCEPT_TIMEOUT_MILLIS = 10_000;
  /**
   * How many handshakes may run at once, so that silent peers cannot make the server hold
   * unbounded threads. A connection accepted beyond that takes the slot of the pending
   * handshake that has made the least progress ({@link HandshakeSlots}), so that they
   * cannot lock honest peers out either.
   */
  static final int MAX_PENDING_HANDSHAKES = 64;
  /**
   * How many evicted handshakes' sockets may stay open without a thread until their
   * handshake timeout, so that silent peers are not prompted to reconnect in a loop that
   * fills the accept queue ({@link HandshakeSlots}).
   */
  static final int MAX_PARKED_HANDSHAKES = 1_024;
  /** How long a newcomer waits for the handshake it evicted to give back its slot. */
  static final long EVICT_WAIT_MILLIS = 1_000;
  /** How much of a term a log line shows. */
  static final int LOG_TERM_CHARS = 300;

  /** What a server does with the messages it receives. */
  interface Handler {
    /**
     * Handles one message that arrived on {@code connection}. Runs on that connection's
     * thread; replies go through {@link Server#reply}.
     */
    void handle(Server server, EiConnection connection, EiMessage message) throws IOException;

    /**
     * Distribution flags the node advertises beyond ei's set, for control messages this
     * handler answers ({@link DistFlag#SPAWN}: spawn requests).
     */
    default Set<DistFlag> advertisedFlags() {
      return Set.of();
    }
  }

  private final Logger log = LoggerFactory.getLogger(Server.class);
  private final NodeOptions options;
  private final Handler handler;
  private final Map<String, EiConnection> byPeer = new ConcurrentHashMap<>();
  private final HandshakeSlots handshakes =
      new HandshakeSlots(MAX_PENDING_HANDSHAKES, MAX_PARKED_HANDSHAKES, ACCEPT_TIMEOUT_MILLIS);
  /*
   * What strangers can cause at will is logged at WARN, but per address only the first
   * event of a minute in full and then one line with the count; never the cookie (the
   * handshake's exceptions never hold it).
   */
  private final RateLimitedLog refused = RateLimitedLog.perMinute(log, "refused", "handshake");
  private final RateLimitedLog failed = RateLimitedLog.perMinute(log, "dropped", "failed handshake");
  private final RateLimitedLog timedOut = RateLimitedLog.perMinute(log, "closed", "silent connection");
  private final RateLimitedLog surplus = RateLimitedLog.perMinute(log, "closed", "surplus connection");
  private final RateLimitedLog evicted = RateLimitedLog.perMinute(log, "evicted", "pending handshake");
  private final RateLimitedLog failedAccept = RateLimitedLog.perMinute(log, "dropped", "failed accept");
  private volatile boolean stopping;
  private EiNode node;
  private EmbeddedEpmd epmd;

  Server(NodeOptions options, Handler handler) {
    this.options = options;
    this.handler = handler;
  }

  /** Whether a shutdown is under way. */
  boolean isStopping() {
    return stopping;
  }

  /**
   * Starts and serves until the process is told to stop.
   *
   * @return the exit status
   */
  int run(PrintStream out, PrintStream err) throws IOException {
    epmd = options.startEpmdForServer(err);
    EiListener listener;
    try {
      node = options.buildNode(err, "localhost", handler.advertisedFlags());
      SocketAddress address = options.isUnix()
          ? ((UnixTransport) node.transport()).addressOf(node.nodeName())
          : new InetSocketAddress(options.port == null ? 0 : options.port);
      try {
        listener = node.listen(address, 128);
      } catch (ErrnoException e) {
        if (e.errno() != Errno.EADDRINUSE) {
          throw e;
        }
        throw new IOException(options.isUnix()
            ? "cannot listen on the socket file " + address + ": it exists (" + e.getMessage() + "); another node of this "
                + "name runs in that directory, or a stale file remains: stop that node or remove the file"
            : "cannot listen on port " + options.port + ": it is taken (" + e.getMessage() + "); choose another --port, "
                + "or leave --port out to take any free one", e);
      }
      if (!options.isUnix() && !options.epmdMode.equals("none")) {
        node.publish(((InetSocketAddress) listener.address()).getPort());
      } else if (!options.isUnix()) {
        err.println("not published in EPMD (--epmd none); listening on port "
            + ((InetSocketAddress) listener.address()).getPort());
      }
    } catch (IOException | RuntimeException e) {
      closeAll();
      throw e;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(this::shutdown, "ei4j-samples-shutdown"));
    log.info("{} listening on {} ({})", node.nodeName(), listener.address(), options.transport);
    out.println("ready " + node.nodeName());
    out.flush();
    acceptLoop(listener);
    if (node.failure().isPresent()) {
      // Fail-stop: the node closed itself after an Error (its ERROR line gives the cause).
      err.println("the node failed: " + node.failure().get() + "; exiting");
      return 2;
    }
    return 0;
  }

  /**
   * Accepts sockets and gives each a thread of its own at once, which runs the handshake and
   * then serves the connection: a peer that connects and says nothing delays nobody else.
   */
  private void acceptLoop(EiListener listener) {
    while (!stopping && node.failure().isEmpty()) {
      flushLogs(false);
      handshakes.reap();
      EiListener.Incoming in;
      try {
        in = listener.acceptSocket(ACCEPT_TIMEOUT_MILLIS);
      } catch (ErrnoException e) {
        if (stopping) {
          break;
        }
        if (e.isTimeout()) {
          continue;
        }
        if (AcceptFailures.shouldPause(e)) {
          log.warn("accept failed: {}", e.getMessage());
          pause();
        } else {
          failedAccept.record("the listener", "accept failed: " + e.getMessage());
        }
        continue;
      } catch (IOException | RuntimeException e) {
        if (stopping) {
          break;
        }
        log.warn("accept failed: {}", e.getMessage());
        pause();
        continue;
      }
      if (!admit(in)) {
        continue;
      }
      Thread t = new Thread(() -> handshakeAndServe(in), "serve-" + in.peerAddress());
      t.setDaemon(true);
      t.start();
    }
  }

  /** Takes a handshake slot for {@code in}, evicting the least advanced pending one when all are taken. */
  private boolean admit(EiListener.Incoming in) {
    HandshakeSlots.Admission a;
    try {
      a = handshakes.admit(in, EVICT_WAIT_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      in.close();
      return false;
    }
    EiListener.Incoming v = a.evicted();
    if (v != null) {
      evicted.record(v.source(), (a.parked() ? "parked" : "closed") + " the handshake from " + v.peerAddress() + " after "
          + (System.nanoTime() - v.acceptedNanos()) / 1_000_000 + " ms with " + v.messagesReceived()
          + " handshake messages to make room for one from " + in.peerAddress() + ": all " + MAX_PENDING_HANDSHAKES
          + " slots were taken (the MAX_PENDING_HANDSHAKES limit)"
          + (a.parkOverflow() == 0 ? "" : "; closed " + a.parkOverflow() + " parked sockets early (the MAX_PARKED_HANDSHAKES limit)"));
    }
    if (!a.admitted()) {
      surplus.record(in.source(), "all " + MAX_PENDING_HANDSHAKES
          + " handshake slots stayed taken (the MAX_PENDING_HANDSHAKES limit)");
      in.close();
      return false;
    }
    return true;
  }

  private void handshakeAndServe(EiListener.Incoming in) {
    EiConnection c;
    try {
      c = in.handshake(ACCEPT_TIMEOUT_MILLIS);
    } catch (EiAuthenticationException e) {
      refused.record(in.source(), e.getMessage());
      return;
    } catch (IOException | RuntimeException e) {
      if (stopping || in.isEvicted()) {
        return; // an eviction was logged when it happened
      }
      if (e instanceof ErrnoException ee && ee.isTimeout()) {
        timedOut.record(in.source(), "no handshake within " + ACCEPT_TIMEOUT_MILLIS + " ms: "
            + e.getMessage());
      } else {
        failed.record(in.source(), e.getMessage());
      }
      return;
    } finally {
      handshakes.release(in);
    }
    Thread.currentThread().setName("serve-" + c.peerNodeName());
    serve(c);
  }

  private void serve(EiConnection c) {
    String peer = c.peerNodeName();
    EiConnection previous = byPeer.put(peer, c);
    if (previous != null) {
      previous.close();
    }
    log.info("{} connected", peer);
    try {
      while (true) {
        EiMessage m = c.receive(io.ei4j.api.SocketCallbacks.INFINITE);
        handler.handle(this, c, m);
      }
    } catch (EiConnectionLostException e) {
      if (!stopping) {
        log.info("{} disconnected: {}", peer, e.getMessage());
      }
    } catch (IOException | RuntimeException e) {
      if (!stopping) {
        log.warn("connection to {} failed: {}", peer, e.toString());
      }
    } catch (Error e) {
      node.fail(e); // fail-stop: the accept loop ends and the process exits non-zero
    } finally {
      byPeer.remove(peer, c);
      c.close();
    }
  }

  /**
   * Sends {@code message} to {@code to} over the connection to the pid's node: the one the
   * request came on, or another open connection to that node. A pid of a node this
   * server has no connection to is logged and dropped, as a C node that does not connect
   * out would drop it.
   */
  void reply(EiConnection via, ErlPid to, ErlTerm message) throws IOException {
    String target = to.node().name();
    EiConnection c = target.equals(via.peerNodeName()) ? via : byPeer.get(target);
    if (c == null) {
      log.warn("cannot reply to {}: no connection to {}", to, target);
      return;
    }
    try {
      c.send(to, message);
    } catch (EiException e) {
      log.warn("reply to {} failed: {}", to, e.getMessage());
    }
  }

  /** Logs a message the handler does not serve. */
  void ignore(EiConnection c, EiMessage m) {
    log.info("ignored from {}: {}", c.peerNodeName(), abbreviate(String.valueOf(m)));
  }

  /** {@code s}, cut to {@link #LOG_TERM_CHARS} characters. */
  static String abbreviate(String s) {
    return s.length() <= LOG_TERM_CHARS ? s : s.substring(0, LOG_TERM_CHARS) + "...(" + s.length() + " chars)";
  }

  private void shutdown() {
    stopping = true;
    closeAll();
    flushLogs(true);
    log.info("stopped");
  }

  /** Writes the summaries of the refusal logs: those whose minute is over, or all. */
  private void flushLogs(boolean all) {
    for (RateLimitedLog l : new RateLimitedLog[] {refused, failed, timedOut, surplus, evicted, failedAccept}) {
      if (all) {
        l.flushAll();
      } else {
        l.flush();
      }
    }
  }

  private void closeAll() {
    if (node != null) {
      node.close();
    }
    if (epmd != null) {
      epmd.close();
    }
  }

  private static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
