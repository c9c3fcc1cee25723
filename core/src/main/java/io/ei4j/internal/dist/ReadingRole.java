package io.ei4j.internal.dist;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiConnectionHandler;
import io.ei4j.connect.EiConnectionLostException;
import io.ei4j.connect.EiMessage;
import io.ei4j.term.TermDecoder;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import io.ei4j.internal.node.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who reads a connection's socket: the reading role (see {@code connect/CONNECTIONS.md},
 * "Who reads the socket"), the queue for {@link EiConnection#receive} and the connection's
 * reader thread. One thread at a time holds the role; it reads frames with the
 * {@link FrameReader}, routes them with the {@link Dispatcher} and queues what is left for
 * {@code receive}. This class owns the inbox lock, which guards the queue and the role; it
 * is never held while reading or dispatching.
 *
 * <p>The layer that installed an {@link EiConnectionHandler} reaches {@link #dispatchUntil}
 * and {@link #wakeupDispatcher} through {@link ConnectionInternals}, not through public API
 * of {@link EiConnection}.
 */
public final class ReadingRole {
  /** The connection's log, where this part's messages have always gone. */
  private static final Logger LOG = LoggerFactory.getLogger(EiConnection.class);
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
  /** Messages dropped because the queue for {@link #receive} was full, per peer, at most a line a minute each. */
  private static final RateLimitedLog QUEUE_DROPS = RateLimitedLog.perMinute(LOG, "dropped", "message");

  /** A message in the queue for {@link #receive} with its charge to the receive budget. */
  private record Queued(EiMessage message, long charge) {}

  private final SocketIo<?> io;
  private final Liveness liveness;
  private final FrameReader reader;
  private final Dispatcher dispatcher;
  private final String nodeName;
  private final String peerName;
  private final boolean hasHandler;
  private final int maxQueueLength;
  private final long tickTimeMillis;
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
  /** Whether the transport can wake a read up, which {@link #dispatchUntil} needs. */
  private final boolean wakeableReads;
  /**
   * A thread that found the role taken in {@link #dispatchUntil}: the reader thread lets go
   * of the role for it after the next frame and unparks it.
   */
  private final AtomicReference<Thread> roleRequester = new AtomicReference<>();
  /** {@link #HANDBACK_MILLIS}, at most a sixteenth of the tick time, in nanoseconds. */
  private final long handbackNanos;
  private final AtomicLong dropped = new AtomicLong();
  private final Thread readerThread;
  /** This connection's account in the node's receive budget. */
  private final MessageBudget.Account account;
  /**
   * The charge of the message being dispatched, until the handler claims it
   * ({@link #claimCharge()}) or it is queued; released after dispatch otherwise. Only the
   * holder of the reading role touches it.
   */
  private long dispatching;
  /** Whether the charges of the queue were given back (the connection is down); guarded by the inbox lock. */
  private boolean chargesReleased;

  /**
   * @param hasHandler whether messages go to an {@link EiConnectionHandler} (through the
   *     dispatcher) instead of the queue for {@link #receive}
   * @param maxQueueLength the bound of the queue for {@link #receive}
   * @param readerName the name of the reader thread
   */
  public ReadingRole(SocketIo<?> io, Liveness liveness, FrameReader reader, Dispatcher dispatcher, String nodeName,
      String peerName, boolean hasHandler, int maxQueueLength, long tickTimeMillis, String readerName) {
    this.io = io;
    this.liveness = liveness;
    this.reader = reader;
    this.dispatcher = dispatcher;
    this.nodeName = nodeName;
    this.peerName = peerName;
    this.hasHandler = hasHandler;
    this.maxQueueLength = maxQueueLength;
    this.tickTimeMillis = tickTimeMillis;
    this.handbackNanos = Math.max(1, Math.min(HANDBACK_MILLIS, tickTimeMillis / 16)) * 1_000_000L;
    this.wakeableReads = io.canWakeupReads();
    this.roleReleasedNanos = System.nanoTime() - handbackNanos; // the reader thread starts with the role
    this.account = reader.account();
    this.readerThread = new Thread(liveness.guarded(this::readLoop), readerName);
    this.readerThread.setDaemon(true);
  }

  /** Starts the reader thread, which holds the role from the start. */
  public void start() {
    readerThread.start();
  }

  /**
   * How many messages arrived while the queue of {@link #receive} was full and were dropped.
   */
  public long droppedMessages() {
    return dropped.get();
  }

  /**
   * Called once the connection is down: the failure goes to the end of the queue, after the
   * messages that arrived before, and every waiter wakes up.
   */
  public void onDown(EiConnectionLostException why) {
    long charged = 0;
    inboxLock.lock();
    try {
      // The queued messages stay receivable but no longer count against the budget: the
      // connection is gone, and its queue with it once its owner lets go of it.
      if (!chargesReleased) {
        chargesReleased = true;
        for (Object o : inbox) {
          if (o instanceof Queued q) {
            charged += q.charge();
          }
        }
      }
      inbox.add(why);
      inboxChanged.signalAll();
      roleWanted.signalAll();
    } finally {
      inboxLock.unlock();
    }
    account.release(charged);
    reader.releaseOnDown();
  }

  /**
   * For the handler, on the thread that dispatches a message to it: takes over the
   * message's charge to the receive budget, which the taker must release (through
   * {@link #budgetAccount()}) once the message is consumed or discarded. 0 when called
   * again, or outside a dispatch.
   */
  public long claimCharge() {
    long c = dispatching;
    dispatching = 0;
    return c;
  }

  /** This connection's account in the node's receive budget, to release claimed charges with. */
  public MessageBudget.Account budgetAccount() {
    return account;
  }

  /** Takes a message out of a {@link Queued}, giving back its charge. Call under the inbox lock. */
  private EiMessage unqueue(Queued q) {
    if (!chargesReleased) {
      account.release(q.charge());
    }
    return q.message();
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
      EiMessage queued = queuedOrRole(deadline, timeoutMillis);
      if (queued != null) {
        return queued;
      }
      // This thread holds the reading role: read until something is queued.
      try {
        readUntil(deadline, untilQueued);
      } catch (ErrnoException e) {
        if (!e.isTimeout()) {
          throw e;
        }
        Object o = pollAfterTimeout();
        if (o == null) {
          throw receiveTimeout(timeoutMillis);
        }
        if (o instanceof EiConnectionLostException lost) {
          throw Liveness.copy(lost);
        }
        return (EiMessage) o;
      } finally {
        releaseRole();
      }
    }
  }

  /**
   * As {@link #receive}, for a raw receive: a message the caller reads from the socket
   * itself has its payload left undecoded in {@code into}, and is returned with a null
   * message; signals, and messages that were queued decoded before (read by the reader
   * thread while nobody received), are returned as {@link #receive} returns them. Messages
   * come in the order they arrived either way.
   *
   * @param decoder decodes the payloads of raw messages that turn out to be a reply to an
   *     {@code rpc} or for {@code net_kernel}
   * @throws IllegalStateException when messages go to a handler, which no receive sees
   */
  public EiMessage receiveRaw(RawPayload into, TermDecoder decoder, long timeoutMillis) throws IOException {
    if (hasHandler) {
      throw new IllegalStateException("messages from " + peerName + " go to the connection handler, not to receive");
    }
    Deadline deadline = Deadline.after(timeoutMillis);
    FrameStep<EiMessage> untilMessage = slice -> readRawFrame(into, decoder, slice);
    while (true) {
      EiMessage queued = queuedOrRole(deadline, timeoutMillis);
      if (queued != null) {
        return queued;
      }
      // This thread holds the reading role, and nothing is queued: read until a message
      // comes, and return it instead of queueing it (only the holder of the role queues).
      try {
        EiMessage m = readUntil(deadline, untilMessage);
        if (m != null) {
          return m;
        }
        // Down: the loop finds the failure queued.
      } catch (ErrnoException e) {
        if (!e.isTimeout()) {
          throw e;
        }
        throw receiveTimeout(timeoutMillis);
      } finally {
        releaseRole();
      }
    }
  }

  /**
   * The next queued message (or the failure, thrown, once the connection is down and
   * everything before it was received); or null once this thread has taken the reading
   * role, with nothing queued. Waits while another thread reads.
   */
  private EiMessage queuedOrRole(Deadline deadline, long timeoutMillis) throws IOException {
    inboxLock.lock();
    try {
      while (true) {
        Object o = inbox.poll();
        if (o != null) {
          if (o instanceof EiConnectionLostException lost) {
            inbox.addFirst(lost);
            throw Liveness.copy(lost);
          }
          return unqueue((Queued) o);
        }
        if (!readRole && !hasHandler) {
          readRole = true;
          return null;
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
  }

  /**
   * Reads one frame for a raw receive and routes it.
   *
   * @return the message for the receiver, or null when there was none (a tick, a fragment,
   *     a signal or reply handled here)
   */
  private EiMessage readRawFrame(RawPayload into, TermDecoder decoder, Deadline deadline) throws IOException {
    DistFrameDecoder.Message frame = reader.read(deadline, false, into);
    if (frame == null) {
      return null;
    }
    // The message is the receiver's at once, its payload in a buffer the receiver reuses:
    // nothing of it stays held, so its charge is given back now.
    dispatching = reader.takeCharge();
    try {
      return frame.raw() != null
          ? dispatcher.dispatchRaw(frame.control(), frame.raw(), into, decoder)
          : dispatcher.dispatch(frame.control(), frame.payload());
    } finally {
      account.release(claimCharge());
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
      return o instanceof Queued q ? unqueue(q) : o;
    } finally {
      inboxLock.unlock();
    }
  }

  /** One frame read and routed by the holder of the reading role: what it gives the caller, or null. */
  @FunctionalInterface
  private interface FrameStep<T> {
    T read(Deadline slice) throws IOException;
  }

  /** {@link #readFrame} for {@link #receive}: non-null once something was queued. */
  private final FrameStep<Boolean> untilQueued = slice -> readFrame(slice, false) ? Boolean.TRUE : null;

  /**
   * Holding the reading role: reads and routes frames until {@code step} gives something
   * (for {@link #receive}, once the inbox holds a message). Reads wait in slices of
   * {@link #READ_SLICE_MILLIS} so an interrupt is noticed; a read cut short by the deadline
   * or an interrupt leaves the read state intact for the next holder.
   *
   * @return what {@code step} gave, or null once the connection is down (its failure is
   *     queued then)
   * @throws ErrnoException {@link Errno#ETIMEDOUT} when the deadline passed first
   * @throws InterruptedIOException when the thread was interrupted (status set again)
   */
  private <T> T readUntil(Deadline deadline, FrameStep<T> step) throws IOException {
    while (true) {
      if (liveness.failure() != null) {
        return null;
      }
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while receiving from " + peerName);
      }
      boolean sliced = deadline.isInfinite() || deadline.remainingMillis() > READ_SLICE_MILLIS;
      // A frame already in the buffer needs no read, so no slice (and no clock read) for it.
      Deadline slice = sliced && !reader.frameBuffered() ? Deadline.after(READ_SLICE_MILLIS) : deadline;
      try {
        T r = step.read(slice);
        if (r != null) {
          return r;
        }
      } catch (ErrnoException e) {
        if (e.isTimeout() && liveness.failure() == null) {
          if (sliced) {
            continue; // a slice ran out, not the caller's deadline
          }
          throw e;
        }
        failRead(e);
      } catch (InterruptedIOException e) {
        if (Thread.currentThread().isInterrupted() && liveness.failure() == null) {
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
    if (!hasHandler || !wakeableReads || liveness.failure() != null) {
      return false;
    }
    inboxLock.lock();
    try {
      if (readRole) {
        if (readerHoldsRole) {
          roleRequester.set(Thread.currentThread());
          io.wakeupRead(); // the reader thread lets go of the role at once if it reads
          account.wakeup(); // or waits for the receive budget
        }
        return false;
      }
      readRole = true;
    } finally {
      inboxLock.unlock();
    }
    try {
      Deadline deadline = Deadline.after(timeoutMillis);
      while (liveness.failure() == null && !done.getAsBoolean() && !deadline.expired()
          && !Thread.currentThread().isInterrupted()) {
        boolean sliced = deadline.isInfinite() || deadline.remainingMillis() > READ_SLICE_MILLIS;
        try {
          readFrame(sliced && !reader.frameBuffered() ? Deadline.after(READ_SLICE_MILLIS) : deadline, true);
        } catch (ErrnoException e) {
          if (!e.isTimeout() || liveness.failure() != null) {
            failRead(e);
          }
          // A timeout: a slice or the deadline ran out, or a wakeup; the loop looks again.
        } catch (InterruptedIOException e) {
          if (!Thread.currentThread().isInterrupted() || liveness.failure() != null) {
            failRead(e);
          }
        } catch (IOException | RuntimeException e) {
          failRead(e);
        }
      }
      // What has already arrived is dispatched now, without another read or a wait for the budget.
      try {
        while (liveness.failure() == null && reader.frameBuffered()) {
          readFrame(Deadline.after(0), false);
        }
      } catch (ErrnoException e) {
        if (!e.isTimeout() || liveness.failure() != null) {
          failRead(e);
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
      account.wakeup();
    }
  }

  /**
   * The reader thread. It holds the reading role while no receiver does: from the start,
   * and again whenever the role has been free for {@link #handbackNanos} (a receiver that
   * stopped calling {@link #receive}) or an {@code rpc} waits for its reply. It hands the
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
          while (liveness.failure() == null) {
            boolean queued;
            try {
              queued = readFrame(never, hasHandler);
            } catch (ErrnoException e) {
              if (!e.isTimeout() || !hasHandler) {
                throw e;
              }
              queued = false; // woken up: a thread in dispatchUntil may want the role
            }
            if (!hasHandler) {
              if (queued && hasWaitingReceivers()) {
                break; // hand the role to the receiver
              }
            } else if (roleRequester.get() != null && !reader.frameBuffered()
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
      while (liveness.failure() == null) {
        if (!readRole && (dispatcher.awaitsReplies() || waitingReceivers == 0)) {
          long idle = System.nanoTime() - roleReleasedNanos;
          if (dispatcher.awaitsReplies() || idle >= handbackNanos) {
            readRole = true;
            readerHoldsRole = true;
            return true;
          }
          readerWaitsLong = false;
          roleWanted.awaitNanos(handbackNanos - idle);
        } else {
          readerWaitsLong = hasHandler && backoff > handbackNanos;
          roleWanted.awaitNanos(backoff);
          backoff = Math.min(2 * backoff, maxBackoff);
        }
      }
      readerWaitsLong = false;
      return false;
    } catch (InterruptedException e) {
      // Nobody interrupts the reader thread but close(); the connection goes down.
      liveness.fail(new EiConnectionLostException("the reader of " + peerName + " was interrupted", e));
      return false;
    } finally {
      inboxLock.unlock();
    }
  }

  /** Tells the reader thread to take the reading role now if it is free. */
  public void wakeBackgroundReader() {
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
      liveness.fail(new EiConnectionLostException(peerName + " closed the connection", eof));
    } else if (e instanceof EiConnectionLostException lost) {
      liveness.fail(lost);
    } else {
      liveness.fail(new EiConnectionLostException("reading from " + peerName + " failed: " + e.getMessage(), e));
    }
  }

  /**
   * Holding the reading role: reads one frame and routes it.
   *
   * @return whether a message was queued for {@link #receive}
   */
  private boolean readFrame(Deadline deadline, boolean wakeable) throws IOException {
    DistFrameDecoder.Message frame = reader.read(deadline, wakeable);
    if (frame == null) {
      return false;
    }
    dispatching = reader.takeCharge();
    try {
      EiMessage m = dispatcher.dispatch(frame.control(), frame.payload());
      return m != null && offer(m);
    } finally {
      // What nobody queued or claimed (a signal, a protocol answer, a dropped message) is free again.
      account.release(claimCharge());
    }
  }

  /**
   * Queues {@code m} for {@link #receive}, with the charge being dispatched; drops and counts
   * it when the queue is full.
   */
  private boolean offer(EiMessage m) {
    inboxLock.lock();
    try {
      if (inbox.size() < maxQueueLength) {
        long charge = claimCharge();
        if (chargesReleased) {
          account.release(charge); // down already: the queue no longer counts
          charge = 0;
        }
        inbox.add(new Queued(m, charge)); // only the holder of the reading role adds messages: the bound holds
        if (waitingReceivers > 0) {
          inboxChanged.signal();
        }
        return true;
      }
    } finally {
      inboxLock.unlock();
    }
    long n = dropped.incrementAndGet();
    QUEUE_DROPS.record(peerName, nodeName + "'s queue for receive holds maxQueueLength (" + maxQueueLength + ") messages; "
        + n + " dropped on this connection so far");
    return false;
  }
}
