package io.ei4j.node;

import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiConnectionHandler;
import io.ei4j.connect.EiConnectionLostException;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.connect.HandshakeStatus;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the connections of one transport report to: every incoming message, traced, goes
 * to its mailbox, to {@link Signals} or to {@link RemoteFunctions}; connection events and
 * the acceptor's answers go to {@link Connections}. One per transport, so that the trace
 * names the transport. Runs on whichever thread reads the connection (its reader thread or
 * a receiver holding the reading role, {@code CONCURRENCY.md}), so it never blocks for
 * long: a signal it must answer is written with a bounded wait.
 */
final class Router implements EiConnectionHandler {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);

  /** {@code ALIAS_SEND_TT}, which {@code ControlMessages} does not list (yet). */
  static final int ALIAS_SEND_TT = 34;

  private final String transport;
  private final String nodeName;
  private final ProcessTable table;
  private final Signals signals;
  private final RemoteFunctions functions;
  private final Connections connections;

  Router(String transport, String nodeName, ProcessTable table, Signals signals, RemoteFunctions functions, Connections connections) {
    this.transport = transport;
    this.nodeName = nodeName;
    this.table = table;
    this.signals = signals;
    this.functions = functions;
    this.connections = connections;
  }

  @Override
  public void onMessage(EiConnection c, EiMessage msg) {
    if (Trace.on()) {
      Trace.in(nodeName, transport, c.peerNodeName(), msg);
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
      Trace.down(nodeName, transport, c.peerNodeName(), reason.getMessage());
    }
    connections.lost(c, reason);
  }

  @Override
  public void nodeFailed(EiNode ei, Throwable cause) {
    connections.transportFailed(cause);
  }

  @Override
  public boolean replaceExisting(String peer) {
    return connections.replaceExisting(peer);
  }

  @Override
  public HandshakeStatus acceptStatus(String peer) {
    HandshakeStatus status = connections.acceptStatus(peer);
    if (Trace.on()) {
      Trace.status(nodeName, transport, peer, status.wire());
    }
    return status;
  }

  private void route(EiConnection c, EiMessage msg) {
    if (msg instanceof EiMessage.Send s) {
      Mailbox m = table.byPid(s.to());
      if (m != null) {
        m.arrivedVia(c);
        m.deliverFrom(c, s.message());
      }
    } else if (msg instanceof EiMessage.RegSend r) {
      Mailbox m = table.byName(r.toName().name());
      if (m != null) {
        m.arrivedVia(c);
        m.deliverFrom(c, r.message());
      }
    } else if (msg instanceof EiMessage.Link l) {
      signals.linkArrived(c, l.from(), l.to());
    } else if (msg instanceof EiMessage.Unlink u) {
      signals.unlinkArrived(u.from(), u.to());
    } else if (msg instanceof EiMessage.Exit e) {
      signals.exitArrived(e.from(), e.to(), e.reason());
    } else if (msg instanceof EiMessage.Exit2 e) {
      signals.exit2Arrived(e.from(), e.to(), e.reason());
    } else if (msg instanceof EiMessage.Monitor mon) {
      signals.monitorArrived(c, mon.from(), mon.toProc(), mon.ref());
    } else if (msg instanceof EiMessage.Demonitor d) {
      signals.demonitorArrived(d.toProc(), d.ref());
    } else if (msg instanceof EiMessage.MonitorExit x) {
      signals.monitorExitArrived(x.to(), x.ref(), x.reason());
    } else if (msg instanceof EiMessage.Other o) {
      routeOther(c, o.control(), o.payload());
    }
    // GROUP_LEADER: a Java mailbox has no I/O to redirect; ignored.
  }

  /** Control messages {@link EiMessage} does not decode: ALIAS_SEND and SPAWN_REQUEST, with and without a trace token. */
  private void routeOther(EiConnection c, ErlTuple t, ErlTerm payload) {
    if (t.arity() < 1 || !(t.get(0) instanceof ErlInteger op) || !op.isInt()) {
      LOG.debug("{}: ignored a control message without an operation from {}: {}", nodeName, c.peerNodeName(), t);
      return;
    }
    switch (op.intValue()) {
      case Outgoing.ALIAS_SEND, ALIAS_SEND_TT -> {
        if (t.arity() >= 3 && t.get(2) instanceof ErlRef alias && payload != null) {
          Mailbox m = table.byAlias(alias);
          if (m != null) {
            m.deliverFrom(c, payload);
          }
        }
      }
      case RemoteFunctions.SPAWN_REQUEST, RemoteFunctions.SPAWN_REQUEST_TT -> functions.spawnRequest(c, t, payload);
      case RemoteFunctions.SPAWN_REPLY -> signals.spawnReplyArrived(c, t);
      default -> LOG.debug("{}: ignored control message {} from {}", nodeName, t, c.peerNodeName());
    }
  }
}
