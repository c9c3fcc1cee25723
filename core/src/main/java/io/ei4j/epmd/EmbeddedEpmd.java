package io.ei4j.epmd;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
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
 * One daemon thread ({@code ei4j-epmd-PORT}) runs a {@link java.nio.channels.Selector} loop over the
 * listening socket and every connection, non-blocking; it owns all state. Nothing ever
 * blocks that thread on a client, so a slow or silent client cannot delay others, and
 * the thread count does not grow with clients. {@link #registered()},
 * {@link #allowKill(boolean)}, {@link #isOpen()} and {@link #close()} may be called from
 * any thread.
 *
 * <h2>Layout</h2>
 * This class is the public face and its options. The work is split between package-private
 * parts: {@code EpmdSelectorLoop} (sockets, framing, limits, timeouts),
 * {@code EpmdRequestHandler} (what each request does), {@code EpmdServerCodec} (request
 * bodies in, reply bytes out) and {@code EpmdRegistry} (registered and released names,
 * creation counters).
 */
public final class EmbeddedEpmd implements AutoCloseable {
  /** Default limit of simultaneously open connections, registrations included. */
  public static final int DEFAULT_MAX_CONNECTIONS = 1024;

  /** Default time a client has to send its request and read the answer. */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);

  private static final Logger log = LoggerFactory.getLogger(EmbeddedEpmd.class);

  private final EpmdRegistry registry = new EpmdRegistry();
  private final EpmdRequestHandler handler;
  private final EpmdSelectorLoop loop;
  private final Thread thread;

  private EmbeddedEpmd(Builder b) throws IOException {
    this.handler = new EpmdRequestHandler(registry, b.allowKill);
    this.loop = new EpmdSelectorLoop(b.bind, b.port, b.maxConnections,
        b.requestTimeout.toNanos(), handler);
    handler.port(loop.port());
    this.thread = new Thread(loop, "ei4j-epmd-" + loop.port());
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
    return loop.port();
  }

  /**
   * Whether a {@code KILL_REQ} from this machine shuts this EPMD down (answered
   * {@code "OK"}); when off (the default) it is answered {@code "NO"}.
   *
   * @param allow whether to obey {@code KILL_REQ}
   * @return this
   */
  public EmbeddedEpmd allowKill(boolean allow) {
    handler.allowKill(allow);
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
    return registry.snapshot();
  }

  /**
   * Stops listening, closes every connection (which ends every registration) and waits
   * up to 5 s for the server thread. Idempotent.
   */
  @Override
  public void close() {
    loop.stop();
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
    return "EmbeddedEpmd[port " + loop.port() + (loop.isClosed() ? ", closed" : "") + "]";
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
      log.debug("embedded EPMD listening on port {}", epmd.port());
      return epmd;
    }
  }
}
