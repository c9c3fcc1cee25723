package io.ei4j.node;

import io.ei4j.connect.DistFlag;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiConnectionHandler;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiNode;
import io.ei4j.epmd.EpmdClient;
import io.ei4j.epmd.EpmdRegistration;
import io.ei4j.epmd.NodeInfo;
import io.ei4j.internal.dist.ConnectionInternals;
import io.ei4j.internal.node.NodeNames;
import io.ei4j.internal.node.NodeOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The node's transports ({@code TRANSPORTS.md}): one {@link Slot} per transport, each with
 * its own {@link EiNode} (same name, cookie, creation and flags; only the callbacks
 * differ), listener and EPMD registration; and the choice of the transport of each
 * outgoing connection (explicit, the {@link TransportSelector}'s, or the first).
 */
final class Transports {
  /**
   * One transport of the node: its own {@link EiNode}, its listener, EPMD registration and
   * accepting thread, and the handler its connections report to, which knows the
   * transport's name.
   */
  static final class Slot {
    final NamedTransport spec;
    final boolean publish;
    EiNode ei;
    EiListener listener;
    EpmdRegistration registration;
    Thread acceptor;
    EiConnectionHandler handler;

    Slot(NamedTransport spec, boolean publish) {
      this.spec = spec;
      this.publish = publish;
    }

    String name() {
      return spec.name();
    }
  }

  private final String nodeName;
  /** The transports in the order they were given. */
  private final List<Slot> slots;
  private final TransportSelector selector;
  private final EpmdClient defaultEpmd;
  private final long connectTimeoutMillis;

  Transports(String nodeName, List<NamedTransport> specs, TransportSelector selector, EpmdClient defaultEpmd, long connectTimeoutMillis) {
    this.nodeName = nodeName;
    List<Slot> all = new ArrayList<>();
    for (NamedTransport t : specs) {
      // A node's only transport that listens on an IP port is published unless told
      // otherwise, as before there were several; with several, only when asked.
      boolean publish = t.publishChoice() != null ? t.publishChoice()
          : specs.size() == 1 && t.listenAddress() instanceof InetSocketAddress;
      all.add(new Slot(t, publish));
    }
    this.slots = List.copyOf(all);
    this.selector = selector;
    this.defaultEpmd = defaultEpmd;
    this.connectTimeoutMillis = connectTimeoutMillis;
  }

  /**
   * Builds every slot's {@link EiNode}, listens and publishes as asked. The transport
   * published first takes its creation from EPMD; every other transport is built with that
   * creation, so that pids, references and handshakes agree. On failure every slot started
   * so far is stopped.
   */
  void start(String nodeName, NodeOptions b, Function<Slot, EiConnectionHandler> handlers) throws IOException {
    try {
      Slot first = slots.stream().filter(s -> s.publish).findFirst().orElse(slots.get(0));
      start(first, nodeName, b, null, handlers);
      int creation = first.ei.creation();
      for (Slot s : slots) {
        if (s != first) {
          start(s, nodeName, b, creation, handlers);
        }
      }
    } catch (IOException | RuntimeException e) {
      stopAll();
      throw e;
    }
  }

  /** Builds the slot's EiNode, listens and publishes as asked. */
  private static void start(Slot s, String nodeName, NodeOptions b, Integer creation, Function<Slot, EiConnectionHandler> handlers)
      throws IOException {
    NamedTransport t = s.spec;
    s.handler = handlers.apply(s);
    EiNode.Builder eb = EiNode.builder(nodeName)
        .advertise(DistFlag.SPAWN, DistFlag.ALIAS, DistFlag.DIST_MONITOR_NAME)
        .connectionHandler(s.handler)
        .tickTimeMillis(b.tickTimeMillis())
        .sendTimeoutMillis(b.sendTimeoutMillis())
        .maxMessageBytes(b.maxMessageBytes())
        .decodeLimits(b.decodeLimits())
        .transport(t.callbacks())
        .setupContext(t.setupContext());
    if (b.cookie() != null) {
      eb.cookie(b.cookie());
    }
    EpmdClient epmd = t.epmdClient() != null ? t.epmdClient() : b.epmd();
    if (epmd != null) {
      eb.epmd(epmd);
    }
    if (creation != null) {
      eb.creation(creation);
    } else if (b.creation() != null) {
      eb.creation(b.creation());
    }
    ConnectionInternals.shareBudget(eb, b.sharedBudget()); // one receive budget for every transport
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

  /** Stops the accepting threads, closes every EiNode (so every connection) and ends the EPMD registrations. */
  void stopAll() {
    for (Slot s : slots) {
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
  }

  /** The node failed: every EiNode fails with the cause (connections dropped at once), every EPMD registration ends. */
  void failAll(Throwable cause) {
    for (Slot s : slots) {
      try {
        if (s.acceptor != null) {
          s.acceptor.interrupt();
        }
        if (s.ei != null) {
          s.ei.fail(cause);
        }
      } catch (Throwable ignored) {
        // the registration below still ends
      }
      try {
        if (s.registration != null) {
          s.registration.close();
        }
      } catch (Throwable ignored) {
        // the next slot
      }
    }
  }

  List<Slot> all() {
    return slots;
  }

  /** The first transport's EiNode, which makes the node's pids and references. */
  EiNode first() {
    return slots.get(0).ei;
  }

  /** The name of the transport that carries {@code c}; "?" for a connection of none. */
  String nameOf(EiConnection c) {
    EiNode n = c.node();
    for (Slot s : slots) {
      if (s.ei == n) {
        return s.name();
      }
    }
    return "?";
  }

  Slot slot(String transport) {
    for (Slot s : slots) {
      if (s.name().equals(transport)) {
        return s;
      }
    }
    throw new IllegalArgumentException("node " + nodeName + " has no transport '" + transport + "'; it has " + names());
  }

  List<String> names() {
    List<String> names = new ArrayList<>(slots.size());
    for (Slot s : slots) {
      names.add(s.name());
    }
    return names;
  }

  /** The address of the first transport that listens, or null. */
  SocketAddress listenAddress() {
    for (Slot s : slots) {
      if (s.listener != null) {
        return s.listener.address();
      }
    }
    return null;
  }

  SocketAddress listenAddress(String transport) {
    EiListener l = slot(transport).listener;
    return l == null ? null : l.address();
  }

  /**
   * The transport for a new connection to {@code peer}: the explicit one, else the
   * selector's choice, else the only (first) transport.
   */
  Slot choose(String peer, String transport) throws IOException {
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
}
