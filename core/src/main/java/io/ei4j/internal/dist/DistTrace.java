package io.ei4j.internal.dist;

import io.ei4j.connect.EiMessage;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The traffic trace's logger and its message lines, shared by {@code EiConnection} (for
 * connections without an {@code EiConnectionHandler}) and {@code io.ei4j.node.Trace} (for
 * {@code Node}, which installs a handler and traces at its own layer, where it knows the
 * transport's name). TRACE level on {@value #LOGGER_NAME}; lines are
 * {@code NODE -> TRANSPORT PEER NAME {control} payload} and {@code NODE <- ...}, formatted
 * by {@link ControlMessages#format}. Callers check {@link #on()} first, once per message, so
 * that nothing is formatted while the trace is off. Handshake secrets never reach it: only
 * control messages and their payloads do.
 */
public final class DistTrace {
  /** The logger the trace goes to: {@value}. */
  public static final String LOGGER_NAME = "io.ei4j.trace";

  /** The trace's logger. */
  public static final Logger LOG = LoggerFactory.getLogger(LOGGER_NAME);

  private DistTrace() {}

  /** Whether the trace is on: the one check per message while it is off. */
  public static boolean on() {
    return LOG.isTraceEnabled();
  }

  /** An outgoing control message and its payload (may be null); call only when {@link #on()}. */
  public static void out(String node, String transport, String peer, ErlTuple control, ErlTerm payload) {
    LOG.trace("{} -> {} {} {}", node, transport, peer, ControlMessages.format(control, payload));
  }

  /** An incoming message as the connection decoded it; call only when {@link #on()}. */
  public static void in(String node, String transport, String peer, EiMessage m) {
    LOG.trace("{} <- {} {} {}", node, transport, peer, ControlMessages.format(m));
  }
}
