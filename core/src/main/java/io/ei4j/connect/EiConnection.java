package io.ei4j.connect;

import io.ei4j.api.ByteBuffers;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
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
 * read the socket ({@link #dispatchUntil}); {@code net_kernel}'s {@code is_auth} check
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
  /**
   * The send queue holds at most this many bytes of frames accepted while the socket was
   * busy; a sender whose frame does not fit waits for room (within its send timeout).
   * Erlang's own limit before it suspends senders ({@code dist_buf_busy_limit}) is 1 MiB.
   */
  private static final int QUEUE_BYTES = 256 << 10;
  /** The send queue starts with this much room and doubles up to {@link #QUEUE_BYTES}. */
  private static final int QUEUE_INITIAL_BYTES = 16 << 10;
  /**
   * Frames up to this size are copied into the send queue when the socket is busy; larger
   * ones are written by their sender under the write lock, as copying them would cost
   * more than waiting.
   */
  private static final int QUEUE_FRAME_BYTES = 64 << 10;
  /**
   * A send that starts within this time of the end of the write before it is part of a
   * burst: the sender is producing frames as fast as it can write them.
   */
  private static final long BURST_GAP_NANOS = 3_000;
  /**
   * After this many sends in a row in a burst, the flusher thread takes over the writing
   * and senders only queue their frames, so that frames go out many per write.
   */
  private static final int BURST_FRAMES = 8;
  /** {@link #close()} writes what sends accepted for at most this long. */
  private static final long CLOSE_FLUSH_MILLIS = 1_000;
  private static final ByteBuffer[] NO_BUFFERS = new ByteBuffer[0];
  /** A deadline that has run out: a single attempt that does not wait. */
  private static final Deadline NOW = Deadline.after(0);
  private static final Deadline FOREVER = Deadline.after(SocketCallbacks.INFINITE);
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
   * it, the copy costs less than the extra buffers of the write. Equal to
   * {@link #QUEUE_FRAME_BYTES}, so a frame holding such a binary is always written by its
   * sender, never copied into the send queue.
   */
  static final int REFERENCE_BINARIES_FROM = QUEUE_FRAME_BYTES;

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
  /** Whether the holder of the reading role is the reader thread. */
  private boolean readerHoldsRole;
  /**
   * Whether the reader thread waits longer than {@link #handbackNanos} for a thread in
   * {@link #dispatchUntil} to let go of the role, so that letting go must signal it.
   */
  private boolean readerWaitsLong;
  /** Threads waiting in {@link #receive} for the inbox or the reading role. */
  private int waitingReceivers;
  /** When a thread last let go of the reading role. */
  private long roleReleasedNanos;
  /** The read buffer; only touched by the holder of the reading role. */
  private final ByteBuffer in = ByteBuffer.allocate(READ_BUFFER_BYTES).flip();
  /** A frame larger than {@link #in} whose bytes are still arriving; reading role only. */
  private ByteBuffer partialFrame;
  private final Map<ErlPid, CompletableFuture<ErlTerm>> rpcs = new ConcurrentHashMap<>();
  /** Whether the transport can wake a read up, which {@link #dispatchUntil} needs. */
  private final boolean wakeableReads;
  /**
   * A thread that found the role taken in {@link #dispatchUntil}: the reader thread lets go
   * of the role for it after the next frame and unparks it.
   */
  private final AtomicReference<Thread> roleRequester = new AtomicReference<>();
  /**
   * Held by the thread that writes to the socket. Fair, so that two senders of fragmented
   * messages take turns; {@code tryLock()} (the lone sender's fast path, ticks) barges in.
   */
  private final ReentrantLock writeLock = new ReentrantLock(true);
  /** Guards {@link #queued}, {@link #queuedBytes}, {@link #flushing} and {@link #flusher}. */
  private final ReentrantLock queueLock = new ReentrantLock();
  /** Signalled when {@link #flushing} becomes true, and when the connection goes down. */
  private final Condition flushWanted = queueLock.newCondition();
  /** Signalled when the send queue has been taken for writing, and when the connection goes down. */
  private final Condition queueRoom = queueLock.newCondition();
  /**
   * The send queue: whole frames, in the order they were accepted, that senders copied
   * here because the socket was busy; they go out after {@link #carry} and before any
   * frame sent later. Null until first needed.
   */
  private byte[] queued;
  /** Written under {@link #queueLock}; read without it as a hint. */
  private volatile int queuedBytes;
  /**
   * True while the socket is known to be busy (the last write left bytes behind): senders
   * queue their frames without trying the socket, and the flusher thread writes until
   * the queue, {@link #carry} and the transport's own buffers are empty.
   */
  private volatile boolean flushing;
  /** When the last write of a sender's own frame ended; write lock only. */
  private long lastOwnWriteNanos;
  /** How many sends in a row started within {@link #BURST_GAP_NANOS} of the write before; write lock only. */
  private int burst;
  /**
   * Set by {@link #close()} before it writes what is queued: from then on sends fail with
   * it, so that nothing is accepted after the last write. Written under the queue lock.
   */
  private volatile EiConnectionLostException closing;
  /** Started the first time the socket is found busy; ends with the connection. */
  private Thread flusher;
  /** The queue array last taken for writing, given back to senders at the next take; write lock only. */
  private byte[] spare;
  /** Accepted bytes that go out before the send queue: the rest of a write cut short; write lock only. */
  private ByteBuffer carry;
  /** The send queue as taken by {@link #gather} for the write in progress; write lock only. */
  private ByteBuffer taken;
  /** How many buffers of the last {@link #gather} were backlog (carry, taken queue); write lock only. */
  private int backlogBuffers;
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
    this.wakeableReads = io.canWakeupReads();
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
      // A frame already in the buffer needs no read, so no slice (and no clock read) for it.
      Deadline slice = sliced && !frameBuffered() ? Deadline.after(READ_SLICE_MILLIS) : deadline;
      try {
        if (readFrame(slice, false)) {
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
      readerHoldsRole = false;
      roleReleasedNanos = System.nanoTime();
      if (waitingReceivers > 0) {
        inboxChanged.signalAll();
      }
      if (readerWaitsLong) {
        // The reader thread must notice within handbackNanos if this holder does not come back.
        readerWaitsLong = false;
        roleWanted.signal();
      }
    } finally {
      inboxLock.unlock();
    }
  }

  /**
   * For the layer that installed an {@link EiConnectionHandler} (such as
   * {@code io.ei4j.node.Node}): lets a thread that waits for something the handler will
   * produce read this connection's frames itself, instead of waiting for the reader thread
   * to pass it on. The calling thread takes the reading role if it is free, reads frames and
   * dispatches each to the handler (on this thread, in arrival order, as the reader thread
   * would: every process's messages, ticks, replies) until {@code done} returns true, then
   * dispatches the frames already complete in the read buffer and lets go of the role. It
   * also stops when the read is {@linkplain #wakeupDispatcher() woken up}, the timeout runs
   * out, the thread is interrupted (its status stays set) or the connection goes down
   * (which ends it as a failure on the reader thread would); read failures are never thrown
   * here. The caller then looks at its own state again and may call this again.
   *
   * <p>The reader thread takes the role back once it has been free for a few milliseconds,
   * so frames for other processes wait at most that long after the caller stops calling.
   * {@code done} is called on this thread, between frames, without any lock of this
   * connection held; it must be cheap and not block.
   *
   * @param done whether the caller has what it waits for
   * @param timeoutMillis how long to read at most; {@link SocketCallbacks#INFINITE} for ever
   * @return false, without reading, when there is no handler, the transport cannot wake a
   *     read ({@link SocketCallbacks#hasReadWakeup}), the connection is down, or another
   *     thread holds the role; when that is the reader thread, the calling thread is
   *     unparked ({@link LockSupport#unpark}) once the reader thread has let go of the role,
   *     which it does as soon as its read buffer holds no whole frame (its wait for data is
   *     woken up). True after reading.
   */
  public boolean dispatchUntil(BooleanSupplier done, long timeoutMillis) {
    if (handler == null || !wakeableReads || failure != null) {
      return false;
    }
    inboxLock.lock();
    try {
      if (readRole) {
        if (readerHoldsRole) {
          roleRequester.set(Thread.currentThread());
          io.wakeupRead(); // the reader thread lets go of the role at once if it reads
        }
        return false;
      }
      readRole = true;
    } finally {
      inboxLock.unlock();
    }
    try {
      Deadline deadline = Deadline.after(timeoutMillis);
      while (failure == null && !done.getAsBoolean() && !deadline.expired()
          && !Thread.currentThread().isInterrupted()) {
        boolean sliced = deadline.isInfinite() || deadline.remainingMillis() > READ_SLICE_MILLIS;
        try {
          readFrame(sliced && !frameBuffered() ? Deadline.after(READ_SLICE_MILLIS) : deadline, true);
        } catch (ErrnoException e) {
          if (!e.isTimeout() || failure != null) {
            failRead(e);
          }
          // A timeout: a slice or the deadline ran out, or a wakeup; the loop looks again.
        } catch (InterruptedIOException e) {
          if (!Thread.currentThread().isInterrupted() || failure != null) {
            failRead(e);
          }
        } catch (IOException | RuntimeException e) {
          failRead(e);
        }
      }
      // What has already arrived is dispatched now, without another read.
      try {
        while (failure == null && frameBuffered()) {
          readFrame(Deadline.after(SocketCallbacks.INFINITE), false);
        }
      } catch (IOException | RuntimeException e) {
        failRead(e);
      }
    } finally {
      releaseRole();
    }
    return true;
  }

  /**
   * Makes a thread reading in {@link #dispatchUntil} stop waiting for data soon and look at
   * {@code done} again (what it waits for may have come from elsewhere). Harmless when
   * nobody reads there: at most a later read there returns early once. Never blocks.
   */
  public void wakeupDispatcher() {
    if (wakeableReads) {
      io.wakeupRead();
    }
  }

  /** Whether the read buffer holds a whole frame, so that reading it needs no read call. */
  private boolean frameBuffered() {
    if (partialFrame != null || in.remaining() < 4) {
      return false;
    }
    long n = in.getInt(in.position()) & 0xffffffffL;
    return n <= in.remaining() - 4;
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

  /**
   * Closes the connection; the peer sees it go down. Idempotent. Frames that sends
   * accepted into the send queue are written first, for at most {@link #CLOSE_FLUSH_MILLIS}
   * (a peer that does not read loses them); sends that start once closing has begun fail
   * with {@link EiConnectionLostException}.
   */
  @Override
  public void close() {
    EiConnectionLostException why = new EiConnectionLostException("the connection to " + peerName + " was closed by this side");
    if (failure == null) {
      queueLock.lock();
      try {
        if (closing == null) {
          closing = why;
        }
      } finally {
        queueLock.unlock();
      }
      Deadline deadline = Deadline.after(CLOSE_FLUSH_MILLIS);
      try {
        lock(deadline);
        try {
          while (failure == null && (carry != null || queuedBytes > 0)) {
            writeBatch(null, deadline);
          }
          io.flushTransport(deadline, sendingWhat);
        } finally {
          writeLock.unlock();
        }
      } catch (IOException e) {
        // The peer did not take the queued frames in time, or the connection broke: close anyway.
      }
    }
    fail(why);
  }

  /** The reader's frame decoder, for its counters (atom cache use, reassembled messages). */
  DistFrameDecoder frameDecoder() {
    return frames;
  }

  /** Whether frames on this connection carry a distribution header (both sides advertised it). */
  boolean usesDistributionHeaders() {
    return headers;
  }

  /** Bytes of frames in the send queue, not yet taken for writing (see {@link #writeOrQueue}). */
  int queuedBytes() {
    queueLock.lock();
    try {
      return queuedBytes;
    } finally {
      queueLock.unlock();
    }
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
   * Whether no thread writes or is about to write: the flusher has handed the socket back
   * and nobody holds the write lock, so the next lone send is written by its sender.
   */
  boolean writerIdle() {
    return !flushing && !writeLock.isLocked();
  }

  /**
   * Sends one frame; the caller's buffers are free for reuse when this returns. A sender
   * that finds the socket free writes at once from its own thread, waiting for the socket
   * within {@code deadline}: a lone message gets no queue, no thread hop and no timer.
   * Queued frames that a thread writes on its way out of the lock are tried once without
   * waiting; whatever the socket did not take is copied into {@link #carry} and the
   * flusher thread writes it, waiting for the socket. While it does, the socket is busy:
   * senders copy their frames into the send queue and return, and the flusher writes
   * everything queued in one gathering write, so a burst against a slow reader costs one
   * system call (and over TLS one record per 16 KiB) for many frames. A burst ({@link #BURST_FRAMES} sends in a row,
   * each within {@link #BURST_GAP_NANOS} of the write before) hands the writing to the
   * flusher in the same way. A sender that finds the write lock held by another sender
   * queues its frame too; the holder writes it when it lets go of the lock.
   *
   * <p>A frame that returned is written before any frame sent after it; it is lost only
   * with the connection, whose failure the next call reports. The queue holds at most
   * {@link #QUEUE_BYTES}: a sender waits for room until its deadline and then fails with
   * {@code ETIMEDOUT}, its frame not sent. Frames above {@link #QUEUE_FRAME_BYTES} are
   * written by their sender under the write lock, after what was queued before them.
   */
  private void writeOrQueue(ByteBuffer[] bufs, Deadline deadline) throws IOException {
    long len = ByteBuffers.remaining(bufs);
    if (len > QUEUE_FRAME_BYTES) {
      lock(deadline);
      try {
        writeBatch(bufs, deadline);
      } finally {
        unlockAndFlush();
      }
      return;
    }
    if (!flushing && writeLock.tryLock()) {
      try {
        writeOwn(bufs, deadline);
      } finally {
        unlockAndFlush();
      }
      return;
    }
    enqueue(bufs, (int) len, deadline);
    // The holder of the write lock may have let go before the frame was queued: if the
    // lock is free now, nobody else is going to write the queue.
    if (!flushing && writeLock.tryLock()) {
      try {
        writeSome();
      } finally {
        unlockAndFlush();
      }
    }
  }

  /**
   * Copies a frame to the end of the send queue, first waiting for room until
   * {@code deadline}.
   */
  private void enqueue(ByteBuffer[] bufs, int len, Deadline deadline) throws IOException {
    queueLock.lock();
    try {
      while (true) {
        EiConnectionLostException down = failure != null ? failure : closing;
        if (down != null) {
          throw copy(down);
        }
        if (queuedBytes + len <= QUEUE_BYTES) {
          break;
        }
        if (deadline.expired()) {
          throw deadline.timeout("sending to " + peerName + " (waiting for room in the send queue)");
        }
        try {
          if (deadline.isInfinite()) {
            queueRoom.await();
          } else {
            queueRoom.await(Math.max(1, deadline.remainingMillis()), TimeUnit.MILLISECONDS);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while sending to " + peerName);
        }
      }
      int need = queuedBytes + len;
      if (queued == null || queued.length < need) {
        int size = queued == null ? QUEUE_INITIAL_BYTES : queued.length;
        while (size < need) {
          size *= 2;
        }
        byte[] grown = new byte[Math.min(size, QUEUE_BYTES)];
        if (queued != null) {
          System.arraycopy(queued, 0, grown, 0, queuedBytes);
        }
        queued = grown;
      }
      int at = queuedBytes;
      for (ByteBuffer b : bufs) {
        int n = b.remaining();
        b.get(b.position(), queued, at, n);
        at += n;
      }
      queuedBytes = at;
    } finally {
      queueLock.unlock();
    }
  }

  /**
   * Under the write lock: the buffers of the next write, in stream order: {@link #carry},
   * the send queue (taken whole into {@link #taken}; senders go on in the spare array),
   * then {@code own}. The count of buffers before {@code own} is {@link #backlogBuffers}.
   */
  private ByteBuffer[] gather(ByteBuffer[] own) {
    if (queuedBytes > 0) {
      queueLock.lock();
      try {
        if (queuedBytes > 0) {
          taken = ByteBuffer.wrap(queued, 0, queuedBytes);
          queued = spare;
          spare = null;
          queuedBytes = 0;
          queueRoom.signalAll();
        }
      } finally {
        queueLock.unlock();
      }
    }
    backlogBuffers = (carry != null ? 1 : 0) + (taken != null ? 1 : 0);
    int n = backlogBuffers + (own != null ? own.length : 0);
    if (n == 0) {
      return NO_BUFFERS;
    }
    if (backlogBuffers == 0) {
      return own;
    }
    ByteBuffer[] all = new ByteBuffer[n];
    int i = 0;
    if (carry != null) {
      all[i++] = carry;
    }
    if (taken != null) {
      all[i++] = taken;
    }
    if (own != null) {
      System.arraycopy(own, 0, all, i, own.length);
    }
    return all;
  }

  /**
   * Under the write lock, after a write of {@code all} from {@link #gather}: keeps the
   * unwritten bytes of its first {@code keep} buffers as {@link #carry} (copied, unless
   * only the carry itself has bytes left) and gives the taken queue array back as the
   * spare.
   */
  private void keepRest(ByteBuffer[] all, int keep) {
    long rest = 0;
    for (int i = 0; i < keep; i++) {
      rest += all[i].remaining();
    }
    if (rest == 0) {
      carry = null;
    } else if (carry == null || carry.remaining() != rest) {
      ByteBuffer next = ByteBuffer.allocate((int) rest);
      for (int i = 0; i < keep; i++) {
        next.put(all[i]);
      }
      carry = next.flip();
    }
    if (taken != null) {
      spare = taken.array();
      taken = null;
    }
  }

  /**
   * Under the write lock: writes the backlog as far as the socket takes it without
   * waiting, and hands what is left, copied, to the flusher thread. A failure ends the
   * connection and is thrown.
   */
  private void writeSome() throws IOException {
    ByteBuffer[] all = gather(null);
    if (all.length == 0) {
      return;
    }
    boolean done;
    try {
      done = io.writeNow(all, sendingWhat) && io.flushTransport(NOW, sendingWhat);
    } catch (IOException e) {
      keepRest(all, 0);
      fail(new EiConnectionLostException("writing to " + peerName + " failed: " + e.getMessage(), e));
      throw e;
    }
    lastWriteNanos = System.nanoTime();
    keepRest(all, all.length);
    if (!done) {
      startFlushing();
    }
  }

  /**
   * Under the write lock: a sender's own frame, written at once by its own thread as
   * {@link #writeBatch} does (after any backlog, waiting for the socket until
   * {@code deadline}). The sends of a burst ({@link #BURST_FRAMES} in a row, each starting
   * within {@link #BURST_GAP_NANOS} of the end of the write before) then hand the writing
   * to the flusher.
   */
  private void writeOwn(ByteBuffer[] own, Deadline deadline) throws IOException {
    long start = System.nanoTime();
    burst = start - lastOwnWriteNanos < BURST_GAP_NANOS ? burst + 1 : 0;
    writeBatch(own, deadline);
    lastOwnWriteNanos = lastWriteNanos;
    if (burst >= BURST_FRAMES) {
      burst = 0;
      startFlushing();
    }
  }

  /**
   * Under the write lock: writes the backlog, then {@code own} (may be null), waiting for
   * the socket until {@code deadline}. A timeout before the first byte of {@code own}
   * leaves the connection up and throws, with {@code own} not sent and the rest of the
   * backlog left to the flusher; any other failure, or {@code own} cut short, ends the
   * connection.
   */
  private void writeBatch(ByteBuffer[] own, Deadline deadline) throws IOException {
    EiConnectionLostException shut = closing;
    if (own != null && shut != null) {
      throw copy(shut);
    }
    ByteBuffer[] all = gather(own);
    if (all.length == 0) {
      return;
    }
    int backlog = backlogBuffers;
    long ownBytes = own == null ? 0 : ByteBuffers.remaining(own);
    try {
      io.writeFully(all, deadline, sendingWhat);
      lastWriteNanos = System.nanoTime();
      keepRest(all, 0);
    } catch (IOException e) {
      boolean ownStarted = own != null && ByteBuffers.remaining(own) < ownBytes;
      if (e instanceof ErrnoException ee && ee.isTimeout() && !ownStarted) {
        keepRest(all, backlog);
        if (carry != null) {
          startFlushing();
        }
      } else {
        keepRest(all, 0);
        fail(new EiConnectionLostException("writing to " + peerName + " failed: " + e.getMessage(), e));
      }
      throw e;
    }
  }

  /** Under the write lock: the socket is busy; wakes the flusher thread, starting it the first time. */
  private void startFlushing() {
    queueLock.lock();
    try {
      if (flushing || failure != null) {
        return;
      }
      flushing = true;
      if (flusher == null) {
        flusher = new Thread(this::flushLoop, "ei4j-flusher-" + node.nodeName() + "-" + peerName);
        flusher.setDaemon(true);
        flusher.start();
      } else {
        flushWanted.signal();
      }
    } finally {
      queueLock.unlock();
    }
  }

  /**
   * The flusher thread: while {@link #flushing}, takes the write lock and writes the
   * backlog, waiting for the socket as long as it takes (the connection's liveness is the
   * ticks' business, as for a blocked Erlang distribution port), until the carry, the send
   * queue and the transport's own buffers are all empty; then senders write for themselves
   * again. Ends with the connection.
   */
  private void flushLoop() {
    while (true) {
      queueLock.lock();
      try {
        while (!flushing && failure == null) {
          flushWanted.awaitUninterruptibly();
        }
        if (failure != null) {
          return;
        }
      } finally {
        queueLock.unlock();
      }
      writeLock.lock();
      try {
        drain();
      } catch (IOException | RuntimeException e) {
        fail(new EiConnectionLostException("writing queued frames to " + peerName + " failed: " + e.getMessage(), e));
      } finally {
        unlockAndFlush();
      }
    }
  }

  /**
   * Under the write lock: writes the backlog until the carry, the queue and the transport
   * are empty, then clears {@link #flushing}.
   */
  private void drain() throws IOException {
    while (true) {
      ByteBuffer[] all = gather(null);
      if (all.length > 0) {
        try {
          io.writeFully(all, FOREVER, sendingWhat);
        } catch (IOException e) {
          keepRest(all, 0);
          throw e;
        }
        keepRest(all, 0);
        lastWriteNanos = System.nanoTime();
        continue;
      }
      io.flushTransport(FOREVER, sendingWhat);
      queueLock.lock();
      try {
        if (queuedBytes == 0) {
          flushing = false;
          return;
        }
      } finally {
        queueLock.unlock();
      }
    }
  }

  /**
   * Lets go of the write lock, then writes what was queued meanwhile if nobody else does
   * (the flusher does while the socket is busy).
   */
  private void unlockAndFlush() {
    writeLock.unlock();
    while (queuedBytes > 0 && !flushing && failure == null && writeLock.tryLock()) {
      try {
        writeSome();
      } catch (IOException e) {
        // The connection is down; the next call reports it.
      } finally {
        writeLock.unlock();
      }
    }
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
   * {@code receive} reads the socket itself. With a {@link EiConnectionHandler} messages go
   * to the handler on whichever thread holds the role; this thread's reads can then be woken
   * up, and it lets go of the role for a thread waiting in {@link #dispatchUntil} once the
   * read buffer holds no whole frame, and unparks that thread.
   */
  private void readLoop() {
    Deadline never = Deadline.after(SocketCallbacks.INFINITE);
    try {
      while (takeRoleInBackground()) {
        Thread handTo = null;
        try {
          while (failure == null) {
            boolean queued;
            try {
              queued = readFrame(never, handler != null);
            } catch (ErrnoException e) {
              if (!e.isTimeout() || handler == null) {
                throw e;
              }
              queued = false; // woken up: a thread in dispatchUntil may want the role
            }
            if (handler == null) {
              if (queued && hasWaitingReceivers()) {
                break; // hand the role to the receiver
              }
            } else if (roleRequester.get() != null && !frameBuffered()
                && (handTo = roleRequester.getAndSet(null)) != null) {
              break; // hand the role to the thread waiting in dispatchUntil
            }
          }
        } finally {
          releaseRole();
        }
        if (handTo != null) {
          LockSupport.unpark(handTo);
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
    // With a handler, a thread in dispatchUntil that lets go of the role signals this one
    // while it waits longer than handbackNanos, so the frames of other processes never wait
    // more than about handbackNanos after the last such thread stopped.
    inboxLock.lock();
    try {
      while (failure == null) {
        if (!readRole && (!rpcs.isEmpty() || waitingReceivers == 0)) {
          long idle = System.nanoTime() - roleReleasedNanos;
          if (!rpcs.isEmpty() || idle >= handbackNanos) {
            readRole = true;
            readerHoldsRole = true;
            return true;
          }
          readerWaitsLong = false;
          roleWanted.awaitNanos(handbackNanos - idle);
        } else {
          readerWaitsLong = handler != null && backoff > handbackNanos;
          roleWanted.awaitNanos(backoff);
          backoff = Math.min(2 * backoff, maxBackoff);
        }
      }
      readerWaitsLong = false;
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
  private boolean readFrame(Deadline deadline, boolean wakeable) throws IOException {
    ByteBuffer frame;
    boolean owned;
    if (partialFrame != null) {
      readFrom(partialFrame, deadline, wakeable);
      frame = partialFrame.flip();
      partialFrame = null;
      owned = true;
    } else {
      fill(in, 4, deadline, wakeable);
      long n = in.getInt(in.position()) & 0xffffffffL;
      if (n == 0) {
        in.position(in.position() + 4);
        sendTick(); // answer a tick, as ei does
        return false;
      }
      int max = node.maxMessageBytes();
      if (n > max) {
        LOG.warn("{}: limit maxMessageBytes ({}) hit by a frame of {} bytes; closing the connection", peerName, max, n);
        throw new EiConnectionLostException(peerName + " sent a frame of " + n + " bytes, more than maxMessageBytes (" + max + ")");
      }
      if (n <= in.capacity() - 4) {
        fill(in, 4 + (int) n, deadline, wakeable);
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
        readFrom(big, deadline, wakeable);
        partialFrame = null;
        frame = big.flip();
        owned = true;
      }
    }
    DistFrameDecoder.Message m;
    try {
      m = frames.decode(frame, owned);
    } catch (DistHeaderException e) {
      if (e.getMessage() != null && e.getMessage().contains("maxMessageBytes")) {
        LOG.warn("{}: limit maxMessageBytes hit: {}; closing the connection", peerName, e.getMessage());
      }
      throw new EiConnectionLostException(peerName + " sent " + e.getMessage(), e);
    } catch (TermDecodeException e) {
      if (e.getMessage() != null && e.getMessage().contains("max")) { // the limit names itself: maxDepth (N), ...
        LOG.warn("{}: decode limit hit: {}; closing the connection", peerName, e.getMessage());
      }
      throw new EiConnectionLostException(peerName + " sent an undecodable message: " + e.getMessage(), e);
    }
    return m != null && dispatch(m.control(), m.payload());
  }

  /** Makes at least {@code n} bytes (at most the buffer's capacity) readable in {@code in}. */
  private void fill(ByteBuffer in, int n, Deadline deadline, boolean wakeable) throws IOException {
    if (in.remaining() >= n) {
      return;
    }
    in.compact();
    try {
      while (in.position() < n) {
        int r = io.readSome(in, deadline, readingWhat, wakeable);
        if (r < 0) {
          throw new EOFException(peerName + " closed the connection");
        }
        lastReadNanos = System.nanoTime();
      }
    } finally {
      in.flip();
    }
  }

  private void readFrom(ByteBuffer buf, Deadline deadline, boolean wakeable) throws IOException {
    while (buf.hasRemaining()) {
      int n = io.readSome(buf, deadline, readingWhat, wakeable);
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
    queueLock.lock();
    try {
      // Frames still queued go down with the connection; senders learn it from their next call.
      queued = null;
      queuedBytes = 0;
      flushWanted.signalAll();
      queueRoom.signalAll();
    } finally {
      queueLock.unlock();
    }
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
