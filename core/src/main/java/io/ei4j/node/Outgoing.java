package io.ei4j.node;

import io.ei4j.connect.EiConnection;
import io.ei4j.internal.dist.ControlMessages;
import io.ei4j.internal.dist.DistFlags;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the node's processes send: messages to pids, names and aliases, delivered
 * locally or written on the peer's connection (made on first use), and control messages
 * (signals), every one traced on the way out. Sends to a pid, name or alias that does not
 * exist are dropped, as in Erlang.
 */
final class Outgoing {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);

  /** {@code ALIAS_SEND}, which {@link ControlMessages} does not list (yet). */
  static final int ALIAS_SEND = 33;

  private final Node node;
  private final ProcessTable table;
  private final long sendTimeoutMillis;
  /** How long a signal or an answer may wait for a peer that does not read: a quarter tick. */
  private final long signalTimeoutMillis;

  Outgoing(Node node, ProcessTable table, long sendTimeoutMillis, long signalTimeoutMillis) {
    this.node = node;
    this.table = table;
    this.sendTimeoutMillis = sendTimeoutMillis;
    this.signalTimeoutMillis = signalTimeoutMillis;
  }

  long sendTimeoutMillis() {
    return sendTimeoutMillis;
  }

  long signalTimeoutMillis() {
    return signalTimeoutMillis;
  }

  void send(ErlPid from, ErlPid to, ErlTerm message) throws IOException {
    if (node.isLocal(to.node())) {
      Mailbox m = table.byPid(to);
      if (m != null) {
        m.deliver(message);
      }
      return;
    }
    EiConnection c = node.connection(to.node().name());
    if (Trace.on()) {
      ErlTuple control = from != null && (c.peerFlags() & DistFlags.SEND_SENDER) != 0
          ? ControlMessages.sendSender(from, to) : ControlMessages.send(to);
      Trace.out(node.nodeName(), node.transportOf(c), c.peerNodeName(), control, message);
    }
    c.send(from, to, message, sendTimeoutMillis);
  }

  /** Sends a control message on {@code c}, traced. */
  void sendControl(EiConnection c, ErlTuple control, ErlTerm payload, long timeoutMillis) throws IOException {
    if (Trace.on()) {
      Trace.out(node.nodeName(), node.transportOf(c), c.peerNodeName(), control, payload);
    }
    c.sendControl(control, payload, timeoutMillis);
  }

  void sendLocalName(String name, ErlTerm message) {
    Mailbox m = table.byName(name);
    if (m != null) {
      m.deliver(message);
    }
  }

  void sendName(ErlPid from, String name, String toNode, ErlTerm message) throws IOException {
    if (toNode.equals(node.nodeName())) {
      sendLocalName(name, message);
      return;
    }
    EiConnection c = node.connection(toNode);
    if (Trace.on()) {
      Trace.out(node.nodeName(), node.transportOf(c), toNode, ControlMessages.regSend(from, ErlAtom.of(name)), message);
    }
    c.regSend(from, name, message, sendTimeoutMillis);
  }

  void sendAlias(ErlPid from, ErlRef alias, ErlTerm message) throws IOException {
    if (node.isLocal(alias.node())) {
      Mailbox m = table.byAlias(alias);
      if (m != null) {
        m.deliver(message);
      }
      return;
    }
    EiConnection c = node.connection(alias.node().name());
    if (!PeerCapabilities.of(c).aliases()) {
      // A node without DFLAG_ALIAS made no alias; Erlang drops such a message.
      LOG.debug("{}: message to alias {} dropped: {} has no DFLAG_ALIAS", node.nodeName(), alias, c.peerNodeName());
      return;
    }
    sendControl(c, ErlTuple.of(ErlInteger.of(ALIAS_SEND), from, alias), message, sendTimeoutMillis);
  }

  /**
   * Sends a control message to {@code targetNode}, connecting when {@code connect};
   * failures are reported through the return value only, for signals whose loss the
   * protocol already covers (a lost connection fires noconnection on the other side).
   */
  boolean signal(String targetNode, ErlTuple control, boolean connect) {
    try {
      EiConnection c = connect ? node.connection(targetNode) : node.existingConnection(targetNode);
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

  /**
   * Answers a signal on the connection it came from (which may not be installed yet), with a
   * bounded wait so that a peer that does not read cannot hold the reader thread for long.
   */
  void answer(EiConnection c, ErlTuple control) {
    try {
      sendControl(c, control, null, signalTimeoutMillis);
    } catch (IOException e) {
      LOG.debug("{}: could not answer {} to {}: {}", node.nodeName(), control, c.peerNodeName(), e.toString());
    }
  }
}
