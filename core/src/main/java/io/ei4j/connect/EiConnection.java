package io.ei4j.connect;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import io.ei4j.internal.dist.ConnectionInternals;
import io.ei4j.internal.dist.ControlMessages;
import io.ei4j.internal.dist.Deadline;
import io.ei4j.internal.dist.DistFlags;
import io.ei4j.internal.dist.DistFrameDecoder;
import io.ei4j.internal.dist.DistTrace;
import io.ei4j.internal.dist.Dispatcher;
import io.ei4j.internal.dist.FrameReader;
import io.ei4j.internal.dist.FrameWriter;
import io.ei4j.internal.dist.Handshake;
import io.ei4j.internal.dist.Liveness;
import io.ei4j.internal.dist.MessageBudget;
import io.ei4j.internal.dist.ReadingRole;
import io.ei4j.internal.dist.SendQueue;
import io.ei4j.internal.dist.SocketIo;
import io.ei4j.internal.dist.Ticker;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermDecoder;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An established distribution connection between an {@link EiNode} and a peer node.
 *
 * <p>After the handshake every frame is {@code length:32} followed by nothing (a tick)
 * or by {@code 'p'}, the control term and, for messages, the payload term; or, when both
 * nodes advertised {@code DIST_HDR_ATOM_CACHE}, by a distribution header and the terms
 * without their version bytes:
 *
 * <pre>
 *  +--------+-----+-----------------------+-----------------------+
 *  | len:32 | 112 | 131 control tuple ... | 131 payload term ...  |
 *  +--------+-----+-----------------------+-----------------------+
 *  | len:32 | 131 68 0 | control tuple ...  | payload term ...     |
 *  +--------+----------+--------------------+----------------------+
 *  |&lt;------ first buffer of the writev ----&gt;|&lt;- second buffer -&gt;|
 * </pre>
 *
 * <p>With {@code FRAGMENTS} negotiated too, a payload above {@link #FRAGMENT_ABOVE} goes out
 * as a {@code 131 69} frame and {@code 131 70} continuations, each taking the write lock
 * on its own, so that ticks and other threads' messages pass between them. What arrives
 * is decoded by {@link DistFrameDecoder} (atom cache, reassembly, limits).
 *
 * <p>A thread that calls {@link #receive} with nothing queued reads the socket itself
 * (see there); while nobody does, the connection's reader thread reads, so that ticks are
 * answered and silence is noticed even while nobody calls {@link #receive}. Messages wait
 * in a queue for {@link #receive} (bounded by {@link EiNode.Builder#maxQueueLength}), or go
 * to the node's {@link EiConnectionHandler}, whose layer may let its own waiting threads
 * read the socket ({@code ReadingRole.dispatchUntil}); {@code net_kernel}'s {@code is_auth} check
 * (what {@code net_adm:ping/1} sends) is answered with {@code yes}, replies to
 * {@link #rpc} go to their caller, {@code UNLINK_ID} is acknowledged. Ticks are sent
 * when nothing was sent for a quarter of the tick time; a peer silent for the whole tick
 * time is declared down, as Erlang's {@code net_ticktime} does.
 *
 * <p>Once the connection is down (the peer closed it or died, a read failed, a frame was
 * malformed or too large, ticks stopped, or {@link #close()}), {@link #receive} first
 * returns what was queued, then throws {@link EiConnectionLostException}; sends throw it
 * at once.
 *
 * <p>Thread-safe: any number of threads may send, receive and call {@link #rpc}.
 *
 * <p>This class is the facade; the work is done by parts in {@code io.ei4j.internal.dist}
 * (see {@code CONNECTIONS.md}, Parts): {@link FrameWriter} encodes, {@link SendQueue}
 * writes (write lock, send queue, flusher thread), {@link FrameReader} reads frames,
 * {@link ReadingRole} decides who reads (inbox lock, reader thread), {@link Dispatcher}
 * routes what arrives, {@link Ticker} ticks, and {@link Liveness} takes the connection
 * down once.
 */
public final class EiConnection implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EiConnection.class);
  private static final ErlAtom REX = ErlAtom.of("rex");
  private static final ErlAtom CALL = ErlAtom.of("call");
  private static final ErlAtom USER = ErlAtom.of("user");
  /** {@link FrameWriter#FRAGMENT_BYTES}: the payload bytes in one fragment of a large message. */
  public static final int FRAGMENT_BYTES = FrameWriter.FRAGMENT_BYTES;
  /** {@link FrameWriter#FRAGMENT_ABOVE}: a payload above this many bytes is sent as fragments. */
  public static final int FRAGMENT_ABOVE = FrameWriter.FRAGMENT_ABOVE;
  /** {@link FrameWriter#REFERENCE_BINARIES_FROM}: binaries this large are written from their own array. */
  static final int REFERENCE_BINARIES_FROM = FrameWriter.REFERENCE_BINARIES_FROM;
  /**
   * The atoms of names given to {@link #regSend}, by the name's hash (one entry per slot, the
   * last name wins): a program that sends to the same few names does not make a new atom
   * per send. Shared by all connections; entries are immutable, so a racy read sees either
   * a whole atom or null.
   */
  private static final ErlAtom[] NAME_ATOMS = new ErlAtom[256];
  /** {@link #close()} writes what sends accepted for at most this long. */
  private static final long CLOSE_FLUSH_MILLIS = 1_000;

  static {
    ConnectionInternals.grant(c -> c.role);
  }

  private final EiNode node;
  private final SocketIo<?> io;
  private final String peerName;
  private final long peerFlags;
  private final int peerCreation;
  private final ErlPid self;
  private final EiConnectionHandler handler;
  private final boolean headers;
  /** Up or down, shared with the parts; going down runs {@link #goingDown} once. */
  private final Liveness liveness;
  /** The reason {@link #close()} gave, so that going down knows this side chose it. */
  private volatile EiConnectionLostException closedHere;
  /** Encodes frames, in the sending thread's buffers, for {@link #sendQueue}. */
  private final FrameWriter frameWriter;
  /** The writing side: write lock, send queue, flusher thread. */
  private final SendQueue sendQueue;
  /** The read state that moves with the reading role: read buffer, frame decoder. */
  private final FrameReader frameReader;
  /**
   * The node's decoder with its limits, copying binaries: the frame decoder's, and the one
   * that decodes the payloads of raw receives' messages that the connection answers itself.
   */
  private final TermDecoder payloadDecoder;
  /** Routes what arrives: rpc replies, protocol answers, the handler. */
  private final Dispatcher dispatcher;
  /** Who reads: the reading role, the queue for {@link #receive}, the reader thread. */
  private final ReadingRole role;
  private final ScheduledFuture<?> ticker;
  /**
   * Whether this connection writes the traffic trace ({@link DistTrace}): without a handler.
   * With one, the handler's layer traces (as {@code Node} does, naming its transports).
   */
  private final boolean traced;
  /** The transport's name in trace lines: its class's simple name. */
  private final String transportName;

  EiConnection(EiNode node, SocketIo<?> io, Handshake.Result handshake) {
    this.node = node;
    this.io = io;
    this.peerName = handshake.peerName();
    this.peerFlags = handshake.peerFlags();
    this.peerCreation = handshake.peerCreation();
    this.self = node.makePid();
    long tickTimeMillis = node.tickTimeMillis();
    this.handler = node.handler();
    long both = node.distributionFlags() & peerFlags;
    this.headers = (both & DistFlags.DIST_HDR_ATOM_CACHE) != 0;
    this.traced = handler == null;
    this.transportName = io.callbacks().getClass().getSimpleName();
    String names = node.nodeName() + "-" + peerName;
    this.liveness = new Liveness(this::goingDown, node.failStop(), names);
    this.frameWriter = new FrameWriter(headers, (both & DistFlags.FRAGMENTS) != 0);
    this.sendQueue = new SendQueue(io, liveness, peerName, "ei4j-flusher-" + names, tickTimeMillis);
    MessageBudget budget = node.budget();
    // A message, reassembled or not, is bounded by the smaller of maxMessageBytes and the budget.
    boolean budgetBounds = budget.limitBytes() < node.maxMessageBytes();
    this.payloadDecoder = new TermDecoder(node.decodeLimits());
    DistFrameDecoder frames = new DistFrameDecoder(headers, (int) Math.min(node.maxMessageBytes(), budget.limitBytes()),
        budgetBounds ? "the whole receive budget (receiveBudgetBytes)" : "maxMessageBytes", payloadDecoder);
    this.frameReader = new FrameReader(io, peerName, node.maxMessageBytes(), node.explicitMaxMessageBytes(), budget.account(),
        () -> liveness.failure() != null, frames, sendQueue::sendTick);
    this.dispatcher = new Dispatcher(this, handler, this::write, liveness, node.nodeName(), transportName, peerName,
        tickTimeMillis);
    this.role = new ReadingRole(io, liveness, frameReader, dispatcher, node.nodeName(), peerName, handler != null,
        node.maxQueueLength(), tickTimeMillis, "ei4j-reader-" + names);
    Ticker tick = new Ticker(liveness, frameReader, sendQueue, peerName, tickTimeMillis);
    long interval = tick.intervalMillis();
    this.ticker = node.ticker().scheduleAtFixedRate(liveness.guarded(tick), interval, interval, TimeUnit.MILLISECONDS);
    // Only now: a peer that closes right after the handshake makes the reader fail at once,
    // and going down needs the ticker to cancel.
    this.role.start();
  }

  /** The full name of the node at the other end. */
  public String peerNodeName() {
    return peerName;
  }

  /** The distribution flags the peer advertised in the handshake; {@link DistFlag#fromBits} names them. */
  public long peerFlags() {
    return peerFlags;
  }

  /** The creation the peer presented in the handshake. */
  public int peerCreation() {
    return peerCreation;
  }

  /** The node this connection belongs to. */
  public EiNode node() {
    return node;
  }

  /**
   * The pid this connection sends from by default (ei's {@code ec->self}); made by
   * {@link EiNode#makePid()} when the connection was established.
   */
  public ErlPid self() {
    return self;
  }

  /** Whether the connection is still up. */
  public boolean isOpen() {
    return liveness.failure() == null;
  }

  /** Sends {@code message} to the process {@code to} ({@code SEND}), within the node's send timeout. */
  public void send(ErlPid to, ErlTerm message) throws IOException {
    send(null, to, message, node.sendTimeoutMillis());
  }

  /**
   * Sends {@code message} to {@code to} within {@code timeoutMillis}; with a sender, as
   * {@code SEND_SENDER} when the peer supports it.
   */
  public void send(ErlPid from, ErlPid to, ErlTerm message, long timeoutMillis) throws IOException {
    Objects.requireNonNull(to, "to");
    Deadline deadline = Deadline.after(timeoutMillis);
    if (from != null && (peerFlags & DistFlags.SEND_SENDER) != 0) {
      if (traced && DistTrace.on()) {
        traceOut(ControlMessages.sendSender(from, to), message);
      }
      write(ControlMessages.SEND_SENDER, from, to, null, message, deadline);
    } else {
      if (traced && DistTrace.on()) {
        traceOut(ControlMessages.send(to), message);
      }
      write(ControlMessages.SEND, ControlMessages.UNUSED, to, null, message, deadline);
    }
  }

  /**
   * Sends {@code message} to the process registered as {@code toName} on the peer
   * ({@code REG_SEND}), within the node's send timeout.
   */
  public void regSend(ErlPid from, String toName, ErlTerm message) throws IOException {
    regSend(from, toName, message, node.sendTimeoutMillis());
  }

  /** {@link #regSend(ErlPid, String, ErlTerm)} with an explicit timeout. */
  public void regSend(ErlPid from, String toName, ErlTerm message, long timeoutMillis) throws IOException {
    Objects.requireNonNull(from, "from");
    ErlAtom name = nameAtom(toName);
    Deadline deadline = Deadline.after(timeoutMillis);
    if (traced && DistTrace.on()) {
      traceOut(ControlMessages.regSend(from, name), message);
    }
    write(ControlMessages.REG_SEND, from, ControlMessages.UNUSED, name, message, deadline);
  }

  /**
   * Sends any control message with an optional payload, for operations this class has no
   * method for (links, exits, monitors). {@code control} is the tuple of
   * {@code erl_dist_protocol}, its operation number first.
   */
  public void sendControl(ErlTuple control, ErlTerm payload, long timeoutMillis) throws IOException {
    sendTraced(control, payload, Deadline.after(timeoutMillis));
  }

  /**
   * The next message, waiting up to {@code timeoutMillis} ({@link SocketCallbacks#INFINITE}:
   * for ever; 0: only what has already arrived).
   *
   * <p>When no message is queued and no other thread is reading the socket, the caller
   * reads it itself (it takes the <em>reading role</em>): frames are decoded and dispatched
   * on the calling thread until a message is queued, with no hand-off to another thread.
   * The connection's reader thread takes the role back when no receiver has held it for a
   * few milliseconds, so ticks are still answered and silence noticed while nobody calls
   * {@code receive}. Messages are returned in the order they arrived, whichever thread read
   * them.
   *
   * @throws ErrnoException {@link Errno#ETIMEDOUT} when nothing arrived in time
   * @throws EiConnectionLostException when the connection is down and every message that
   *     arrived before has been received
   * @throws InterruptedIOException when the calling thread is interrupted (its interrupt
   *     status is set again); nothing is lost, a frame read halfway is finished later
   */
  public EiMessage receive(long timeoutMillis) throws IOException {
    return role.receive(timeoutMillis);
  }

  /**
   * Receives the next message the way {@code ei_xreceive_msg} does: into {@code into}, whose
   * payload buffer is reused from one call to the next, with the payload left undecoded for
   * {@link EiRawMessage#payload()} to read. Otherwise as {@link #receive(long)}: the same
   * queue and order (messages that were queued decoded, read while nobody received, are
   * encoded into the holder), the same timeouts, interrupts and end of the connection;
   * signals arrive as {@link EiRawMessage.Kind#SIGNAL}.
   *
   * <p>What this saves: a message that arrives in one frame that fits the read buffer is
   * copied from there into the holder's; a larger one, or one that Erlang cut into
   * fragments, is read or reassembled in a buffer that is then handed to the holder, and the
   * buffer the holder gave up in exchange is reused for the next such message. So no array is allocated (and zeroed) per message once the
   * buffers have grown to the largest, and nothing is decoded that the receiver does not
   * read. The receive budget ({@link EiNode.Builder#receiveBudgetBytes}) counts a message
   * until it is in the holder; the two buffers (the holder's and the one kept for
   * reassembly) stay allocated between receives, as an {@code ei_x_buff} does.
   *
   * @return {@code into}, filled
   * @throws IllegalStateException when the node has an {@link EiConnectionHandler}, which
   *     takes every message instead
   * @throws ErrnoException {@link Errno#ETIMEDOUT} when nothing arrived in time
   * @throws EiConnectionLostException when the connection is down and every message that
   *     arrived before has been received
   * @throws InterruptedIOException when the calling thread is interrupted (its interrupt
   *     status is set again); nothing is lost
   */
  public EiRawMessage receive(EiRawMessage into, long timeoutMillis) throws IOException {
    Objects.requireNonNull(into, "into");
    into.clear(); // a receive that fails leaves nothing behind that could be read as a message
    EiMessage m = role.receiveRaw(into.rawPayload(), payloadDecoder, timeoutMillis);
    into.set(m, node.decodeLimits());
    return into;
  }

  /**
   * Calls {@code module:function(args...)} on the peer through its {@code rex} server and
   * returns the result, as {@code ei_rpc} does: the request
   * {@code {Pid, {call, Module, Function, Args, user}}} goes to the registered name
   * {@code rex} from a fresh pid, and the reply {@code {rex, Result}} comes back to it. A
   * call that fails on the peer returns {@code {badrpc, Reason}}; nothing is thrown for it.
   * Other messages are not disturbed: they stay for {@link #receive}.
   *
   * @param args a proper list of the arguments
   * @throws ErrnoException {@link Errno#ETIMEDOUT} when no reply came in time
   */
  public ErlTerm rpc(String module, String function, ErlList args, long timeoutMillis) throws IOException {
    if (!args.isProper()) {
      throw new IllegalArgumentException("rpc arguments must be a proper list: " + args);
    }
    Deadline deadline = Deadline.after(timeoutMillis);
    ErlPid from = node.makePid();
    CompletableFuture<ErlTerm> reply = dispatcher.expectReply(from);
    try {
      ErlTuple request = ErlTuple.of(from, ErlTuple.of(CALL, ErlAtom.of(module), ErlAtom.of(function), args, USER));
      sendTraced(ControlMessages.regSend(from, REX), request, deadline);
      role.wakeBackgroundReader(); // the reply must be read even if nobody calls receive
      ErlTerm m;
      try {
        m = deadline.isInfinite() ? reply.get() : reply.get(deadline.remainingMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        throw new ErrnoException(Errno.ETIMEDOUT, "rpc " + module + ":" + function + " on " + peerName + ": no reply within " + timeoutMillis + " ms");
      } catch (ExecutionException e) {
        throw e.getCause() instanceof EiConnectionLostException lost ? copy(lost) : new EiException("rpc failed", e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for rpc " + module + ":" + function);
      }
      if (m instanceof ErlTuple t && t.arity() == 2 && REX.equals(t.get(0))) {
        return t.get(1);
      }
      throw new EiException("rpc " + module + ":" + function + " on " + peerName + ": unexpected reply " + m);
    } finally {
      dispatcher.forgetReply(from);
    }
  }

  /**
   * Closes the connection; the peer sees it go down. Idempotent. Frames that sends
   * accepted into the send queue are written first, for at most {@link #CLOSE_FLUSH_MILLIS}
   * (a peer that does not read loses them); sends that start once closing has begun fail
   * with {@link EiConnectionLostException}.
   */
  @Override
  public void close() {
    EiConnectionLostException why = new EiConnectionLostException("the connection to " + peerName + " was closed by this side");
    closedHere = why;
    if (liveness.failure() == null) {
      sendQueue.stopAccepting(why);
      try {
        sendQueue.flushAccepted(Deadline.after(CLOSE_FLUSH_MILLIS));
      } catch (IOException e) {
        // The peer did not take the queued frames in time, or the connection broke: close anyway.
      }
    }
    fail(why);
  }

  /**
   * Takes the connection down at once, without writing what the send queue holds: the node
   * failed ({@link EiNode#fail}), so the peer must see it go now.
   */
  void abort(EiConnectionLostException why) {
    fail(why);
  }

  /** The reader's frame decoder, for its counters (atom cache use, reassembled messages). */
  DistFrameDecoder frameDecoder() {
    return frameReader.decoder();
  }

  /** Whether frames on this connection carry a distribution header (both sides advertised it). */
  boolean usesDistributionHeaders() {
    return headers;
  }

  /** Bytes of frames in the send queue, not yet taken for writing. */
  int queuedBytes() {
    return sendQueue.queuedBytes();
  }

  /** Whether large messages are sent as fragments on this connection. */
  boolean sendsFragments() {
    return frameWriter.fragments();
  }

  /** Whether no thread writes or is about to write (see {@link SendQueue#writerIdle}). */
  boolean writerIdle() {
    return sendQueue.writerIdle();
  }

  /**
   * How many messages arrived while the queue of {@link #receive} was full
   * ({@link EiNode.Builder#maxQueueLength}) and were dropped.
   */
  public long droppedMessages() {
    return role.droppedMessages();
  }

  @Override
  public String toString() {
    return "EiConnection[" + node.nodeName() + " <-> " + peerName + (isOpen() ? "" : ", down") + "]";
  }

  /**
   * A send of the API: traced (one level check while the trace is off), then written. The
   * protocol's own answers ({@code is_auth}, {@code UNLINK_ID_ACK}) and ticks bypass it.
   */
  private void sendTraced(ErlTuple control, ErlTerm payload, Deadline deadline) throws IOException {
    if (traced && DistTrace.on()) {
      traceOut(control, payload);
    }
    write(control, payload, deadline);
  }

  /** {@code ErlAtom.of(name)}, from {@link #NAME_ATOMS} when it holds that name. */
  private static ErlAtom nameAtom(String name) {
    int slot = name.hashCode() & (NAME_ATOMS.length - 1);
    ErlAtom a = NAME_ATOMS[slot];
    if (a == null || !a.name().equals(name)) {
      a = ErlAtom.of(name);
      NAME_ATOMS[slot] = a;
    }
    return a;
  }

  private void traceOut(ErlTuple control, ErlTerm payload) {
    DistTrace.out(node.nodeName(), transportName, peerName, control, payload);
  }

  /**
   * A send of the API whose control message is {@code {op, a, b}} or {@code {op, a, b, c}}
   * ({@link FrameWriter#write(int, ErlTerm, ErlTerm, ErlTerm, ErlTerm, Deadline, FrameWriter.Sink)}:
   * the same bytes, no tuple built); the caller has traced it.
   */
  private void write(int op, ErlTerm a, ErlTerm b, ErlTerm c, ErlTerm payload, Deadline deadline) throws IOException {
    EiConnectionLostException down = liveness.failure();
    if (down != null) {
      throw copy(down);
    }
    frameWriter.write(op, a, b, c, payload, deadline, sendQueue);
  }

  /** Every send: refused once down, else encoded in the caller's buffers and written or queued. */
  private void write(ErlTuple control, ErlTerm payload, Deadline deadline) throws IOException {
    EiConnectionLostException down = liveness.failure();
    if (down != null) {
      throw copy(down);
    }
    frameWriter.write(control, payload, deadline, sendQueue);
  }

  private void fail(EiConnectionLostException why) {
    liveness.fail(why);
  }

  /** Runs once, on the thread that takes the connection down: see {@link Liveness#fail}. */
  private void goingDown(EiConnectionLostException why) {
    logDown(why);
    io.close();
    ticker.cancel(false);
    // Frames still queued go down with the connection; senders learn it from their next call.
    sendQueue.onDown();
    role.onDown(why);
    dispatcher.failReplies(why);
    node.forget(this);
    if (handler != null) {
      handler.onDown(this, why);
    }
  }

  /**
   * Every connection that goes down is visible at the default level, with the reason (which
   * names the limit that was hit, if any; never the cookie): WARN when the peer broke the
   * protocol or a limit (a malformed, forged or oversized frame, an undecodable term), went
   * silent (tick timeout) or the socket failed; INFO when the peer closed it; debug when
   * this side closed it.
   */
  private void logDown(EiConnectionLostException why) {
    if (why == closedHere) {
      LOG.debug("connection {} <-> {} down: {}", node.nodeName(), peerName, why.getMessage());
    } else if (why.getCause() instanceof EOFException) {
      LOG.info("connection {} <-> {} down: {}", node.nodeName(), peerName, why.getMessage());
    } else {
      LOG.warn("dropped the connection {} <-> {}: {}", node.nodeName(), peerName, why.getMessage());
    }
  }

  /** A fresh exception for this caller's stack, with the original as its cause. */
  private static EiConnectionLostException copy(EiConnectionLostException e) {
    return Liveness.copy(e);
  }
}
