package io.ei4j.node;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.epmd.EpmdClient;
import java.net.SocketAddress;
import java.util.Objects;

/**
 * One of the transports of a {@link Node}: a name that selectors and traces use, the socket
 * callbacks with their setup context, and optionally where to listen and whether to
 * register that listener in EPMD. A node holds one or more of them (see
 * {@link Node.Builder#transport(NamedTransport)}); they share the node's name, cookie,
 * creation, mailboxes and connection table.
 *
 * <p>Immutable: each {@code with...} method returns a copy.
 *
 * <pre>{@code
 * NamedTransport.of("tcp", TcpTransport.create()).listen(new InetSocketAddress(0)).publish(true)
 * NamedTransport.of("tls", new TlsTransport(config)).listen(new InetSocketAddress(0))
 * NamedTransport.of("uds", UnixTransport.builder().directory(dir).build()).listen(address)
 * }</pre>
 */
public final class NamedTransport {
  private final String name;
  private final SocketCallbacks<?> callbacks;
  private final Object setupContext;
  private final SocketAddress listenAddress;
  private final Boolean publish;
  private final EpmdClient epmd;

  private NamedTransport(String name, SocketCallbacks<?> callbacks, Object setupContext, SocketAddress listenAddress,
      Boolean publish, EpmdClient epmd) {
    this.name = name;
    this.callbacks = callbacks;
    this.setupContext = setupContext;
    this.listenAddress = listenAddress;
    this.publish = publish;
    this.epmd = epmd;
  }

  /**
   * A transport that only makes connections (no listener) until {@link #listen} is given.
   *
   * @param name a short name, 1..32 characters of letters, digits, {@code _}, {@code -} or
   *     {@code .}; unique within a node
   * @param callbacks the socket callbacks
   * @return the transport
   * @throws IllegalArgumentException for a name outside that alphabet or length
   */
  public static NamedTransport of(String name, SocketCallbacks<?> callbacks) {
    Objects.requireNonNull(name, "name");
    if (!name.matches("[A-Za-z0-9_.\\-]{1,32}")) {
      throw new IllegalArgumentException("a transport name is 1..32 letters, digits, '_', '-' or '.', got '" + name + "'");
    }
    return new NamedTransport(name, Objects.requireNonNull(callbacks, "callbacks"), null, null, null, null);
  }

  /**
   * The object handed to every {@link SocketCallbacks#socket} call of this transport (TLS
   * settings, for instance).
   *
   * @param setupContext the context, may be null
   * @return a copy with the context
   */
  public NamedTransport setupContext(Object setupContext) {
    return new NamedTransport(name, callbacks, setupContext, listenAddress, publish, epmd);
  }

  /**
   * Accept connections on {@code address} through this transport (port 0: any free port).
   *
   * @param address the address to bind
   * @return a copy that listens
   */
  public NamedTransport listen(SocketAddress address) {
    return new NamedTransport(name, callbacks, setupContext, Objects.requireNonNull(address, "address"), publish, epmd);
  }

  /**
   * Whether to register this transport's listening port in EPMD. Default: no, except for a
   * node's only transport listening on an IP address (what a single-transport node has
   * always done). EPMD keeps one port per node name, so at most one transport may be
   * published in each EPMD; a second one needs its own EPMD ({@link #epmd}).
   *
   * @param publish whether to publish
   * @return a copy with the choice
   */
  public NamedTransport publish(boolean publish) {
    return new NamedTransport(name, callbacks, setupContext, listenAddress, publish, epmd);
  }

  /**
   * The EPMD this transport publishes in and looks peers up in; default: the node's EPMD
   * ({@link Node.Builder#epmd}), else EPMD on the peer's host.
   *
   * @param epmd the client
   * @return a copy with the EPMD
   */
  public NamedTransport epmd(EpmdClient epmd) {
    return new NamedTransport(name, callbacks, setupContext, listenAddress, publish, Objects.requireNonNull(epmd, "epmd"));
  }

  /**
   * The name selectors return and traces show.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * The socket callbacks.
   *
   * @return the callbacks
   */
  public SocketCallbacks<?> callbacks() {
    return callbacks;
  }

  /**
   * The setup context handed to {@code socket}.
   *
   * @return the context, or null
   */
  public Object setupContext() {
    return setupContext;
  }

  /**
   * Where this transport listens.
   *
   * @return the address to bind, or null when it does not listen
   */
  public SocketAddress listenAddress() {
    return listenAddress;
  }

  /**
   * The explicit publish choice.
   *
   * @return true or false when set, null for the default
   */
  Boolean publishChoice() {
    return publish;
  }

  /**
   * The EPMD of this transport.
   *
   * @return the client, or null for the node's
   */
  public EpmdClient epmdClient() {
    return epmd;
  }

  @Override
  public String toString() {
    return "NamedTransport[" + name + ", " + callbacks.getClass().getSimpleName()
        + (listenAddress == null ? "" : ", listen " + listenAddress) + (Boolean.TRUE.equals(publish) ? ", published" : "") + "]";
  }
}
