package io.ei4j.connect;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed number of slots for incoming handshakes (sockets from
 * {@link EiListener#acceptSocket(long)} whose {@link EiListener.Incoming#handshake(long)}
 * runs on a thread of the server's), shared by any number of listeners, that never locks
 * an honest peer out.
 *
 * <p>An Erlang node gives every accepted socket a process of its own with a handshake
 * timer ({@code net_setuptime}) and has no limit, so no number of silent sockets keeps
 * anyone out. A Java server pays a thread per pending handshake and must bound them;
 * refusing newcomers while the slots are full would let anybody who can connect hold every
 * slot for as long as they like by reopening silent sockets. Instead, when every slot is
 * taken, {@link #admit} evicts the pending handshake that is least likely to be an honest
 * peer and gives its slot to the newcomer:
 *
 * <ol>
 *   <li>one from the source ({@link EiListener.Incoming#source()}, the IP address) that
 *       holds the most slots, so that one host cannot crowd out others;
 *   <li>among those, the one that has received the fewest whole handshake messages
 *       ({@link EiListener.Incoming#messagesReceived()}): an honest initiator sends its
 *       name at once, so a socket that has not (silent, or dripping bytes) has done
 *       nothing; bytes do not count, since a partial message costs nothing to send;
 *   <li>among those, the one whose last message (or accept) is oldest.
 * </ol>
 *
 * <p>The evicted handshake is <em>parked</em> when its transport can wake a waiting read
 * (TCP can): its thread gives up the handshake, but its socket stays open, without a thread,
 * until {@code parkMillis} after its accept, when {@link #reap()} (or any later
 * {@link #admit}) closes it. Closing it at once would be worse: an attacker reconnects at
 * once, every reconnect evicts another, and the listening socket's accept queue stays full
 * of them, so the kernel drops an honest peer's connection requests (which TCP retries
 * only after a second and more). Parked, a silent socket costs a descriptor and sees what
 * it would see on an Erlang node (nothing, until the handshake timer runs out), so it has
 * no reason to reconnect sooner. At most {@code maxParked} sockets are parked; beyond that
 * the oldest is closed, and the churn described above resumes only for an attacker with
 * more than {@code max + maxParked} sockets open at once. A transport that cannot wake a
 * read has its evicted handshakes closed ({@link EiListener.Incoming#evict()}).
 *
 * <p>An honest peer's handshake takes one round trip after its name arrives, so to evict it
 * an attacker on the same address must push more than {@code max} newer sockets each past
 * a whole name message within that round trip; one on other addresses needs more distinct
 * addresses than the honest peer's has slots. The victim's slot is handed over only once
 * its handshake thread has called {@link #release}, so at most {@code max} handshakes
 * (threads) ever run: {@link #admit} waits up to its {@code waitMillis} for that (a
 * transport whose close wakes a blocked read at once takes microseconds).
 *
 * <p>Thread-safe. Every admitted socket must be {@link #release}d exactly once, when its
 * handshake has ended in any way (or when it is closed without one).
 */
public final class HandshakeSlots {
  /**
   * The outcome of {@link #admit}: whether the newcomer was admitted, whom it evicted (null
   * for nobody), whether that one was parked (else closed), and how many parked sockets
   * were closed early to stay within {@code maxParked}.
   */
  public record Admission(boolean admitted, EiListener.Incoming evicted, boolean parked, int parkOverflow) {}

  /** A parked socket and when it is closed. */
  private record Parked(EiListener.Incoming in, long closeAtNanos) {}

  private final int max;
  private final int maxParked;
  private final long parkNanos;
  /** Parked sockets, oldest first. Guarded by {@code lock}. */
  private final Deque<Parked> parked = new ArrayDeque<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition released = lock.newCondition();
  /** Admitted sockets, oldest first. Guarded by {@code lock}. */
  private final Set<EiListener.Incoming> pending = new LinkedHashSet<>();
  /** Admitted sockets per source. Guarded by {@code lock}. */
  private final Map<String, Integer> perSource = new HashMap<>();
  /** Admitted sockets evicted whose release has not come yet. Guarded by {@code lock}. */
  private int evicting;

  /**
   * @param max how many handshakes may run at once, at least 1
   * @param maxParked how many evicted sockets may stay open without a thread, at least 0
   * @param parkMillis how long after its accept a parked socket is closed: the handshake
   *     timeout
   */
  public HandshakeSlots(int max, int maxParked, long parkMillis) {
    if (max < 1) {
      throw new IllegalArgumentException("a handshake needs at least 1 slot, got " + max);
    }
    if (maxParked < 0 || parkMillis < 0) {
      throw new IllegalArgumentException("maxParked and parkMillis must not be negative: " + maxParked + ", " + parkMillis);
    }
    this.max = max;
    this.maxParked = maxParked;
    this.parkNanos = TimeUnit.MILLISECONDS.toNanos(parkMillis);
  }

  /** How many evicted sockets are parked now. */
  public int parked() {
    lock.lock();
    try {
      return parked.size();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Closes the parked sockets whose time is up. {@link #admit} does it too; an owner whose
   * accept loop wakes up periodically calls it there, so that a quiet listener closes them
   * too (at most one wake-up period late).
   */
  public void reap() {
    List<EiListener.Incoming> due = new ArrayList<>();
    lock.lock();
    try {
      long now = System.nanoTime();
      while (!parked.isEmpty() && now - parked.peekFirst().closeAtNanos() >= 0) {
        due.add(parked.pollFirst().in());
      }
    } finally {
      lock.unlock();
    }
    due.forEach(EiListener.Incoming::close);
  }

  /** Closes every parked socket: the owner is shutting down. */
  public void closeParked() {
    List<EiListener.Incoming> all = new ArrayList<>();
    lock.lock();
    try {
      parked.forEach(p -> all.add(p.in()));
      parked.clear();
    } finally {
      lock.unlock();
    }
    all.forEach(EiListener.Incoming::close);
  }

  /** How many handshakes may run at once. */
  public int max() {
    return max;
  }

  /** How many slots are taken now (evicted handshakes still finishing included). */
  public int inUse() {
    lock.lock();
    try {
      return pending.size();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Takes a slot for {@code in}: a free one, or, when all are taken, the one of the pending
   * handshake chosen as described above, which is evicted ({@link EiListener.Incoming#evict()})
   * and whose slot is taken once released. The newcomer itself is never the one evicted.
   *
   * @param waitMillis how long to wait for the evicted handshake to release its slot; on
   *     expiry {@code in} is not admitted (the caller closes it)
   * @return whether {@code in} was admitted, and whom it evicted (null for nobody)
   * @throws InterruptedException when interrupted while waiting; {@code in} is not admitted
   */
  public Admission admit(EiListener.Incoming in, long waitMillis) throws InterruptedException {
    reap();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
    EiListener.Incoming evicted = null;
    boolean wasParked = false;
    int overflow = 0;
    while (true) {
      EiListener.Incoming victim = null;
      lock.lock();
      try {
        if (pending.size() < max) {
          pending.add(in);
          perSource.merge(in.source(), 1, Integer::sum);
          return new Admission(true, evicted, wasParked, overflow);
        }
        if (evicted == null && pending.size() - evicting >= max) {
          victim = victim();
          if (victim != null) {
            evicting++;
          }
        }
        if (victim == null) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return new Admission(false, evicted, wasParked, overflow);
          }
          released.awaitNanos(left);
          continue;
        }
      } finally {
        lock.unlock();
      }
      // Waking or closing runs the transport's code: outside the lock.
      if (victim.park()) {
        evicted = victim;
        wasParked = true;
        overflow += park(victim);
      } else if (victim.evict()) {
        evicted = victim;
      } else {
        // Its handshake succeeded meanwhile; its release comes soon and frees the slot.
        lock.lock();
        try {
          evicting--;
        } finally {
          lock.unlock();
        }
      }
    }
  }

  /** Keeps a parked socket until its time is up, closing the oldest beyond {@code maxParked}; returns how many it closed. */
  private int park(EiListener.Incoming in) {
    List<EiListener.Incoming> closing = new ArrayList<>();
    lock.lock();
    try {
      parked.addLast(new Parked(in, in.acceptedNanos() + parkNanos));
      while (parked.size() > maxParked) {
        closing.add(parked.pollFirst().in());
      }
    } finally {
      lock.unlock();
    }
    closing.forEach(EiListener.Incoming::close);
    return closing.size();
  }

  /** Gives back the slot of {@code in}; does nothing for a socket that holds none. */
  public void release(EiListener.Incoming in) {
    lock.lock();
    try {
      if (!pending.remove(in)) {
        return;
      }
      perSource.computeIfPresent(in.source(), (k, n) -> n == 1 ? null : n - 1);
      if (in.isEvicted() && evicting > 0) {
        evicting--;
      }
      released.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The pending handshake to evict, under the lock; null when all are already evicted. */
  private EiListener.Incoming victim() {
    EiListener.Incoming best = null;
    int bestSource = 0;
    for (EiListener.Incoming p : pending) {
      if (p.isEvicted()) {
        continue;
      }
      int held = perSource.getOrDefault(p.source(), 0);
      if (best == null || worse(p, held, best, bestSource)) {
        best = p;
        bestSource = held;
      }
    }
    return best;
  }

  /** Whether {@code a} (whose source holds {@code aHeld}) goes before {@code b}. */
  private static boolean worse(EiListener.Incoming a, int aHeld, EiListener.Incoming b, int bHeld) {
    if (aHeld != bHeld) {
      return aHeld > bHeld;
    }
    if (a.messagesReceived() != b.messagesReceived()) {
      return a.messagesReceived() < b.messagesReceived();
    }
    return a.lastProgressNanos() - b.lastProgressNanos() < 0;
  }
}
