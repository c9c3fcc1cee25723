package io.ei4j.node;

import io.ei4j.connect.EiMessage;
import io.ei4j.internal.dist.ControlMessages;
import io.ei4j.internal.dist.DistFlags;
import io.ei4j.internal.dist.DistTrace;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import org.slf4j.Logger;

/**
 * The traffic trace of {@link Node}s, and of {@code EiNode} connections without an
 * {@code EiConnectionHandler} (traced by {@code EiConnection} itself, in the same form,
 * with the transport's class name), like the trace buffer of Emacs' {@code derl}: at
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
 * shown; an {@code EiConnection} without a handler shows every message it decodes,
 * {@code rpc} replies and {@code is_auth} requests included. Message contents are shown in full: enable the trace only where the traffic
 * may be read.
 *
 * <p>Off by default (slf4j's TRACE level). When off, each message costs one
 * {@code isTraceEnabled()} check and nothing is formatted.
 */
public final class Trace {
  /** The logger the trace goes to: {@value}. */
  public static final String LOGGER_NAME = DistTrace.LOGGER_NAME;

  static final Logger LOG = DistTrace.LOG;

  private Trace() {}

  static boolean on() {
    return LOG.isTraceEnabled();
  }

  /** An outgoing control message; call only when {@link #on()}. */
  static void out(String node, String transport, String peer, ErlTuple control, ErlTerm payload) {
    DistTrace.out(node, transport, peer, control, payload);
  }

  /** An incoming message; call only when {@link #on()}. */
  static void in(String node, String transport, String peer, EiMessage m) {
    DistTrace.in(node, transport, peer, m);
  }

  /** A received message as its control tuple and payload: {@link ControlMessages#format(EiMessage)}. */
  static String message(EiMessage m) {
    return ControlMessages.format(m);
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

  /** {@code NAME {control} payload}: {@link ControlMessages#format(ErlTuple, ErlTerm)}. */
  static String message(ErlTuple control, ErlTerm payload) {
    return ControlMessages.format(control, payload);
  }

  static String opName(ErlTuple control) {
    return ControlMessages.opName(control);
  }
}
