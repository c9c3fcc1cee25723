package io.ei4j.node;

import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The message queue of one {@link Mailbox}: a lock-free intake that senders append to,
 * selective receive under the lock, parking and waking of receivers, the queue limit
 * (drop-newest), and a receiver's reading of the connection its messages come through
 * ({@code CONCURRENCY.md}, "Mailboxes never block the connection" and "A waiting receiver
 * reads its connection itself"). It reaches a connection only through
 * {@link DispatchSource}.
 */
final class MailboxQueue {
  private static final Logger LOG = LoggerFactory.getLogger(Mailbox.class);

  /*
   * The queue is in two parts. Senders (the reader threads, local senders) append to the
   * intake, a lock-free linked list: they never take the lock and never wait for a
   * receiver. Receivers hold the lock, take the intake's oldest message and, when a
   * selective receive passes over it, keep it in `saved`; `saved` is always older than
   * the intake. A sender wakes a receiver only when one is parked: the first waiting
   * receiver parks without the lock and registers as `parked`, which a sender unparks
   * without the lock; further receivers waiting at the same time (rare: receive is meant for
   * one thread) wait on the condition `arrived` and are counted in `waiting`, and a sender
   * that sees them signals under the lock.
   */

  /** A message in the intake; the list's head is a sentinel whose successor is the oldest. */
  private static final class Cell {
    ErlTerm message; // written before the cell is published; cleared by the receiver that takes it
    volatile Cell next; // set once, by the sender that appended the next cell

    Cell(ErlTerm message) {
      this.message = message;
    }
  }

  private static final VarHandle TAIL;
  private static final VarHandle APPENDED;
  private static final VarHandle TAKEN;
  private static final VarHandle PARKED;
  private static final VarHandle NEXT;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      TAIL = l.findVarHandle(MailboxQueue.class, "tail", Cell.class);
      APPENDED = l.findVarHandle(MailboxQueue.class, "appended", long.class);
      TAKEN = l.findVarHandle(MailboxQueue.class, "taken", long.class);
      PARKED = l.findVarHandle(MailboxQueue.class, "parked", Thread.class);
      NEXT = l.findVarHandle(Cell.class, "next", Cell.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition arrived = lock.newCondition();
  private volatile Cell tail; // the newest cell; senders swap it
  private Cell head; // guarded by lock: the sentinel before the oldest intake message
  private final ArrayDeque<ErlTerm> saved = new ArrayDeque<>(); // guarded by lock
  private volatile long appended; // messages ever queued (both parts); senders add with APPENDED
  private long taken; // messages ever removed; written under lock with TAKEN (release), read by senders with TAKEN (acquire)
  private volatile Thread parked; // the receiver parked without the lock; set by it, cleared by whoever wakes it
  private volatile int waiting; // receivers waiting on `arrived`; written under lock only
  private volatile ExitException exit; // written under lock only
  private long removals; // guarded by lock: removals from `saved` move positions, so scans under way start over
  private volatile int maxQueueLength;
  private final AtomicLong dropped = new AtomicLong();
  /**
   * The connection the latest message from another node came through. A receiver that would
   * park reads it itself instead ({@link DispatchSource#dispatchUntil}), so that the next such
   * message needs no hand-off from the connection's reader thread.
   */
  private volatile DispatchSource source;
  /** The receiver reading {@link #readingOn} itself, woken through it by senders; else null. */
  private volatile Thread reading;
  /** The connection {@link #reading} reads; written before it. */
  private volatile DispatchSource readingOn;
  /**
   * Whether a receiver reading a connection should stop: the intake has a message or the
   * mailbox died. Reads {@code head} without the lock: only the receiver that reads moves it
   * (or another receiver, which only makes this answer true too early, never too late).
   */
  private final BooleanSupplier news = () -> head.next != null || exit != null;

  /** The mailbox this queue belongs to, for its pid and name in messages. */
  private final Mailbox owner;

  MailboxQueue(Mailbox owner, int maxQueueLength) {
    this.owner = owner;
    this.maxQueueLength = maxQueueLength;
    Cell sentinel = new Cell(null);
    this.head = sentinel;
    this.tail = sentinel;
  }

  /**
   * Selective receive: see {@link Mailbox#receive(Predicate, long)}.
   */
  ErlTerm receive(Predicate<? super ErlTerm> match, long timeoutMillis) throws ExitException, InterruptedException {
    long deadline = timeoutMillis < 0 ? Long.MAX_VALUE : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    lock.lockInterruptibly();
    try {
      int scanned = 0; // how many of `saved` this call has already tested
      long seenRemovals = removals;
      while (true) {
        ExitException x = exit;
        if (x != null) {
          throw new ExitException(x.from(), x.reason());
        }
        if (seenRemovals != removals) {
          scanned = 0;
          seenRemovals = removals;
        }
        // Messages passed over earlier come first; only those this call has not tested yet.
        if (scanned < saved.size()) {
          Iterator<ErlTerm> it = saved.iterator();
          for (int i = 0; it.hasNext(); i++) {
            ErlTerm m = it.next();
            if (i >= scanned && match.test(m)) {
              it.remove();
              removals++; // other receivers' positions in `saved` moved
              took(1);
              return m;
            }
          }
          scanned = saved.size();
        }
        for (ErlTerm m; (m = poll()) != null; ) {
          boolean matches;
          try {
            matches = match.test(m);
          } catch (RuntimeException | Error e) {
            saved.addLast(m); // the message stays queued, in order
            throw e;
          }
          if (matches) {
            took(1);
            return m;
          }
          saved.addLast(m);
          scanned++;
        }
        long left = deadline - System.nanoTime();
        if (timeoutMillis >= 0 && left <= 0) {
          return null;
        }
        // Senders read `reading`, `parked` and `waiting` after they publish a message, and
        // this thread looks at the intake again after setting one of them: either the sender
        // sees the waiter and wakes it, or this look finds the message.
        Thread me = Thread.currentThread();
        DispatchSource via = source;
        if (via != null && readSource(via, me, timeoutMillis < 0 ? -1 : (left + 999_999) / 1_000_000)) {
          if (Thread.interrupted()) {
            throw new InterruptedException("interrupted while receiving on " + owner.pid());
          }
          continue;
        }
        if (PARKED.compareAndSet(this, null, me)) {
          if (head.next != null || exit != null) {
            PARKED.compareAndSet(this, me, null);
            continue;
          }
          lock.unlock(); // senders never need the lock to wake this thread
          try {
            if (timeoutMillis < 0) {
              LockSupport.park(this);
            } else {
              LockSupport.parkNanos(this, left);
            }
          } finally {
            PARKED.compareAndSet(this, me, null);
            lock.lock();
          }
          if (Thread.interrupted()) {
            throw new InterruptedException("interrupted while receiving on " + owner.pid());
          }
          continue;
        }
        // Another receiver is parked: wait on the condition (it needs the lock to signal, so
        // it signals only once this thread is in await).
        waiting++;
        try {
          if (head.next == null && exit == null) {
            if (timeoutMillis < 0) {
              arrived.await();
            } else {
              arrived.awaitNanos(left);
            }
          }
        } finally {
          waiting--;
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Instead of parking: reads the connection the latest remote message came through on this
   * thread, dispatching every frame to its addressee, until this mailbox has a message, a
   * sender wakes this thread, or {@code timeoutMillis} (-1: for ever) runs out. Called
   * under the lock, which it lets go of while reading.
   *
   * @return false when this thread cannot read there (another thread does, or the
   *     connection cannot), so the caller parks instead
   */
  private boolean readSource(DispatchSource via, Thread me, long timeoutMillis) {
    readingOn = via;
    reading = me;
    try {
      if (news.getAsBoolean()) {
        return true;
      }
      lock.unlock(); // senders never need the lock, nor does the reading
      try {
        return via.dispatchUntil(news, timeoutMillis);
      } finally {
        lock.lock();
      }
    } finally {
      reading = null;
    }
  }

  /** Whether a receiver of this mailbox is reading a connection itself right now (for tests). */
  boolean readsConnection() {
    return reading != null;
  }

  /** The connection the latest message from another node came through, or null; see {@link #source}. */
  DispatchSource source() {
    return source;
  }

  /** Notes the connection a message from another node came through; see {@link #source}. */
  void source(DispatchSource s) {
    source = s;
  }

  /** The oldest message of the intake, removed; null when it is empty. Call under the lock. */
  private ErlTerm poll() {
    Cell n = head.next;
    if (n == null) {
      return null;
    }
    // The old sentinel is garbage now; unlinked, it keeps no younger cell alive should the
    // collector have promoted it (no sender writes its link again).
    NEXT.set(head, null);
    head = n;
    ErlTerm m = n.message;
    n.message = null; // the sentinel keeps no message alive
    return m;
  }

  /** Counts {@code n} messages removed from the queue. Call under the lock. */
  private void took(int n) {
    TAKEN.setRelease(this, taken + n);
  }

  /** Moves the whole intake to {@code saved}, so that it holds every queued message. Call under the lock. */
  private void drainIntake() {
    for (ErlTerm m; (m = poll()) != null; ) {
      saved.addLast(m);
    }
  }

  /**
   * How many messages wait in the queue.
   *
   * @return the queue's length
   */
  int queued() {
    lock.lock();
    try {
      drainIntake();
      return saved.size();
    } finally {
      lock.unlock();
    }
  }

  int maxQueueLength() {
    return maxQueueLength;
  }

  void maxQueueLength(int messages) {
    this.maxQueueLength = messages;
  }

  long droppedMessages() {
    return dropped.get();
  }

  /**
   * Queues a message, unless the queue is full (then it is dropped and counted). False when
   * it was dropped, or the mailbox is dead. Never takes the lock unless a receiver waits.
   */
  boolean deliver(ErlTerm message) {
    if (exit != null) {
      return false;
    }
    int max = maxQueueLength;
    if (max == Integer.MAX_VALUE) {
      APPENDED.getAndAdd(this, 1L);
    } else {
      // Reserve a place: `taken` only grows, so a length read here is never too small.
      long a;
      do {
        a = appended;
        if (a - (long) TAKEN.getAcquire(this) >= max) {
          long n = dropped.incrementAndGet();
          if (Long.bitCount(n) == 1) { // WARN at the 1st, 2nd, 4th, 8th, ... drop: visible, never a flood
            LOG.warn("{}{}: dropped a message, the queue is full (maxQueueLength {}); {} dropped so far",
                owner.pid(), owner.name() == null ? "" : " (" + owner.name() + ")", max, n);
          }
          return false;
        }
      } while (!APPENDED.compareAndSet(this, a, a + 1));
    }
    append(message);
    return true;
  }

  /**
   * Queues the message of an exit signal or a monitor ({@code 'EXIT'}, {@code 'DOWN'})
   * whatever the queue limit: one per link or monitor, so they cannot grow without bound,
   * and losing one would break the promise of links and monitors. False when the mailbox
   * is dead.
   */
  boolean deliverSignal(ErlTerm message) {
    if (exit != null) {
      return false;
    }
    APPENDED.getAndAdd(this, 1L);
    append(message);
    return true;
  }

  /**
   * Appends to the intake (any thread, lock-free) and wakes the receivers if one waits. A
   * message that lands just after the mailbox died stays unread: every receive throws from
   * then on.
   */
  private void append(ErlTerm message) {
    Cell c = new Cell(message);
    Cell prev = (Cell) TAIL.getAndSet(this, c);
    prev.next = c;
    wakeReading();
    wakeParked();
    if (waiting != 0) {
      lock.lock();
      try {
        arrived.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  /** The exit of a dead mailbox, or null while it lives. */
  ExitException exit() {
    return exit;
  }

  /**
   * Removes every queued message {@code which} selects (a flushing demonitor's
   * {@code 'DOWN'}); receives under way start their scan over.
   */
  void removeQueued(Predicate<? super ErlTerm> which) {
    lock.lock();
    try {
      drainIntake();
      int before = saved.size();
      if (saved.removeIf(which)) {
        removals++;
        took(before - saved.size());
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Marks the mailbox dead, drops its queue and wakes its receivers, unless it is dead
   * already; every receive throws from then on.
   *
   * @return true when this call killed it, false when it was dead already
   */
  boolean kill(ErlPid from, ErlTerm reason) {
    lock.lock();
    try {
      if (exit != null) {
        return false;
      }
      exit = new ExitException(from, reason);
      discardQueue();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Drops every queued message of a mailbox that just died and wakes its receivers. Call under the lock. */
  private void discardQueue() {
    drainIntake();
    took(saved.size());
    saved.clear();
    arrived.signalAll();
    wakeReading();
    wakeParked();
  }

  /**
   * Wakes the receiver that reads a connection itself, if any and if it is not the calling
   * thread (which looks at the intake after each frame it dispatches anyway).
   */
  private void wakeReading() {
    Thread r = reading;
    if (r != null && r != Thread.currentThread()) {
      DispatchSource c = readingOn;
      if (c != null) {
        c.wakeupDispatcher();
      }
    }
  }

  /** Unparks the receiver parked without the lock, if any; only one caller wakes it. */
  private void wakeParked() {
    Thread t = parked;
    if (t != null && PARKED.compareAndSet(this, t, null)) {
      LockSupport.unpark(t);
    }
  }

  /** The queued messages, oldest first (a snapshot, for diagnostics). */
  List<ErlTerm> snapshot() {
    lock.lock();
    try {
      drainIntake();
      return List.copyOf(saved);
    } finally {
      lock.unlock();
    }
  }
}
