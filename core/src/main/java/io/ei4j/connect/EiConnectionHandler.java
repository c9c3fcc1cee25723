package io.ei4j.connect;

import java.io.IOException;

/**
 * Receives what the connections of an {@link EiNode} deliver, instead of the per-connection
 * queue of {@link EiConnection#receive}: a layer that routes messages to many processes
 * (such as {@code io.ei4j.node.Node}) installs one with {@link EiNode.Builder#connectionHandler}.
 *
 * <p>{@link #onMessage} runs on the thread that holds the connection's reading role: its
 * reader thread, or a thread the handler's layer lets read in
 * {@code ReadingRole.dispatchUntil}; one at a time, in the order the frames arrived. It
 * must not block for long: while it runs, nothing else is read from that peer (ticks
 * included, so a handler that blocks for the tick time gets the connection declared down). An exception thrown from it ends the connection with that exception
 * as the cause. What the connection answers itself ({@code is_auth}, {@link EiConnection#rpc}
 * replies, the acknowledgement of {@code UNLINK_ID}) still happens and is not passed on,
 * except the {@link EiMessage.Unlink} itself.
 */
public interface EiConnectionHandler {

  /** A message arrived on {@code connection}; called on its reader thread. */
  void onMessage(EiConnection connection, EiMessage message) throws IOException;

  /**
   * {@code connection} went down, exactly once per connection, on whichever thread noticed
   * it (the reader, the ticker, a sender or a {@code close()} caller). It may run before
   * {@link EiNode#connect} or {@link EiListener#accept} has returned the connection.
   */
  default void onDown(EiConnection connection, EiConnectionLostException reason) {}

  /**
   * {@code node} failed ({@link EiNode#fail}): an {@link Error} on one of its threads, this
   * handler's included, or an unexpected exception in a thread of its own. Called once, on
   * the failing thread, before the node drops its connections, so that the layer above can
   * let go of what it holds first (after an OutOfMemoryError the rest of the shutdown needs
   * the room) and stop itself. It must not block and should allocate little; what it throws
   * is ignored. It runs before the node's ERROR line is written and before
   * {@link EiNode#failure()} reports the cause: an application that wants to exit on a
   * failure exits once {@code failure()} is present, not from here, or the line may be
   * lost. The connections' {@link #onDown} calls follow.
   */
  default void nodeFailed(EiNode node, Throwable cause) {}

  /**
   * The status the acceptor's side of a handshake answers to a peer named
   * {@code peerNodeName}, before the challenge: {@link HandshakeStatus#OK} to go on,
   * {@link HandshakeStatus#OK_SIMULTANEOUS} to go on while telling the peer that this node's
   * own attempt to connect to it will be abandoned, {@link HandshakeStatus#NOK} to refuse
   * because this node's own attempt wins, {@link HandshakeStatus#NOT_ALLOWED} to refuse the
   * peer, {@link HandshakeStatus#ALIVE} to say that a connection to the peer exists already
   * and let the peer choose (its answer {@code true} goes on, and the new connection is
   * meant to replace the old one; {@code false} withdraws it). After {@code NOK},
   * {@code NOT_ALLOWED} and a withdrawn {@code ALIVE} the accept fails with an
   * {@link EiHandshakeException} whose {@link EiHandshakeException#status()} is the status.
   * Any other value (null, {@link HandshakeStatus#NAMED}, {@link HandshakeStatus#UNKNOWN};
   * see {@link HandshakeStatus#acceptorMaySend()}) fails the accept with an
   * {@link IllegalStateException} before anything is sent. Called on the accepting thread.
   */
  default HandshakeStatus acceptStatus(String peerNodeName) {
    return HandshakeStatus.OK;
  }

  /**
   * The initiator's answer when the peer says {@code alive} (it has a connection from this
   * node already): true replaces that connection with the new one (what a node that
   * believes it has no connection answers), false withdraws the new attempt, whose
   * connect then fails with an {@link EiHandshakeException} of status {@code alive}.
   * {@code peerNodeName} is null when connecting by address. Called on the connecting thread.
   */
  default boolean replaceExisting(String peerNodeName) {
    return true;
  }
}
