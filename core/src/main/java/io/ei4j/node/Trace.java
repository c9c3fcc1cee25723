package io.ei4j.node;

import io.ei4j.connect.EiMessage;
import io.ei4j.internal.dist.DistFlags;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.Terms;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The traffic trace of {@link Node}s, like the trace buffer of Emacs' {@code derl}: at
 * TRACE level on the logger {@value #LOGGER_NAME}, one line per control message in and
 * out, with its payload, in Erlang syntax, naming the node, the direction, the transport
 * and the peer:
 *
 * <pre>
 * hub@localhost &lt;- tcp tcp1@localhost REG_SEND {6,&lt;tcp1@localhost.88.0.1700000000&gt;,'',relay} {hello,1}
 * hub@localhost -&gt; uds uds1@localhost SEND_SENDER {22,&lt;hub@localhost.3.0.5&gt;,&lt;uds1@localhost.90.0.4&gt;} {hello,1}
 * hub@localhost select tls tls1@localhost by selector
 * hub@localhost up tls tls1@localhost initiated flags=0x... creation=1700000001
 * hub@localhost down tls tls1@localhost: tls1@localhost closed the connection
 * </pre>
 *
 * <p>Handshakes show only names, flags, creation and status: the cookie, challenges and
 * digests never appear. Incoming messages are shown as the connection decoded them (the
 * trace-token and payload variants of a message appear in their plain form); ticks and
 * what a connection answers by itself ({@code is_auth}, {@code UNLINK_ID_ACK}) are not
 * shown. Message contents are shown in full: enable the trace only where the traffic
 * may be read.
 *
 * <p>Off by default (slf4j's TRACE level). When off, each message costs one
 * {@code isTraceEnabled()} check and nothing is formatted.
 */
public final class Trace {
  /** The logger the trace goes to: {@value}. */
  public static final String LOGGER_NAME = "io.ei4j.trace";

  static final Logger LOG = LoggerFactory.getLogger(LOGGER_NAME);

  private static final ErlAtom EMPTY = ErlAtom.of("");

  private Trace() {}

  static boolean on() {
    return LOG.isTraceEnabled();
  }

  /** An outgoing control message; call only when {@link #on()}. */
  static void out(String node, String transport, String peer, ErlTuple control, ErlTerm payload) {
    LOG.trace("{} -> {} {} {}", node, transport, peer, message(control, payload));
  }

  /** An incoming message; call only when {@link #on()}. */
  static void in(String node, String transport, String peer, EiMessage m) {
    LOG.trace("{} <- {} {} {}", node, transport, peer, message(m));
  }

  /** A received message as its control tuple and payload, in the form of {@link #message(ErlTuple, ErlTerm)}. */
  static String message(EiMessage m) {
    ErlTuple control;
    ErlTerm payload = null;
    if (m instanceof EiMessage.Send s) {
      control = s.from() == null ? ErlTuple.of(op(2), EMPTY, s.to()) : ErlTuple.of(op(22), s.from(), s.to());
      payload = s.message();
    } else if (m instanceof EiMessage.RegSend r) {
      control = ErlTuple.of(op(6), r.from(), EMPTY, r.toName());
      payload = r.message();
    } else if (m instanceof EiMessage.Link l) {
      control = ErlTuple.of(op(1), l.from(), l.to());
    } else if (m instanceof EiMessage.Unlink u) {
      control = u.id() == 0 ? ErlTuple.of(op(4), u.from(), u.to()) : ErlTuple.of(op(35), ErlInteger.of(u.id()), u.from(), u.to());
    } else if (m instanceof EiMessage.Exit e) {
      control = ErlTuple.of(op(3), e.from(), e.to(), e.reason());
    } else if (m instanceof EiMessage.Exit2 e) {
      control = ErlTuple.of(op(8), e.from(), e.to(), e.reason());
    } else if (m instanceof EiMessage.GroupLeader g) {
      control = ErlTuple.of(op(7), g.from(), g.to());
    } else if (m instanceof EiMessage.Monitor mo) {
      control = ErlTuple.of(op(19), mo.from(), mo.toProc(), mo.ref());
    } else if (m instanceof EiMessage.Demonitor d) {
      control = ErlTuple.of(op(20), d.from(), d.toProc(), d.ref());
    } else if (m instanceof EiMessage.MonitorExit x) {
      control = ErlTuple.of(op(21), x.fromProc(), x.to(), x.ref(), x.reason());
    } else {
      EiMessage.Other o = (EiMessage.Other) m;
      control = o.control();
      payload = o.payload();
    }
    return message(control, payload);
  }

  /** The transport chosen for an outgoing connection, and why. */
  static void select(String node, String transport, String peer, String why) {
    LOG.trace("{} select {} {} by {}", node, transport, peer, why);
  }

  /** A connection is up: names, flags and creation only. */
  static void up(String node, String transport, String peer, boolean initiated, long flags, int creation) {
    LOG.trace("{} up {} {} {} flags=0x{} [{}] creation={}", node, transport, peer, initiated ? "initiated" : "accepted",
        Long.toHexString(flags), DistFlags.describe(flags), Integer.toUnsignedString(creation));
  }

  /** The status this node answered to a handshake a peer started on a listener. */
  static void status(String node, String transport, String peer, String status) {
    LOG.trace("{} handshake {} {} status {}", node, transport, peer, status);
  }

  /** A handshake ended without a connection; {@code status} is the peer's or our status, or the error. */
  static void refused(String node, String transport, String peer, String status) {
    LOG.trace("{} handshake {} {} failed: {}", node, transport, peer, status);
  }

  /** A connection went down. */
  static void down(String node, String transport, String peer, String why) {
    LOG.trace("{} down {} {}: {}", node, transport, peer, why);
  }

  private static ErlInteger op(int n) {
    return ErlInteger.of(n);
  }

  /** {@code NAME {control} payload}. */
  static String message(ErlTuple control, ErlTerm payload) {
    StringBuilder sb = new StringBuilder(64);
    sb.append(opName(control)).append(' ').append(Terms.print(control));
    if (payload != null) {
      sb.append(' ').append(Terms.print(payload));
    }
    return sb.toString();
  }

  static String opName(ErlTuple control) {
    if (control.arity() == 0 || !(control.get(0) instanceof ErlInteger i) || !i.isInt()) {
      return "UNKNOWN";
    }
    return switch (i.intValue()) {
      case 1 -> "LINK";
      case 2 -> "SEND";
      case 3 -> "EXIT";
      case 4 -> "UNLINK";
      case 5 -> "NODE_LINK";
      case 6 -> "REG_SEND";
      case 7 -> "GROUP_LEADER";
      case 8 -> "EXIT2";
      case 12 -> "SEND_TT";
      case 13 -> "EXIT_TT";
      case 16 -> "REG_SEND_TT";
      case 18 -> "EXIT2_TT";
      case 19 -> "MONITOR_P";
      case 20 -> "DEMONITOR_P";
      case 21 -> "MONITOR_P_EXIT";
      case 22 -> "SEND_SENDER";
      case 23 -> "SEND_SENDER_TT";
      case 24 -> "PAYLOAD_EXIT";
      case 25 -> "PAYLOAD_EXIT_TT";
      case 26 -> "PAYLOAD_EXIT2";
      case 27 -> "PAYLOAD_EXIT2_TT";
      case 28 -> "PAYLOAD_MONITOR_P_EXIT";
      case 29 -> "SPAWN_REQUEST";
      case 30 -> "SPAWN_REQUEST_TT";
      case 31 -> "SPAWN_REPLY";
      case 32 -> "SPAWN_REPLY_TT";
      case 33 -> "ALIAS_SEND";
      case 34 -> "ALIAS_SEND_TT";
      case 35 -> "UNLINK_ID";
      case 36 -> "UNLINK_ID_ACK";
      default -> "OP_" + i.intValue();
    };
  }
}
