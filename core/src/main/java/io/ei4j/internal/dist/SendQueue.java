package io.ei4j.internal.dist;

import io.ei4j.api.ByteBuffers;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.EiConnectionLostException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The writing side of a connection: the write lock, the bounded send queue in front of it
 * and the flusher thread that writes the queue while the socket is busy (see
 * {@code connect/CONNECTIONS.md}, Writing). Frames come from the connection's
 * {@link FrameWriter}; this class owns the write lock and the queue lock, and takes the
 * queue lock only briefly, never while waiting for the socket.
 *
 * <p>A write failure takes the connection down through its {@link Liveness}; the
 * connection then calls {@link #onDown()}.
 */
public final class SendQueue implements FrameWriter.Sink {
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
  static final int QUEUE_FRAME_BYTES = 64 << 10;
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
  private static final ByteBuffer[] NO_BUFFERS = new ByteBuffer[0];
  /** A deadline that has run out: a single attempt that does not wait. */
  private static final Deadline NOW = Deadline.after(0);
  private static final Deadline FOREVER = Deadline.after(SocketCallbacks.INFINITE);

  private final SocketIo<?> io;
  private final Liveness liveness;
  private final String peerName;
  /** What the socket calls are doing, for their error messages: built once, not per frame. */
  private final String sendingWhat;
  private final String flusherName;
  private final long tickTimeMillis;
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
   * Set by {@link #stopAccepting} before the connection writes what is queued: from then on
   * sends fail with it, so that nothing is accepted after the last write. Written under the
   * queue lock.
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
  /**
   * The arrays {@link #gather} returns, by length, kept so that a write of the backlog
   * allocates none; emptied by {@link #keepRest} after the write. Write lock only.
   */
  private final ByteBuffer[][] gathered = new ByteBuffer[8][];
  /** Views of the last two queue arrays taken for writing (see {@link #view}); write lock only. */
  private ByteBuffer queueView;
  private ByteBuffer spareView;
  /** How many buffers of the last {@link #gather} were backlog (carry, taken queue); write lock only. */
  private int backlogBuffers;
  private final ByteBuffer tick = ByteBuffer.allocate(4);
  private volatile long lastWriteNanos;

  /**
   * @param flusherName the name of the flusher thread, if one is ever started
   * @param tickTimeMillis the connection's tick time: a tick waits at most a quarter of it
   */
  public SendQueue(SocketIo<?> io, Liveness liveness, String peerName, String flusherName, long tickTimeMillis) {
    this.io = io;
    this.liveness = liveness;
    this.peerName = peerName;
    this.sendingWhat = "sending to " + peerName;
    this.flusherName = flusherName;
    this.tickTimeMillis = tickTimeMillis;
    this.lastWriteNanos = System.nanoTime();
  }

  /** When a write last ended (or the queue was made), for the ticker. */
  public long lastWriteNanos() {
    return lastWriteNanos;
  }

  /**
   * One fragment of a large message, written by its sender under the write lock on its own,
   * so that ticks and other threads' frames pass between fragments. A timeout before the
   * first fragment leaves the connection intact; once a fragment is out, the peer holds a
   * partial message that nothing can complete or cancel, so a failure or timeout on a later
   * fragment ends the connection.
   */
  @Override
  public void fragment(ByteBuffer[] bufs, long index, long count, Deadline deadline) throws IOException {
    try {
      lock(deadline);
      try {
        writeBatch(bufs, deadline);
      } finally {
        unlockAndFlush();
      }
    } catch (IOException e) {
      if (index > 0) {
        liveness.fail(new EiConnectionLostException("sending a fragmented message to " + peerName + " failed after "
            + index + " of " + count + " fragments: " + e.getMessage(), e));
      }
      throw e;
    }
  }

  /**
   * The first step of closing: from now on sends fail with {@code why}, so that nothing is
   * accepted after the last write.
   */
  public void stopAccepting(EiConnectionLostException why) {
    queueLock.lock();
    try {
      if (closing == null) {
        closing = why;
      }
    } finally {
      queueLock.unlock();
    }
  }

  /**
   * The second step of closing: writes what sends accepted, waiting for the write lock and
   * the socket until {@code deadline}.
   */
  public void flushAccepted(Deadline deadline) throws IOException {
    lock(deadline);
    try {
      while (liveness.failure() == null && (carry != null || queuedBytes > 0)) {
        writeBatch(null, deadline);
      }
      io.flushTransport(deadline, sendingWhat);
    } finally {
      writeLock.unlock();
    }
  }

  /** Bytes of frames in the send queue, not yet taken for writing (see {@link #frame}). */
  public int queuedBytes() {
    queueLock.lock();
    try {
      return queuedBytes;
    } finally {
      queueLock.unlock();
    }
  }

  /**
   * Called once the connection is down: frames still queued go down with it, and every
   * sender and the flusher waiting here wake up; senders learn it from their next call.
   */
  public void onDown() {
    queueLock.lock();
    try {
      queued = null;
      queuedBytes = 0;
      flushWanted.signalAll();
      queueRoom.signalAll();
    } finally {
      queueLock.unlock();
    }
  }

  void lock(Deadline deadline) throws IOException {
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
  public boolean writerIdle() {
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
  @Override
  public void frame(ByteBuffer[] bufs, Deadline deadline) throws IOException {
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
        EiConnectionLostException down = liveness.failure();
        if (down == null) {
          down = closing;
        }
        if (down != null) {
          throw Liveness.copy(down);
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
          taken = view(queued, queuedBytes);
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
    ByteBuffer[] all;
    if (n < gathered.length) {
      all = gathered[n];
      if (all == null) {
        all = gathered[n] = new ByteBuffer[n];
      }
    } else {
      all = new ByteBuffer[n];
    }
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
    if (all.length < gathered.length && gathered[all.length] == all) {
      Arrays.fill(all, null); // do not keep a sender's buffers (or its binaries) until the next write
    }
  }

  /**
   * Under the write lock: a view of bytes {@code 0..len-1} of {@code array} (the send
   * queue, or its spare), kept for the next time that array is taken; a new view only
   * when the queue has grown into a new array.
   */
  private ByteBuffer view(byte[] array, int len) {
    ByteBuffer v;
    if (queueView != null && queueView.array() == array) {
      v = queueView;
    } else if (spareView != null && spareView.array() == array) {
      v = spareView;
    } else {
      v = ByteBuffer.wrap(array);
    }
    spareView = queueView == v ? spareView : queueView;
    queueView = v;
    v.clear().limit(len);
    return v;
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
      liveness.fail(new EiConnectionLostException("writing to " + peerName + " failed: " + e.getMessage(), e));
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
      throw Liveness.copy(shut);
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
        liveness.fail(new EiConnectionLostException("writing to " + peerName + " failed: " + e.getMessage(), e));
      }
      throw e;
    }
  }

  /** Under the write lock: the socket is busy; wakes the flusher thread, starting it the first time. */
  private void startFlushing() {
    queueLock.lock();
    try {
      if (flushing || liveness.failure() != null) {
        return;
      }
      flushing = true;
      if (flusher == null) {
        flusher = new Thread(liveness.guarded(this::flushLoop), flusherName);
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
        while (!flushing && liveness.failure() == null) {
          flushWanted.awaitUninterruptibly();
        }
        if (liveness.failure() != null) {
          return;
        }
      } finally {
        queueLock.unlock();
      }
      writeLock.lock();
      try {
        drain();
      } catch (IOException | RuntimeException e) {
        liveness.fail(new EiConnectionLostException("writing queued frames to " + peerName + " failed: " + e.getMessage(), e));
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
    while (queuedBytes > 0 && !flushing && liveness.failure() == null && writeLock.tryLock()) {
      try {
        writeSome();
      } catch (IOException e) {
        // The connection is down; the next call reports it.
      } finally {
        writeLock.unlock();
      }
    }
  }

  /**
   * Sends an empty frame unless a send is under way (which keeps the peer informed anyway);
   * waits for the socket at most a quarter tick time.
   */
  public void sendTick() {
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
}
