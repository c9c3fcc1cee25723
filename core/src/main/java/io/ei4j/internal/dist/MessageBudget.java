package io.ei4j.internal.dist;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.connect.BudgetPolicy;
import java.io.InterruptedIOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * A node's budget for messages received but not yet consumed, in bytes, shared by every
 * connection of the node (a {@code Node} shares one among its transports). A connection
 * charges a frame when its length is known, before the body is allocated
 * ({@link FrameReader}); the charge moves with the decoded message into the queue that
 * holds it (an {@code EiConnection}'s receive queue, a mailbox) and is released when the
 * message is taken, or discarded (dropped, mailbox dead, connection down for its own queue).
 * Messages that never queue (ticks, {@code is_auth}, {@code rpc} replies, link and monitor
 * signals) are released as soon as they are dispatched.
 *
 * <p>What a message costs is an <em>estimate</em>: its frame bytes plus
 * {@link #PER_MESSAGE_OVERHEAD} for the decoded objects. Terms made of many small elements
 * (a list of small integers, say) take several times their encoded size on the heap, which
 * is why the default budget ({@link #defaultBytes()}) is a quarter of the heap, not more.
 *
 * <p>Every connection may hold {@link #CONNECTION_RESERVE} bytes of charges beyond the
 * node-wide total, so that a connection whose peer sends little (a fresh peer's ping, a
 * mailbox that consumes) goes on while a flood from another connection holds the budget.
 * These reserves draw on one allowance of an eighth of the budget, so the memory bound is
 * the budget plus an eighth, however many connections there are (a peer that reconnects to
 * get a fresh reserve each time, while its messages stay queued, exhausts the allowance and
 * then waits like everyone else).
 *
 * <p>Thread-safe: charges and releases are atomic additions; only a connection that waits
 * ({@link BudgetPolicy#PAUSE}) takes the lock.
 */
public final class MessageBudget {
  /**
   * The estimated heap cost of one decoded message beyond its frame bytes: the control
   * tuple, the message record and the queue cell holding it.
   */
  public static final long PER_MESSAGE_OVERHEAD = 256;
  /** What one connection may always hold, whatever the node-wide total: see the class comment. */
  public static final long CONNECTION_RESERVE = 64 << 10;
  /** The default budget's share of the heap ({@link Runtime#maxMemory()}): a quarter. */
  public static final int DEFAULT_HEAP_DIVISOR = 4;
  /** A waiting reader looks at the budget at least this often, should a release not signal it. */
  private static final long WAIT_SLICE_MILLIS = 250;

  private final long limit;
  /** How far the connections' reserves may take the total beyond {@link #limit}. */
  private final long overdraft;
  private final BudgetPolicy policy;
  private final AtomicLong used = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition released = lock.newCondition();
  /** Readers waiting for room; releases signal only while there are some. */
  private volatile int waiters;
  /** Releases signal once the total is at or below this (the easiest waiter's threshold). */
  private volatile long wakeAt = -1;

  /**
   * @param limitBytes the budget; at least 1 MiB
   * @param policy what a connection does when a frame does not fit
   */
  public MessageBudget(long limitBytes, BudgetPolicy policy) {
    if (limitBytes < (1 << 20)) {
      throw new IllegalArgumentException("receiveBudgetBytes must be at least 1 MiB, got " + limitBytes);
    }
    this.limit = limitBytes;
    this.overdraft = Math.max(CONNECTION_RESERVE, limitBytes / 8);
    this.policy = java.util.Objects.requireNonNull(policy, "policy");
  }

  /**
   * The default budget: a quarter of the heap the JVM may use. The rest is left for the
   * decoded objects' expansion beyond the estimate, for the application's own data and for
   * the collector's working room; a quarter keeps a node that never consumes well clear of
   * {@link OutOfMemoryError} (measured: a 256 MiB heap flooded with 1 KiB messages).
   */
  public static long defaultBytes() {
    return Math.max(1 << 20, Runtime.getRuntime().maxMemory() / DEFAULT_HEAP_DIVISOR);
  }

  /** The budget in bytes. */
  public long limitBytes() {
    return limit;
  }

  public BudgetPolicy policy() {
    return policy;
  }

  /** Bytes charged now (received, not yet consumed). */
  public long usedBytes() {
    return used.get();
  }

  /** Messages dropped under {@link BudgetPolicy#DROP}, node-wide. */
  public long droppedMessages() {
    return dropped.get();
  }

  void countDrop() {
    dropped.incrementAndGet();
  }

  /** A new connection's account in this budget. */
  public Account account() {
    return new Account();
  }

  /** One connection's charges, for {@link #CONNECTION_RESERVE}. */
  public final class Account {
    private final AtomicLong held = new AtomicLong();
    /** Set by {@link #wakeup()}, consumed by a wakeable {@link #await}. */
    private volatile boolean woken;
    /** Whether this connection waits in {@link #await} now. */
    private volatile boolean waiting;

    private Account() {}

    /** The budget this account charges. */
    public MessageBudget budget() {
      return MessageBudget.this;
    }

    /** Bytes this connection's messages hold now. */
    public long heldBytes() {
      return held.get();
    }

    /**
     * Charges {@code bytes} when they fit: the node-wide total stays within the budget, or
     * this connection stays within its {@link #CONNECTION_RESERVE} and the total within the
     * budget plus its allowance for reserves (an eighth).
     */
    public boolean tryCharge(long bytes) {
      while (true) {
        long u = used.get();
        if (u + bytes > limit && (held.get() + bytes > CONNECTION_RESERVE || u + bytes > limit + overdraft)) {
          return false;
        }
        if (used.compareAndSet(u, u + bytes)) {
          held.addAndGet(bytes);
          return true;
        }
      }
    }

    /** Gives back {@code bytes} charged through this account; wakes waiting readers if room was made. */
    public void release(long bytes) {
      if (bytes <= 0) {
        return;
      }
      held.addAndGet(-bytes);
      long u = used.addAndGet(-bytes);
      if (waiters > 0 && u <= wakeAt) {
        lock.lock();
        try {
          released.signalAll();
        } finally {
          lock.unlock();
        }
      }
    }

    /**
     * Waits until {@code bytes} can be charged, and charges them. Waits until the total
     * has fallen to where the frame fits with an eighth of the budget to spare, so that a
     * consumer taking one message at a time does not wake the reader for each.
     *
     * @param wakeable whether {@link #wakeup()} ends the wait early
     * @param down whether the connection went down: then the wait ends without a charge
     * @return true when charged, false when the connection went down
     * @throws ErrnoException {@link Errno#ETIMEDOUT} when the deadline passed or, if
     *     {@code wakeable}, the wait was woken up; nothing was charged
     * @throws InterruptedIOException when the thread is interrupted (its status set again)
     */
    public boolean await(long bytes, Deadline deadline, boolean wakeable, BooleanSupplier down, String what)
        throws ErrnoException, InterruptedIOException {
      long threshold = Math.max(0, Math.min(limit - bytes, limit - limit / 8));
      lock.lock();
      waiters++;
      waiting = true;
      try {
        while (true) {
          if (wakeAt < threshold) {
            wakeAt = threshold;
          }
          if (tryCharge(bytes)) {
            return true;
          }
          if (down.getAsBoolean()) {
            return false;
          }
          if (wakeable && woken) {
            woken = false;
            throw new ErrnoException(Errno.ETIMEDOUT, what + ": woken up");
          }
          if (deadline.expired() || (!deadline.isInfinite() && deadline.timeoutMillis() == 0)) {
            throw new ErrnoException(Errno.ETIMEDOUT, what + ": the receive budget (" + limit + " bytes) stayed full for "
                + deadline.timeoutMillis() + " ms");
          }
          long slice = deadline.isInfinite() ? WAIT_SLICE_MILLIS : Math.min(WAIT_SLICE_MILLIS, deadline.remainingMillis());
          try {
            released.await(Math.max(1, slice), TimeUnit.MILLISECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(what + ": interrupted while the receive budget was full");
          }
        }
      } finally {
        waiting = false;
        if (--waiters == 0) {
          wakeAt = -1;
        }
        lock.unlock();
      }
    }

    /** Whether this connection waits for room in {@link #await} now (its tests look). */
    boolean paused() {
      return waiting;
    }

    /**
     * Makes a wakeable {@link #await} of this connection (under way, or the next one) end
     * early; cheap when none waits.
     */
    public void wakeup() {
      woken = true;
      if (waiting) {
        lock.lock();
        try {
          released.signalAll();
        } finally {
          lock.unlock();
        }
      }
    }

    /** Wakes a wait of this connection so that it sees the connection went down. */
    public void onDown() {
      lock.lock();
      try {
        released.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  @Override
  public String toString() {
    return "MessageBudget[" + used.get() + " of " + limit + " bytes, " + policy + "]";
  }
}
