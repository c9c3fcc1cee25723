package io.ei4j.internal.dist;

import io.ei4j.api.ErrnoException;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiConnectionHandler;
import io.ei4j.connect.EiConnectionLostException;
import io.ei4j.connect.EiMessage;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermDecoder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes each message a connection receives, on the thread that holds its reading role:
 * replies to {@link EiConnection#rpc} go to their caller, {@code net_kernel}'s
 * {@code is_auth} check is answered with {@code yes}, {@code UNLINK_ID} is acknowledged,
 * and everything else goes to the node's {@link EiConnectionHandler} or, without one, back
 * to the caller for the receive queue. Without a handler it traces every message it
 * decodes ({@link DistTrace}). Takes no lock; the pending {@code rpc}s are a concurrent map.
 */
public final class Dispatcher {
  /** The connection's log, where this part's messages have always gone. */
  private static final Logger LOG = LoggerFactory.getLogger(EiConnection.class);
  private static final ErlAtom NET_KERNEL = ErlAtom.of("net_kernel");
  private static final ErlAtom GEN_CALL = ErlAtom.of("$gen_call");
  private static final ErlAtom IS_AUTH = ErlAtom.of("is_auth");
  private static final ErlAtom YES = ErlAtom.of("yes");

  /** How the dispatcher sends its protocol replies: the connection's own write path. */
  public interface Replies {
    void send(ErlTuple control, ErlTerm payload, Deadline deadline) throws IOException;
  }

  private final EiConnection connection;
  private final EiConnectionHandler handler;
  private final Replies replies;
  private final Liveness liveness;
  private final String nodeName;
  private final String transportName;
  private final String peerName;
  private final long tickTimeMillis;
  private final Map<ErlPid, CompletableFuture<ErlTerm>> rpcs = new ConcurrentHashMap<>();

  /**
   * @param handler where messages go, or null to queue them for {@code receive}; without
   *     one, every message decoded here is traced ({@link DistTrace}), with one the
   *     handler's layer traces
   * @param transportName the transport's name in trace lines
   */
  public Dispatcher(EiConnection connection, EiConnectionHandler handler, Replies replies, Liveness liveness,
      String nodeName, String transportName, String peerName, long tickTimeMillis) {
    this.connection = connection;
    this.handler = handler;
    this.replies = replies;
    this.liveness = liveness;
    this.nodeName = nodeName;
    this.transportName = transportName;
    this.peerName = peerName;
    this.tickTimeMillis = tickTimeMillis;
  }

  /** Registers an {@code rpc} waiting for the reply sent to {@code from}. */
  public CompletableFuture<ErlTerm> expectReply(ErlPid from) {
    CompletableFuture<ErlTerm> reply = new CompletableFuture<>();
    rpcs.put(from, reply);
    return reply;
  }

  /** Forgets the {@code rpc} of {@code from}, answered or not. */
  public void forgetReply(ErlPid from) {
    rpcs.remove(from);
  }

  /** Whether an {@code rpc} waits for its reply (then the reader thread must read). */
  public boolean awaitsReplies() {
    return !rpcs.isEmpty();
  }

  /** Fails every {@code rpc} still waiting: the connection went down. */
  public void failReplies(EiConnectionLostException why) {
    for (CompletableFuture<ErlTerm> f : rpcs.values()) {
      f.completeExceptionally(why);
    }
  }

  /**
   * Routes one decoded message.
   *
   * @return the message for the receive queue, or null when it was handled here or given
   *     to the handler
   */
  public EiMessage dispatch(ErlTerm control, ErlTerm payload) throws IOException {
    EiMessage m = ControlMessages.decode(control, payload);
    if (handler == null && DistTrace.on()) {
      DistTrace.in(nodeName, transportName, peerName, m);
    }
    if (m instanceof EiMessage.Send s) {
      CompletableFuture<ErlTerm> pending = rpcs.remove(s.to());
      if (pending != null) {
        pending.complete(s.message());
        return null;
      }
    } else if (m instanceof EiMessage.RegSend r && NET_KERNEL.equals(r.toName()) && answerIsAuth(r.message())) {
      return null;
    } else if (m instanceof EiMessage.Unlink u && u.id() != 0) {
      reply(ControlMessages.unlinkIdAck(u.id(), u.to(), u.from()), null, "UNLINK_ID_ACK");
    }
    if (handler != null) {
      handler.onMessage(connection, m);
      return null;
    }
    return m;
  }

  /**
   * Routes a message whose payload a raw receive left in {@code raw} ({@code m} is its
   * {@code Send} or {@code RegSend}, with a null message): a reply to an {@code rpc} and a
   * message to {@code net_kernel} are decoded (with {@code decoder}) and routed as
   * {@link #dispatch} does; any other is the receiver's, undecoded.
   *
   * @return the message for the receiver (with a null message when its payload is in
   *     {@code raw}), or null when it was handled here
   */
  public EiMessage dispatchRaw(ErlTerm control, EiMessage m, RawPayload raw, TermDecoder decoder) throws IOException {
    if ((m instanceof EiMessage.Send s && rpcs.containsKey(s.to()))
        || (m instanceof EiMessage.RegSend r && NET_KERNEL.equals(r.toName()))) {
      ErlTerm payload = decoder.decodeTerm(ByteBuffer.wrap(raw.array(), raw.offset(), raw.length()), raw.atomCacheRefs());
      return dispatch(control, payload);
    }
    if (DistTrace.on()) {
      DistTrace.in(nodeName, transportName, peerName, m);
    }
    return m;
  }

  /**
   * Answers {@code {'$gen_call', {From, Tag}, {is_auth, Node}}} with {@code From ! {Tag, yes}},
   * what {@code net_kernel} replies; the caller's tag may be an alias ({@code [alias|Ref]}),
   * which the caller matches on however the reply is addressed.
   */
  private boolean answerIsAuth(ErlTerm message) throws IOException {
    if (message instanceof ErlTuple t && t.arity() == 3 && GEN_CALL.equals(t.get(0))
        && t.get(1) instanceof ErlTuple from && from.arity() == 2 && from.get(0) instanceof ErlPid pid
        && t.get(2) instanceof ErlTuple req && req.arity() == 2 && IS_AUTH.equals(req.get(0))) {
      reply(ControlMessages.send(pid), ErlTuple.of(from.get(1), YES), "is_auth reply");
      return true;
    }
    return false;
  }

  /**
   * Sends a reply on behalf of the protocol from the reading thread. The reader must not
   * block behind a send that waits for the peer to read (the peer may in turn wait for us
   * to read), so the reply gets a quarter tick time; if the write lock or the socket stays
   * busy that long without a byte going out, the reply is dropped and logged. A reply cut
   * off in the middle has already ended the connection.
   */
  private void reply(ErlTuple control, ErlTerm payload, String what) throws IOException {
    try {
      replies.send(control, payload, Deadline.after(Math.max(1, tickTimeMillis / 4)));
    } catch (ErrnoException e) {
      if (!e.isTimeout() || liveness.failure() != null) {
        throw e;
      }
      LOG.warn("dropped the {} to {}: the connection stayed busy for a quarter tick time", what, peerName);
    }
  }
}
