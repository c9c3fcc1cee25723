package io.ei4j.internal.node;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one fail-stop policy for every thread the library starts (issue 18): whatever
 * escapes such a thread never leaves a half-alive node.
 *
 * <ul>
 *   <li>An {@link Error} (OutOfMemoryError, StackOverflowError, any VirtualMachineError,
 *       and an Error thrown by user code that runs on a library thread), on any thread, or
 *       anything that escapes a <em>node-wide</em> thread (accept loop, signal thread,
 *       ticker, handshake and function workers): the whole node fails ({@link #fail}). Its
 *       owner's stop action runs once: queued messages released first, every connection
 *       dropped (peers see nodedown), the EPMD registration ended, listeners told.
 *   <li>A {@link RuntimeException} that escapes a <em>connection's</em> thread (its reader,
 *       flusher or tick task): that connection alone is closed, as any failed read closes
 *       it (links and monitors get {@code noconnection}, node listeners hear of it).
 * </ul>
 *
 * <p>Each case logs exactly one ERROR line with the cause. A node fails only once: the
 * first cause wins and is kept ({@link #failure()}); a later one, on the same or another
 * thread, returns at once, so the stop action never recurses. The order is fixed: the
 * owner's release action (what gives memory back), the ERROR line, then {@link #failure()}
 * reports the cause, then the owner's stop action (what others can see: connections
 * dropped, listeners told). So an application that exits as soon as it learns of the
 * failure never loses the ERROR line. The handler allocates
 * nothing before it lets go of a small JVM-wide reserve
 * ({@value #RESERVE_BYTES} bytes held since the first node started), so that after an
 * OutOfMemoryError the shutdown path has room to run; every step of it is attempted even
 * when one before it throws.
 *
 * <p>This is what Erlang does on its own: a VM that cannot allocate writes
 * {@code erl_crash.dump} and exits, and every peer sees nodedown. A JVM process may hold
 * other things than the node, so the node stops and the process decides (the samples
 * exit non-zero).
 */
public final class FailStop {
  private static final Logger LOG = LoggerFactory.getLogger(FailStop.class);

  /** The size of the JVM-wide emergency reserve released by the first failure. */
  static final int RESERVE_BYTES = 2 * 1024 * 1024;

  /** Dropped by the first failure in the JVM, so that its shutdown path can allocate. */
  @SuppressWarnings("unused") // held only to be released
  private static volatile byte[] reserve;

  /** The cause the latest {@link #fail} logged, so a layer that fails with it too stays quiet. */
  private static volatile Throwable lastLogged;

  private final String owner;
  /**
   * The first cause; set under this object's monitor. Not an {@code AtomicReference}: its
   * compare-and-set goes through a {@code VarHandle}, whose first use links method handles
   * on the heap, which threw a second OutOfMemoryError in a full heap (measured).
   */
  private volatile Throwable failure;
  /** The first cause once the ERROR line is written: what {@link #failure()} reports. */
  private volatile Throwable reported;
  private volatile Consumer<Throwable> release;
  private volatile Consumer<Throwable> stop;

  /**
   * @param owner what fails, for the log line (such as {@code "node java@host"})
   */
  public FailStop(String owner) {
    this.owner = Objects.requireNonNull(owner, "owner");
    if (reserve == null) {
      synchronized (FailStop.class) {
        if (reserve == null && lastLogged == null) {
          reserve = new byte[RESERVE_BYTES];
        }
      }
    }
  }

  /**
   * What the owner does once when it fails: release what it holds, drop every connection,
   * end its registration, tell its listeners. Runs on the failing thread; it must not
   * throw (what it throws is swallowed) and must not wait for the failing thread.
   *
   * @param stop the owner's stop action, given the cause
   */
  public void onFailure(Consumer<Throwable> stop) {
    this.stop = Objects.requireNonNull(stop, "stop");
  }

  /**
   * What the owner does once when it fails, in two steps around the ERROR line: first
   * {@code release} (let go of queued messages, so that the log line has room), then,
   * after the line is written, {@code stop} (what others see). Both run on the failing
   * thread, must not throw and must not wait for it.
   *
   * @param release what gives memory back, before the log line
   * @param stop the rest of the owner's stop action, after it
   */
  public void onFailure(Consumer<Throwable> release, Consumer<Throwable> stop) {
    this.release = Objects.requireNonNull(release, "release");
    this.stop = Objects.requireNonNull(stop, "stop");
  }

  /**
   * Why the owner failed. Reported once the ERROR line is written, before the stop action
   * runs: whoever sees it may exit without losing that line.
   *
   * @return the first cause, or empty while it has not failed
   */
  public Optional<Throwable> failure() {
    return Optional.ofNullable(reported);
  }

  /** Whether the owner has failed or is failing (from the first moment, unlike {@link #failure()}). */
  public boolean failed() {
    return failure != null;
  }

  /**
   * Whether {@code t} makes the whole node fail wherever it is thrown: every {@link Error}.
   *
   * @param t what was thrown
   * @return true for an Error
   */
  public static boolean isFatal(Throwable t) {
    return t instanceof Error;
  }

  /**
   * The owner fails: the first call records {@code cause}, releases the reserve, runs the
   * release action, logs one ERROR line (unless the same cause was logged already by another
   * owner, as when a node fails because the layer under it did), reports the cause and runs
   * the stop action. Later calls return at once.
   *
   * <p>Until the reserve is released nothing here may allocate: not even a string constant,
   * which the JVM creates the first time the code that names it runs (measured: an
   * {@code Objects.requireNonNull(cause, "cause")} at the top threw a second
   * OutOfMemoryError out of this method). The release action runs before the log line, so
   * that queued messages are let go before the logger formats a stack trace; the stop
   * action after it, so that nobody told of the failure can exit before the line is out.
   *
   * @param cause why
   * @return true when this call made the owner fail
   */
  public boolean fail(Throwable cause) {
    if (cause == null) {
      throw new NullPointerException();
    }
    synchronized (this) {
      if (failure != null) {
        return false;
      }
      failure = cause;
    }
    reserve = null;
    runQuietly(release, cause);
    if (lastLogged != cause) {
      lastLogged = cause;
      try {
        LOG.error("{} failed (fail-stop) on thread {}: {}; closing it", owner, Thread.currentThread().getName(), cause.toString(), cause);
      } catch (Throwable ignored) {
        // Logging needs memory; the stop action below still runs.
      }
    }
    reported = cause;
    runQuietly(stop, cause);
    return true;
  }

  private static void runQuietly(Consumer<Throwable> action, Throwable cause) {
    if (action != null) {
      try {
        action.accept(cause);
      } catch (Throwable ignored) {
        // Every step of a stop action guards itself; nothing more can be done here.
      }
    }
  }

  /**
   * Something escaped a connection's own thread: an Error fails the node, anything else
   * closes that connection alone, with one ERROR line.
   *
   * @param t what escaped
   * @param what the connection, for the log line
   * @param closeConnection closes the connection with {@code t} as the cause
   */
  public void connectionFailed(Throwable t, String what, Consumer<Throwable> closeConnection) {
    if (t instanceof Error || failure != null) {
      fail(t);
      closeQuietly(closeConnection, t); // when the stop action is not the one that closes it
      return;
    }
    try {
      LOG.error("{}: unexpected {} on thread {}; closing the connection {}", owner, t.toString(), Thread.currentThread().getName(), what, t);
    } catch (Throwable ignored) {
      // see fail
    }
    try {
      closeConnection.accept(t);
    } catch (Throwable t2) {
      fail(t2); // the connection could not be closed: nothing about the node can be trusted
    }
  }

  private static void closeQuietly(Consumer<Throwable> close, Throwable t) {
    try {
      close.accept(t);
    } catch (Throwable ignored) {
      // the node has failed already
    }
  }

  /**
   * {@code r} guarded as a node-wide thread's body: whatever escapes it fails the node.
   *
   * @param r the body
   * @return the guarded body
   */
  public Runnable guardNode(Runnable r) {
    Objects.requireNonNull(r, "r");
    return () -> {
      try {
        r.run();
      } catch (Throwable t) {
        fail(t);
      }
    };
  }

  /**
   * {@code r} guarded as the body of one connection's thread or task: see
   * {@link #connectionFailed}.
   *
   * @param r the body
   * @param what the connection, for the log line
   * @param closeConnection closes the connection with the cause
   * @return the guarded body
   */
  public Runnable guardConnection(Runnable r, String what, Consumer<Throwable> closeConnection) {
    Objects.requireNonNull(r, "r");
    Objects.requireNonNull(closeConnection, "closeConnection");
    return () -> {
      try {
        r.run();
      } catch (Throwable t) {
        connectionFailed(t, what, closeConnection);
      }
    };
  }

  /**
   * Daemon threads named {@code prefix-N} whose bodies are {@linkplain #guardNode guarded}:
   * for the executors of node-wide work. A task run with {@code execute} that throws ends its
   * worker with the exception, which the guard sees; tasks run with {@code submit} keep
   * their exception in the future and must guard themselves.
   *
   * @param prefix the threads' name prefix
   * @return the factory
   */
  public ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> daemonThread(prefix + "-" + n.incrementAndGet(), r);
  }

  /**
   * A daemon thread (not started) whose body is {@linkplain #guardNode guarded}.
   *
   * @param name the thread's name
   * @param body what it runs
   * @return the thread
   */
  public Thread daemonThread(String name, Runnable body) {
    Thread t = new Thread(guardNode(body), name);
    t.setDaemon(true);
    return t;
  }

  @Override
  public String toString() {
    Throwable f = failure;
    return "FailStop[" + owner + (f == null ? "" : ", failed: " + f) + "]";
  }
}
