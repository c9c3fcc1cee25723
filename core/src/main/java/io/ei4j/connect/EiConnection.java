package io.ei4j.connect;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import io.ei4j.internal.dist.ControlMessages;
import io.ei4j.internal.dist.Deadline;
import io.ei4j.internal.dist.DistFlags;
import io.ei4j.internal.dist.DistFrameDecoder;
import io.ei4j.internal.dist.DistHeaderException;
import io.ei4j.internal.dist.Handshake;
import io.ei4j.internal.dist.SocketIo;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermBuffer;
import io.ei4j.term.TermDecodeException;
import io.ei4j.term.TermDecoder;
import io.ei4j.term.TermEncoder;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
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
 * in a queue for {@link #receive} (bounded by {@link EiNode.Builder#maxQueueLength}); {@code net_kernel}'s {@code is_auth} check
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
 */
public final class EiConnection implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EiConnection.class);
  private static final ErlAtom NET_KERNEL = ErlAtom.of("net_kernel");
  private static final ErlAtom GEN_CALL = ErlAtom.of("$gen_call");
  private static final ErlAtom IS_AUTH = ErlAtom.of("is_auth");
  private static final ErlAtom YES = ErlAtom.of("yes");
  private static final ErlAtom REX = ErlAtom.of("rex");
  private static final ErlAtom CALL = ErlAtom.of("call");
  private static final ErlAtom USER = ErlAtom.of("user");
  private static final byte PASS_THROUGH = 112;
  /**
   * A sending thread's encoding buffer that grew beyond this is dropped after the message, so
   * one huge message does not hold its memory for the life of the thread. Buffers up to it
   * are kept: a thread that sends 1 MiB messages encodes each into the same array instead
   * of allocating (and zeroing) a new megabyte per send.
   */
  private static final int SHRINK_ABOVE = 4 << 20;
  /**
   * The payload bytes in one fragment of a large message (one above {@link #FRAGMENT_ABOVE}).
   * A fragment holds the write lock for about 1 ms at 1 GB/s, 64 ms on a 16 MB/s link.
   */
  public static final int FRAGMENT_BYTES = 1 << 20;
  /**
   * A payload above this many bytes is sent as fragments of {@link #FRAGMENT_BYTES}; up to it,
   * as one frame. Erlang copies a fragmented message together, so fragmenting a 1 MiB message
   * costs the receiver a copy of it: measured against OTP 25 on loopback, 1 MiB messages
   * sent whole took 1.2-1.5 ms each against 1.4-2.9 ms in 256 KiB fragments (three
   * alternating runs each, sender CPU 370-450 against 455-600 us per message).
   */
  public static final int FRAGMENT_ABOVE = 2 << 20;
  /** Reads fill a buffer of this size; frames that fit are decoded where they lie. */
  private static final int READ_BUFFER_BYTES = 64 << 10;
  /**
   * How long the reading role may stay free, after a receiver let go of it, before the
   * background reader takes it back (at most a sixteenth of the tick time). A receiver that
   * comes back sooner reads the socket itself.
   */
  private static final long HANDBACK_MILLIS = 10;
  /**
   * While receivers keep the reading role, the reader thread checks at most this often (at
   * most a sixteenth of the tick time) whether it has been let go: the longest the socket
   * can go unread after the last receiver stopped, beyond {@link #HANDBACK_MILLIS}.
   */
  private static final long IDLE_CHECK_MILLIS = 1_000;
  /**
   * A receiver that reads the socket itself waits for data in slices of at most this long,
   * so that an interrupt is noticed on transports whose waits ignore interrupts.
   */
  private static final long READ_SLICE_MILLIS = 250;
  /** At most this many queued frames go into one gathering write. */
  private static final int MAX_BATCH_FRAMES = 128;
  /** A batch stops taking queued frames once it holds this many bytes. */
  private static final int MAX_BATCH_BYTES = 256 << 10;
  /**
   * Encoding buffers, one pair per sending thread: encoding happens before the write lock is
   * taken, so senders encode in parallel and the lock only covers the write itself.
   */
  private static final ThreadLocal<TermBuffer[]> SEND_BUFFERS =
      ThreadLocal.withInitial(() -> new TermBuffer[] {new TermBuffer(256), payloadBuffer()});
  /**
   * Binaries of at least this many bytes in a payload are not copied into the sending
   * thread's buffer but handed to the gathering write as they are (see
   * {@link TermBuffer#referenceBinariesFrom}), so the write's copy is their only one. Below
   * it, the copy costs less than the extra buffers of the write.
   */
  static final int REFERENCE_BINARIES_FROM = 64 << 10;

  private final EiNode node;
  private final SocketIo<?> io;
  private final String peerName;
  private final long peerFlags;
  private final int peerCreation;
  private final ErlPid self;
  private final EiConnectionHandler handler;
  private final TermDecoder decoder;
  /**
   * Guards {@link #inbox}, {@link #readRole}, {@link #waitingReceivers} and
   * {@link #roleReleasedNanos}; see {@link #receive} for the reading role.
   */
  private final ReentrantLock inboxLock = new ReentrantLock();
  /** Signalled when the inbox gets something or the reading role becomes free. */
  private final Condition inboxChanged = inboxLock.newCondition();
  /** Signalled when the background reader may want the reading role back. */
  private final Condition roleWanted = inboxLock.newCondition();
  /** Messages for {@link #receive}, then the failure once the connection is down. */
  private final ArrayDeque<Object> inbox = new ArrayDeque<>();
  /** Whether a thread holds the reading role (reads and dispatches frames). */
  private boolean readRole;
  /** Threads waiting in {@link #receive} for the inbox or the reading role. */
  private int waitingReceivers;
  /** When a thread last let go of the reading role. */
  private long roleReleasedNanos;
  /** The read buffer; only touched by the holder of the reading role. */
  private final ByteBuffer in = ByteBuffer.allocate(READ_BUFFER_BYTES).flip();
  /** A frame larger than {@link #in} whose bytes are still arriving; reading role only. */
  private ByteBuffer partialFrame;
  private final Map<ErlPid, CompletableFuture<ErlTerm>> rpcs = new ConcurrentHashMap<>();
  /**
   * Held by the thread that writes to the socket. Fair, so that two senders of fragmented
   * messages take turns; {@code tryLock()} (the lone sender's fast path, ticks) barges in.
   */
  private final ReentrantLock writeLock = new ReentrantLock(true);
  /** Frames whose senders found the write lock taken; whoever holds it writes them. */
  private final ConcurrentLinkedQueue<Pending> pending = new ConcurrentLinkedQueue<>();
  /** The frames of the batch being written; only touched under the write lock. */
  private final java.util.ArrayList<Pending> batch = new java.util.ArrayList<>();
  private final boolean headers;
  private final boolean fragments;
  private final AtomicLong sequenceIds = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final DistFrameDecoder frames;
  private final ByteBuffer tick = ByteBuffer.allocate(4);
  private final long tickTimeMillis;
  /** {@link #HANDBACK_MILLIS}, at most a sixteenth of the tick time, in nanoseconds. */
  private final long handbackNanos;
  private final Thread reader;
  private final ScheduledFuture<?> ticker;
  private volatile long lastReadNanos;
  private volatile long lastWriteNanos;
  private volatile EiConnectionLostException failure;

  /** What the socket calls are doing, for their error messages: built once, not per frame. */
  private final String readingWhat;
  private final String sendingWhat;

  EiConnection(EiNode node, SocketIo<?> io, Handshake.Result handshake) {
    this.node = node;
    this.io = io;
    this.peerName = handshake.peerName();
    this.readingWhat = "reading from " + peerName;
    this.sendingWhat = "sending to " + peerName;
    this.peerFlags = handshake.peerFlags();
    this.peerCreation = handshake.peerCreation();
    this.self = node.makePid();
    this.tickTimeMillis = node.tickTimeMillis();
    this.handbackNanos = Math.max(1, Math.min(HANDBACK_MILLIS, tickTimeMillis / 16)) * 1_000_000L;
    this.handler = node.handler();
    long both = node.distributionFlags() & peerFlags;
    this.headers = (both & DistFlags.DIST_HDR_ATOM_CACHE) != 0;
    this.fragments = headers && (both & DistFlags.FRAGMENTS) != 0;
    this.decoder = new TermDecoder(node.decodeLimits());
    this.frames = new DistFrameDecoder(headers, node.maxMessageBytes(), decoder);
    long now = System.nanoTime();
    this.lastReadNanos = now;
    this.lastWriteNanos = now;
    this.roleReleasedNanos = now - handbackNanos; // the reader thread starts with the role
    this.reader = new Thread(this::readLoop, "ei4j-reader-" + node.nodeName() + "-" + peerName);
    this.reader.setDaemon(true);
    long interval = Math.max(10, tickTimeMillis / 4);
    this.ticker = node.ticker().scheduleAtFixedRate(this::tick, interval, interval, TimeUnit.MILLISECONDS);
    // Only now: a peer that closes right after the handshake makes the reader fail at once,
    // and fail() needs the ticker to cancel.
    this.reader.start();
  }

  /** The full name of the node at the other end. */
  public String peerNodeName() {
    return peerName;
  }

  /** The distribution flags the peer advertised in the handshake. */
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
    return failure == null;
  }

  /** Sends {@code message} to the process {@code to} ({@code SEND}), within the node's send timeout. */
  public void send(ErlPid to, ErlTerm message) throws IOException {
    write(ControlMessages.send(to), message, Deadline.after(node.sendTimeoutMillis()));
  }

  /**
   * Sends {@code message} to {@code to} within {@code timeoutMillis}; with a sender, as
   * {@code SEND_SENDER} when the peer supports it.
   */
  public void send(ErlPid from, ErlPid to, ErlTerm message, long timeoutMillis) throws IOException {
    ErlTuple control = from != null && (peerFlags & DistFlags.SEND_SENDER) != 0
        ? ControlMessages.sendSender(from, to) : ControlMessages.send(to);
    write(control, message, Deadline.after(timeoutMillis));
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
    write(ControlMessages.regSend(from, ErlAtom.of(toName)), message, Deadline.after(timeoutMillis));
  }

  /**
   * Sends any control message with an optional payload, for operations this class has no
   * method for (links, exits, monitors). {@code control} is the tuple of
   * {@code erl_dist_protocol}, its operation number first.
   */
  public void sendControl(ErlTuple control, ErlTerm payload, long timeoutMillis) throws IOException {
    write(control, payload, Deadline.after(timeoutMillis));
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
    Deadline deadline = Deadline.after(timeoutMillis);
    while (true) {
      inboxLock.lock();
      try {
        while (true) {
          Object o = inbox.poll();
          if (o != null) {
            if (o instanceof EiConnectionLostException lost) {
              inbox.addFirst(lost);
              throw copy(lost);
            }
            return (EiMessage) o;
          }
          if (!readRole && handler == null) {
            readRole = true;
            break;
          }
          if (Thread.interrupted()) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while receiving from " + peerName);
          }
          if (deadline.expired() || (!deadline.isInfinite() && deadline.timeoutMillis() == 0)) {
            throw receiveTimeout(timeoutMillis);
          }
          waitingReceivers++;
          try {
            if (deadline.isInfinite()) {
              inboxChanged.await();
            } else {
              inboxChanged.await(Math.max(1, deadline.remainingMillis()), TimeUnit.MILLISECONDS);
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while receiving from " + peerName);
          } finally {
            waitingReceivers--;
          }
        }
      } finally {
        inboxLock.unlock();
      }
      // This thread holds the reading role: read until something is queued.
      try {
        readUntilQueued(deadline);
      } catch (ErrnoException e) {
        if (!e.isTimeout()) {
          throw e;
        }
        Object o = pollAfterTimeout();
        if (o == null) {
          throw receiveTimeout(timeoutMillis);
        }
        if (o instanceof EiConnectionLostException lost) {
          throw copy(lost);
        }
        return (EiMessage) o;
      } finally {
        releaseRole();
      }
    }
  }

  private ErrnoException receiveTimeout(long timeoutMillis) {
    return new ErrnoException(Errno.ETIMEDOUT, "receive: no message from " + peerName + " within " + timeoutMillis + " ms");
  }

  /** After a receive timed out while reading: what a frame read at the last moment queued. */
  private Object pollAfterTimeout() {
    inboxLock.lock();
    try {
      Object o = inbox.poll();
      if (o instanceof EiConnectionLostException) {
        inbox.addFirst(o);
      }
      return o;
    } finally {
      inboxLock.unlock();
    }
  }

  /**
   * Holding the reading role: reads and dispatches frames until the inbox holds something
   * (a message, or the failure once the connection went down). Reads wait in slices of
   * {@link #READ_SLICE_MILLIS} so an interrupt is noticed; a read cut short by the deadline
   * or an interrupt leaves the read state intact for the next holder.
   *
   * @throws ErrnoException {@link Errno#ETIMEDOUT} when the deadline passed first
   * @throws InterruptedIOException when the thread was interrupted (status set again)
   */
  private void readUntilQueued(Deadline deadline) throws IOException {
    while (true) {
      if (failure != null) {
        return;
      }
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while receiving from " + peerName);
      }
      boolean sliced = deadline.isInfinite() || deadline.remainingMillis() > READ_SLICE_MILLIS;
      Deadline slice = sliced ? Deadline.after(READ_SLICE_MILLIS) : deadline;
      try {
        if (readFrame(slice)) {
          return;
        }
      } catch (ErrnoException e) {
        if (e.isTimeout() && failure == null) {
          if (sliced) {
            continue; // a slice ran out, not the caller's deadline
          }
          throw e;
        }
        failRead(e);
      } catch (InterruptedIOException e) {
        if (Thread.currentThread().isInterrupted() && failure == null) {
          throw e;
        }
        failRead(e);
      } catch (IOException | RuntimeException e) {
        failRead(e);
      }
    }
  }

  /** Lets go of the reading role and wakes whoever may want it. */
  private void releaseRole() {
    inboxLock.lock();
    try {
      readRole = false;
      roleReleasedNanos = System.nanoTime();
      if (waitingReceivers > 0) {
        inboxChanged.signalAll();
      }
    } finally {
      inboxLock.unlock();
    }
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
    CompletableFuture<ErlTerm> reply = new CompletableFuture<>();
    rpcs.put(from, reply);
    try {
      ErlTuple request = ErlTuple.of(from, ErlTuple.of(CALL, ErlAtom.of(module), ErlAtom.of(function), args, USER));
      write(ControlMessages.regSend(from, REX), request, deadline);
      wakeBackgroundReader(); // the reply must be read even if nobody calls receive
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
      rpcs.remove(from);
    }
  }

  /** Closes the connection; the peer sees it go down. Idempotent. */
  @Override
  public void close() {
    fail(new EiConnectionLostException("the connection to " + peerName + " was closed by this side"));
  }

  /** The reader's frame decoder, for its counters (atom cache use, reassembled messages). */
  DistFrameDecoder frameDecoder() {
    return frames;
  }

  /** Whether frames on this connection carry a distribution header (both sides advertised it). */
  boolean usesDistributionHeaders() {
    return headers;
  }

  /** Frames queued for the thread that holds the write lock (see {@link #writeOrQueue}). */
  int queuedFrames() {
    return pending.size();
  }

  /** Whether large messages are sent as fragments on this connection. */
  boolean sendsFragments() {
    return fragments;
  }

  @Override
  public String toString() {
    return "EiConnection[" + node.nodeName() + " <-> " + peerName + (isOpen() ? "" : ", down") + "]";
  }

  // ---- writing ----

  private void write(ErlTuple control, ErlTerm payload, Deadline deadline) throws IOException {
    EiConnectionLostException down = failure;
    if (down != null) {
      throw copy(down);
    }
    TermBuffer[] buffers = SEND_BUFFERS.get();
    TermBuffer head = buffers[0];
    TermBuffer body = buffers[1];
    try {
      head.reset();
      head.putInt(0);
      body.reset();
      if (headers) {
        head.put(131).put(68).put(0); // a distribution header without atom cache references
        TermEncoder.encodeTerm(control, head);
        if (payload != null) {
          TermEncoder.encodeTerm(payload, body);
        }
      } else {
        head.put(PASS_THROUGH);
        TermEncoder.encode(control, head);
        if (payload != null) {
          TermEncoder.encode(payload, body);
        }
      }
      if (fragments && body.length() > FRAGMENT_ABOVE) {
        writeFragments(head, body, deadline);
        return;
      }
      long len = (long) head.length() - 4 + body.length();
      if (len > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("message of " + len + " bytes exceeds the 4-byte frame length");
      }
      head.setInt(0, (int) len);
      ByteBuffer[] frame;
      if (body.referenceCount() == 0) {
        frame = new ByteBuffer[] {head.asByteBuffer(), body.asByteBuffer()};
      } else {
        ByteBuffer[] pieces = body.asByteBuffers(0, body.length());
        frame = new ByteBuffer[1 + pieces.length];
        frame[0] = head.asByteBuffer();
        System.arraycopy(pieces, 0, frame, 1, pieces.length);
      }
      writeOrQueue(frame, deadline);
    } finally {
      // Forget the caller's binaries, and do not keep the memory of one huge message for
      // the life of the thread.
      body.reset();
      if (head.capacity() > SHRINK_ABOVE) {
        buffers[0] = new TermBuffer(256);
      }
      if (body.capacity() > SHRINK_ABOVE) {
        buffers[1] = payloadBuffer();
      }
    }
  }

  private static TermBuffer payloadBuffer() {
    TermBuffer b = new TermBuffer(256);
    b.referenceBinariesFrom(REFERENCE_BINARIES_FROM);
    return b;
  }

  /**
   * Sends {@code body} as fragments of {@link #FRAGMENT_BYTES}, the first carrying the control
   * message, each under the write lock on its own:
   *
   * <pre>
   *  len:32 131 69 seq:64 count:64 0 control  payload[0 .. F)
   *  len:32 131 70 seq:64 count-1:64          payload[F .. 2F)
   *  ...
   *  len:32 131 70 seq:64 1:64                payload[.. end)
   * </pre>
   *
   * A timeout before the first fragment leaves the connection intact; once a fragment is
   * out, the peer holds a partial message that nothing can complete or cancel, so a
   * failure or timeout on a later fragment ends the connection.
   */
  private void writeFragments(TermBuffer head, TermBuffer body, Deadline deadline) throws IOException {
    long seq = sequenceIds.incrementAndGet();
    int total = body.length();
    long count = (total + (long) FRAGMENT_BYTES - 1) / FRAGMENT_BYTES;
    int controlFrom = 4 + 3;
    int controlLen = head.length() - controlFrom;
    ByteBuffer control = ByteBuffer.wrap(head.array(), controlFrom, controlLen);
    ByteBuffer header = ByteBuffer.allocate(4 + 2 + 16 + 1);
    String what = "sending a fragmented message to " + peerName;
    for (long i = 0; i < count; i++) {
      int from = (int) (i * FRAGMENT_BYTES);
      int n = Math.min(FRAGMENT_BYTES, total - from);
      // the payload's bytes from..from+n-1: pieces of the buffer and of referenced binaries
      ByteBuffer[] slice = body.asByteBuffers(from, from + n);
      header.clear();
      int lead = i == 0 ? 2 : 1;
      ByteBuffer[] bufs = new ByteBuffer[lead + slice.length];
      if (i == 0) {
        header.putInt(2 + 16 + 1 + controlLen + n).put((byte) 131).put((byte) 69).putLong(seq).putLong(count).put((byte) 0).flip();
        bufs[1] = control;
      } else {
        header.putInt(2 + 16 + n).put((byte) 131).put((byte) 70).putLong(seq).putLong(count - i).flip();
      }
      bufs[0] = header;
      System.arraycopy(slice, 0, bufs, lead, slice.length);
      try {
        lock(deadline);
        try {
          writeBatch(bufs, deadline);
        } finally {
          unlockAndFlush();
        }
      } catch (IOException e) {
        if (i > 0) {
          fail(new EiConnectionLostException(what + " failed after " + i + " of " + count + " fragments: " + e.getMessage(), e));
        }
        throw e;
      }
    }
  }

  private void lock(Deadline deadline) throws IOException {
    try {
      if (deadline.isInfinite()) {
        writeLock.lockInterruptibly();
      } else if (!writeLock.tryLock(deadline.remainingMillis(), TimeUnit.MILLISECONDS)) {
        throw deadline.timeout("sending to " + peerName + " (waiting for another send)");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while sending to " + peerName);
    }
  }

  /**
   * A frame queued by a sender that found the write lock taken. The sender waits (parked)
   * until the lock holder has written it, so its buffers stay untouched until then.
   */
  private static final class Pending {
    static final int QUEUED = 0;
    static final int TAKEN = 1;
    static final int WRITTEN = 2;
    static final int FAILED = 3;
    static final int CANCELLED = 4;

    final ByteBuffer[] bufs;
    final Deadline deadline;
    final Thread waiter = Thread.currentThread();
    final AtomicInteger state = new AtomicInteger(QUEUED);
    volatile IOException error;

    Pending(ByteBuffer[] bufs, Deadline deadline) {
      this.bufs = bufs;
      this.deadline = deadline;
    }

    void finish(int result, IOException e) {
      error = e;
      state.set(result);
      LockSupport.unpark(waiter);
    }
  }

  /**
   * Writes one frame. A lone sender takes the write lock at once and writes (taking along
   * anything queued): no queue, no thread hop, no added latency. A sender that finds the
   * lock taken queues its frame and parks; the lock holder writes every queued frame in
   * one gathering write before it lets go of the lock, so under load many small frames
   * cost one system call. If the queue is not drained when the sender wakes and the lock
   * is free, the sender writes the batch itself.
   */
  private void writeOrQueue(ByteBuffer[] bufs, Deadline deadline) throws IOException {
    if (writeLock.tryLock()) {
      try {
        writeBatch(bufs, deadline);
      } finally {
        unlockAndFlush();
      }
      return;
    }
    Pending p = new Pending(bufs, deadline);
    pending.add(p);
    boolean interrupted = false;
    try {
      while (true) {
        int state = p.state.get();
        if (state == Pending.WRITTEN) {
          return;
        }
        if (state == Pending.FAILED) {
          IOException e = p.error;
          throw e instanceof EiConnectionLostException lost ? copy(lost) : e;
        }
        if (state == Pending.QUEUED) {
          if (writeLock.tryLock()) {
            try {
              writeBatch(null, deadline);
            } catch (IOException e) {
              // If p was in the batch, it carries the error; if not, the loop goes on.
            } finally {
              unlockAndFlush();
            }
            continue;
          }
          interrupted |= Thread.interrupted();
          EiConnectionLostException down = failure;
          IOException giveUp = down != null ? copy(down)
              : deadline.expired() ? deadline.timeout("sending to " + peerName + " (waiting for another send)")
              : interrupted ? new InterruptedIOException("interrupted while sending to " + peerName) : null;
          if (giveUp != null && p.state.compareAndSet(Pending.QUEUED, Pending.CANCELLED)) {
            throw giveUp;
          }
          if (giveUp != null) {
            continue; // taken for writing meanwhile: its outcome decides
          }
        }
        long left = deadline.isInfinite() || state == Pending.TAKEN ? 100_000_000L
            : Math.min(100_000_000L, Math.max(1, deadline.remainingMillis()) * 1_000_000L);
        LockSupport.parkNanos(this, left);
        interrupted |= Thread.interrupted();
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Under the write lock: writes {@code own} (may be null) together with frames taken from
   * the queue, in one gathering write: within {@code deadline} when there is an own frame
   * (a queued frame may then finish later than its own deadline, as a frame already being
   * written would), else within the shortest deadline among the queued frames. A timeout
   * before the first byte fails the taken frames with it and leaves the connection up; any
   * other failure, or a write cut short, ends the connection.
   */
  private void writeBatch(ByteBuffer[] own, Deadline deadline) throws IOException {
    batch.clear();
    int count = own != null ? own.length : 0;
    long bytes = own != null ? remaining(own) : 0;
    Deadline shortest = own != null ? deadline : Deadline.after(SocketCallbacks.INFINITE);
    for (Pending p; batch.size() < MAX_BATCH_FRAMES && bytes < MAX_BATCH_BYTES && (p = pending.poll()) != null; ) {
      if (!p.state.compareAndSet(Pending.QUEUED, Pending.TAKEN)) {
        continue; // cancelled by its sender
      }
      batch.add(p);
      count += p.bufs.length;
      bytes += remaining(p.bufs);
      if (own == null && !p.deadline.isInfinite()
          && (shortest.isInfinite() || p.deadline.remainingMillis() < shortest.remainingMillis())) {
        shortest = p.deadline;
      }
    }
    if (count == 0) {
      return;
    }
    ByteBuffer[] all;
    if (batch.isEmpty()) {
      all = own;
    } else {
      all = new ByteBuffer[count];
      int i = 0;
      if (own != null) {
        System.arraycopy(own, 0, all, 0, own.length);
        i = own.length;
      }
      for (Pending p : batch) {
        System.arraycopy(p.bufs, 0, all, i, p.bufs.length);
        i += p.bufs.length;
      }
    }
    IOException error = null;
    try {
      io.writeFully(all, shortest, sendingWhat);
      lastWriteNanos = System.nanoTime();
    } catch (IOException e) {
      boolean started = all[0].position() > 0;
      if (!(e instanceof ErrnoException ee && ee.isTimeout() && !started)) {
        fail(new EiConnectionLostException("writing to " + peerName + " failed: " + e.getMessage(), e));
      }
      error = e;
    }
    for (Pending p : batch) {
      p.finish(error == null ? Pending.WRITTEN : Pending.FAILED, error);
    }
    batch.clear();
    if (error != null) {
      throw error;
    }
  }

  /** Lets go of the write lock, then writes what was queued meanwhile if nobody else does. */
  private void unlockAndFlush() {
    writeLock.unlock();
    while (!pending.isEmpty() && failure == null && writeLock.tryLock()) {
      try {
        writeBatch(null, Deadline.after(SocketCallbacks.INFINITE));
      } catch (IOException e) {
        // The queued senders receive the error through their frames.
      } finally {
        writeLock.unlock();
      }
    }
    if (failure != null) {
      for (Pending p; (p = pending.poll()) != null; ) {
        if (p.state.compareAndSet(Pending.QUEUED, Pending.TAKEN)) {
          p.finish(Pending.FAILED, failure);
        }
      }
    }
  }

  private static long remaining(ByteBuffer[] bufs) {
    long n = 0;
    for (ByteBuffer b : bufs) {
      n += b.remaining();
    }
    return n;
  }

  // ---- ticks ----

  private void tick() {
    if (failure != null) {
      return;
    }
    long now = System.nanoTime();
    long silentMillis = (now - lastReadNanos) / 1_000_000L;
    if (silentMillis >= tickTimeMillis) {
      fail(new EiConnectionLostException("net_tick_timeout: " + peerName + " sent nothing for " + silentMillis + " ms (tick time " + tickTimeMillis + " ms)"));
      return;
    }
    if ((now - lastWriteNanos) / 1_000_000L >= tickTimeMillis / 4 - tickTimeMillis / 40) {
      sendTick();
    }
  }

  /** Sends an empty frame unless a send is under way (which keeps the peer informed anyway). */
  private void sendTick() {
    if (!writeLock.tryLock()) {
      return;
    }
    try {
      tick.clear();
      tick.putInt(0).flip();
      writeBatch(new ByteBuffer[] {tick}, Deadline.after(Math.max(1, tickTimeMillis / 4)));
    } catch (IOException e) {
      // writeBatch has ended the connection if the stream is broken; a timeout before the
      // first byte only means the peer is not reading, which its silence will show.
    } finally {
      unlockAndFlush();
    }
  }

  // ---- reading ----

  /**
   * The reader thread. It holds the reading role while no receiver does: from the start,
   * and again whenever the role has been free for {@link #handbackNanos} (a receiver that
   * stopped calling {@link #receive}) or an {@link #rpc} waits for its reply. It hands the
   * role over right after queueing a message for a receiver that is waiting, so the next
   * {@code receive} reads the socket itself. With a {@link EiConnectionHandler} it keeps the
   * role for good: messages go to the handler on this thread.
   */
  private void readLoop() {
    Deadline never = Deadline.after(SocketCallbacks.INFINITE);
    try {
      while (takeRoleInBackground()) {
        try {
          while (failure == null) {
            if (readFrame(never) && handler == null && hasWaitingReceivers()) {
              break; // hand the role to the receiver
            }
          }
        } finally {
          releaseRole();
        }
      }
    } catch (IOException | RuntimeException e) {
      failRead(e);
    }
  }

  /**
   * Waits until the reader thread should hold the reading role, and takes it.
   *
   * @return false once the connection is down
   */
  private boolean takeRoleInBackground() {
    // While a receiver holds the role the reader thread checks back after 10 ms, then ever
    // more rarely (up to IDLE_CHECK_MILLIS), so a thread sitting in receive on a quiet
    // connection does not cost a wake-up every 10 ms.
    long maxBackoff = Math.max(handbackNanos, Math.min(IDLE_CHECK_MILLIS, tickTimeMillis / 16) * 1_000_000L);
    long backoff = handbackNanos;
    inboxLock.lock();
    try {
      while (failure == null) {
        if (!readRole && (handler != null || !rpcs.isEmpty() || waitingReceivers == 0)) {
          long idle = System.nanoTime() - roleReleasedNanos;
          if (handler != null || !rpcs.isEmpty() || idle >= handbackNanos) {
            readRole = true;
            return true;
          }
          roleWanted.awaitNanos(handbackNanos - idle);
        } else {
          roleWanted.awaitNanos(backoff);
          backoff = Math.min(2 * backoff, maxBackoff);
        }
      }
      return false;
    } catch (InterruptedException e) {
      // Nobody interrupts the reader thread but close(); the connection goes down.
      fail(new EiConnectionLostException("the reader of " + peerName + " was interrupted", e));
      return false;
    } finally {
      inboxLock.unlock();
    }
  }

  /** Tells the reader thread to take the reading role now if it is free. */
  private void wakeBackgroundReader() {
    inboxLock.lock();
    try {
      roleWanted.signal();
    } finally {
      inboxLock.unlock();
    }
  }

  private boolean hasWaitingReceivers() {
    inboxLock.lock();
    try {
      return waitingReceivers > 0;
    } finally {
      inboxLock.unlock();
    }
  }

  /** Ends the connection for a read that failed (EOF, transport error, bad frame). */
  private void failRead(Throwable e) {
    if (e instanceof EOFException eof) {
      fail(new EiConnectionLostException(peerName + " closed the connection", eof));
    } else if (e instanceof EiConnectionLostException lost) {
      fail(lost);
    } else {
      fail(new EiConnectionLostException("reading from " + peerName + " failed: " + e.getMessage(), e));
    }
  }

  /**
   * Holding the reading role: reads one frame and dispatches it. Reads fill the
   * {@link #READ_BUFFER_BYTES} buffer with whatever has arrived, so a burst of small frames
   * costs one read; a frame that fits is decoded where it lies (its binaries copied, since
   * the buffer is reused), a larger one gets a buffer of its own that the decoded binaries
   * then share. A read that fails with a timeout or an interrupt consumes nothing it cannot
   * resume: the length stays in the buffer until the whole frame is there, and a large
   * frame's partial buffer is kept for the next call.
   *
   * @return whether a message was queued for {@link #receive}
   */
  private boolean readFrame(Deadline deadline) throws IOException {
    ByteBuffer frame;
    boolean owned;
    if (partialFrame != null) {
      readFrom(partialFrame, deadline);
      frame = partialFrame.flip();
      partialFrame = null;
      owned = true;
    } else {
      fill(in, 4, deadline);
      long n = in.getInt(in.position()) & 0xffffffffL;
      if (n == 0) {
        in.position(in.position() + 4);
        sendTick(); // answer a tick, as ei does
        return false;
      }
      int max = node.maxMessageBytes();
      if (n > max) {
        throw new EiConnectionLostException(peerName + " sent a frame of " + n + " bytes, more than maxMessageBytes (" + max + ")");
      }
      if (n <= in.capacity() - 4) {
        fill(in, 4 + (int) n, deadline);
        int at = in.position() + 4;
        frame = in.slice(at, (int) n);
        in.position(at + (int) n);
        owned = false;
      } else {
        in.position(in.position() + 4);
        ByteBuffer big = ByteBuffer.allocate((int) n);
        int have = Math.min(in.remaining(), (int) n);
        big.put(in.slice(in.position(), have)); // what the read buffer already holds of it
        in.position(in.position() + have);
        partialFrame = big;
        readFrom(big, deadline);
        partialFrame = null;
        frame = big.flip();
        owned = true;
      }
    }
    DistFrameDecoder.Message m;
    try {
      m = frames.decode(frame, owned);
    } catch (DistHeaderException e) {
      throw new EiConnectionLostException(peerName + " sent " + e.getMessage(), e);
    } catch (TermDecodeException e) {
      throw new EiConnectionLostException(peerName + " sent an undecodable message: " + e.getMessage(), e);
    }
    return m != null && dispatch(m.control(), m.payload());
  }

  /** Makes at least {@code n} bytes (at most the buffer's capacity) readable in {@code in}. */
  private void fill(ByteBuffer in, int n, Deadline deadline) throws IOException {
    if (in.remaining() >= n) {
      return;
    }
    in.compact();
    try {
      while (in.position() < n) {
        int r = io.readSome(in, deadline, readingWhat);
        if (r < 0) {
          throw new EOFException(peerName + " closed the connection");
        }
        lastReadNanos = System.nanoTime();
      }
    } finally {
      in.flip();
    }
  }

  private void readFrom(ByteBuffer buf, Deadline deadline) throws IOException {
    while (buf.hasRemaining()) {
      int n = io.readSome(buf, deadline, readingWhat);
      if (n < 0) {
        throw new EOFException(peerName + " closed the connection");
      }
      lastReadNanos = System.nanoTime();
    }
  }

  /** Routes one decoded message; returns whether it was queued for {@link #receive}. */
  private boolean dispatch(ErlTerm control, ErlTerm payload) throws IOException {
    EiMessage m = ControlMessages.decode(control, payload);
    if (m instanceof EiMessage.Send s) {
      CompletableFuture<ErlTerm> pending = rpcs.remove(s.to());
      if (pending != null) {
        pending.complete(s.message());
        return false;
      }
    } else if (m instanceof EiMessage.RegSend r && NET_KERNEL.equals(r.toName()) && answerIsAuth(r.message())) {
      return false;
    } else if (m instanceof EiMessage.Unlink u && u.id() != 0) {
      reply(ControlMessages.unlinkIdAck(u.id(), u.to(), u.from()), null, "UNLINK_ID_ACK");
    }
    if (handler != null) {
      handler.onMessage(this, m);
      return false;
    }
    inboxLock.lock();
    try {
      if (inbox.size() < node.maxQueueLength()) {
        inbox.add(m); // only the holder of the reading role adds messages: the bound holds
        if (waitingReceivers > 0) {
          inboxChanged.signal();
        }
        return true;
      }
    } finally {
      inboxLock.unlock();
    }
    long n = dropped.incrementAndGet();
    LOG.debug("{}: dropped a {} from {}: the queue holds maxQueueLength ({}) messages; {} dropped so far",
        node.nodeName(), m.getClass().getSimpleName(), peerName, node.maxQueueLength(), n);
    return false;
  }

  /**
   * How many messages arrived while the queue of {@link #receive} was full
   * ({@link EiNode.Builder#maxQueueLength}) and were dropped.
   */
  public long droppedMessages() {
    return dropped.get();
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
   * Sends a reply on behalf of the protocol from the reader thread. The reader must not
   * block behind a send that waits for the peer to read (the peer may in turn wait for us
   * to read), so the reply gets a quarter tick time; if the write lock or the socket stays
   * busy that long without a byte going out, the reply is dropped and logged. A reply cut
   * off in the middle has already ended the connection.
   */
  private void reply(ErlTuple control, ErlTerm payload, String what) throws IOException {
    try {
      write(control, payload, Deadline.after(Math.max(1, tickTimeMillis / 4)));
    } catch (ErrnoException e) {
      if (!e.isTimeout() || failure != null) {
        throw e;
      }
      LOG.warn("dropped the {} to {}: the connection stayed busy for a quarter tick time", what, peerName);
    }
  }

  // ---- failure ----

  private void fail(EiConnectionLostException why) {
    synchronized (this) {
      if (failure != null) {
        return;
      }
      failure = why;
    }
    LOG.debug("connection {} <-> {} down: {}", node.nodeName(), peerName, why.getMessage());
    io.close();
    ticker.cancel(false);
    inboxLock.lock();
    try {
      inbox.add(why);
      inboxChanged.signalAll();
      roleWanted.signalAll();
    } finally {
      inboxLock.unlock();
    }
    for (CompletableFuture<ErlTerm> f : rpcs.values()) {
      f.completeExceptionally(why);
    }
    node.forget(this);
    if (handler != null) {
      handler.onDown(this, why);
    }
  }

  /** A fresh exception for this caller's stack, with the original as its cause. */
  private static EiConnectionLostException copy(EiConnectionLostException e) {
    return new EiConnectionLostException(e.getMessage(), e);
  }
}
