package io.ei4j.internal.dist;

import io.ei4j.connect.EiConnectionLostException;
import io.ei4j.internal.node.FailStop;
import java.util.function.Consumer;

/**
 * Whether a connection is up, shared by its parts: it goes down exactly once, whatever the
 * reason, and the first {@link #fail} runs the connection's going-down (close the socket,
 * stop the ticker, wake every waiter) on the calling thread. Reading whether it is down is
 * one volatile read; going down takes this object's monitor once.
 *
 * <p>It also guards the bodies of the connection's own threads and tasks ({@link #guarded}):
 * see {@link FailStop}, which decides between closing this connection and failing the node.
 */
public final class Liveness {
  private final Consumer<EiConnectionLostException> goingDown;
  private final FailStop failStop;
  private final String what;
  private volatile EiConnectionLostException failure;
  /** Whether going down ran to its end; false after it threw halfway. */
  private volatile boolean wentDown;

  /** @param goingDown what the connection does once, on the thread that takes it down */
  public Liveness(Consumer<EiConnectionLostException> goingDown) {
    this(goingDown, null, "a connection");
  }

  /**
   * @param goingDown what the connection does once, on the thread that takes it down
   * @param failStop the node's fail-stop policy, for {@link #guarded}; null: a private one
   * @param what the connection, for log lines
   */
  public Liveness(Consumer<EiConnectionLostException> goingDown, FailStop failStop, String what) {
    this.goingDown = goingDown;
    this.failStop = failStop != null ? failStop : new FailStop(what);
    this.what = what;
  }

  /** Why the connection went down, or null while it is up. */
  public EiConnectionLostException failure() {
    return failure;
  }

  /** Takes the connection down for {@code why}, unless it already is. */
  public void fail(EiConnectionLostException why) {
    synchronized (this) {
      if (failure != null) {
        return;
      }
      failure = why;
    }
    goingDown.accept(why);
    wentDown = true;
  }

  /**
   * {@code body} guarded as one of this connection's threads or tasks (reader, flusher,
   * ticks): an unexpected exception that escapes it closes this connection with one ERROR
   * line; an {@link Error}, or a connection whose going-down itself failed, fails the node.
   *
   * @param body what the thread or task runs
   * @return the guarded body
   */
  public Runnable guarded(Runnable body) {
    return failStop.guardConnection(body, what, this::failUnexpectedly);
  }

  private void failUnexpectedly(Throwable t) {
    fail(new EiConnectionLostException("internal error on " + what + ": " + t, t));
    if (!wentDown) {
      throw new IllegalStateException("the connection " + what + " could not be taken down", t);
    }
  }

  /** A fresh exception for this caller's stack, with the original as its cause. */
  public static EiConnectionLostException copy(EiConnectionLostException e) {
    return new EiConnectionLostException(e.getMessage(), e);
  }
}
