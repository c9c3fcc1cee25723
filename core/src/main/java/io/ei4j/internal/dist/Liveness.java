package io.ei4j.internal.dist;

import io.ei4j.connect.EiConnectionLostException;
import java.util.function.Consumer;

/**
 * Whether a connection is up, shared by its parts: it goes down exactly once, whatever the
 * reason, and the first {@link #fail} runs the connection's going-down (close the socket,
 * stop the ticker, wake every waiter) on the calling thread. Reading whether it is down is
 * one volatile read; going down takes this object's monitor once.
 */
public final class Liveness {
  private final Consumer<EiConnectionLostException> goingDown;
  private volatile EiConnectionLostException failure;

  /** @param goingDown what the connection does once, on the thread that takes it down */
  public Liveness(Consumer<EiConnectionLostException> goingDown) {
    this.goingDown = goingDown;
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
  }

  /** A fresh exception for this caller's stack, with the original as its cause. */
  public static EiConnectionLostException copy(EiConnectionLostException e) {
    return new EiConnectionLostException(e.getMessage(), e);
  }
}
