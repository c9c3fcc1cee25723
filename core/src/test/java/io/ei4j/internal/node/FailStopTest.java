package io.ei4j.internal.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The fail-stop policy on its own, with plain threads and real Errors. */
class FailStopTest {

  private static int recurse(int n) {
    return recurse(n + 1) + 1;
  }

  @Test
  void anErrorOnANodeThreadFailsTheOwnerOnceWithTheFirstCause() throws Exception {
    FailStop fs = new FailStop("node test@a");
    List<Throwable> stopped = new CopyOnWriteArrayList<>();
    fs.onFailure(stopped::add);
    Thread t = fs.daemonThread("t", () -> recurse(0));
    t.start();
    t.join(10_000);
    assertTrue(fs.failed());
    assertTrue(fs.failure().orElseThrow() instanceof StackOverflowError);
    assertEquals(1, stopped.size());
    assertSame(fs.failure().orElseThrow(), stopped.get(0));
    // A later cause neither replaces the first nor runs the stop action again.
    assertFalse(fs.fail(new OutOfMemoryError("later")));
    assertEquals(1, stopped.size());
    assertTrue(fs.failure().orElseThrow() instanceof StackOverflowError);
  }

  @Test
  void aRuntimeExceptionOnANodeThreadFailsTheOwnerToo() throws Exception {
    FailStop fs = new FailStop("node test@b");
    AtomicInteger stops = new AtomicInteger();
    fs.onFailure(c -> stops.incrementAndGet());
    ThreadFactory f = fs.daemonThreads("pool");
    Thread t = f.newThread(() -> {
      throw new IllegalStateException("bug");
    });
    assertTrue(t.isDaemon());
    assertEquals("pool-1", t.getName());
    t.start();
    t.join(10_000);
    assertEquals(1, stops.get());
    assertEquals("bug", fs.failure().orElseThrow().getMessage());
  }

  @Test
  void aRuntimeExceptionOnAConnectionThreadClosesThatConnectionOnly() throws Exception {
    FailStop fs = new FailStop("node test@c");
    AtomicInteger stops = new AtomicInteger();
    fs.onFailure(c -> stops.incrementAndGet());
    List<Throwable> closed = new CopyOnWriteArrayList<>();
    IllegalArgumentException bug = new IllegalArgumentException("connection bug");
    Thread t = new Thread(fs.guardConnection(() -> {
      throw bug;
    }, "c <-> d", closed::add));
    t.start();
    t.join(10_000);
    assertEquals(List.of(bug), closed);
    assertFalse(fs.failed());
    assertEquals(0, stops.get());
  }

  @Test
  void anErrorOnAConnectionThreadFailsTheNodeAndClosesTheConnection() throws Exception {
    FailStop fs = new FailStop("node test@e");
    AtomicInteger stops = new AtomicInteger();
    fs.onFailure(c -> stops.incrementAndGet());
    List<Throwable> closed = new CopyOnWriteArrayList<>();
    Thread t = new Thread(fs.guardConnection(() -> recurse(0), "e <-> f", closed::add));
    t.start();
    t.join(10_000);
    assertEquals(1, stops.get());
    assertTrue(fs.failure().orElseThrow() instanceof StackOverflowError);
    assertEquals(1, closed.size());
  }

  @Test
  void aConnectionThatCannotBeClosedFailsTheNode() throws Exception {
    FailStop fs = new FailStop("node test@g");
    Thread t = new Thread(fs.guardConnection(() -> {
      throw new IllegalStateException("first");
    }, "g <-> h", c -> {
      throw new IllegalStateException("close failed");
    }));
    t.start();
    t.join(10_000);
    assertEquals("close failed", fs.failure().orElseThrow().getMessage());
  }

  @Test
  void aStopActionThatThrowsOrFailsAgainDoesNotRecurse() {
    FailStop fs = new FailStop("node test@i");
    AtomicInteger runs = new AtomicInteger();
    fs.onFailure(c -> {
      runs.incrementAndGet();
      fs.fail(new OutOfMemoryError("inside the stop action")); // a layer that fails it again
      throw new OutOfMemoryError("the stop action ran out too");
    });
    assertTrue(fs.fail(new OutOfMemoryError("first")));
    assertEquals(1, runs.get());
    assertEquals("first", fs.failure().orElseThrow().getMessage());
  }

  @Test
  void aRealOutOfMemoryErrorIsCaughtAndTheStopActionStillRuns() throws Exception {
    FailStop fs = new FailStop("node test@j");
    List<String> stops = new CopyOnWriteArrayList<>();
    fs.onFailure(c -> stops.add(c.getClass().getSimpleName()));
    Thread t = fs.daemonThread("oom", () -> {
      // More than any heap: the allocation fails without filling the heap first.
      long[] huge = new long[Integer.MAX_VALUE - 8];
      huge[0] = 1;
    });
    t.start();
    t.join(10_000);
    assertEquals(List.of("OutOfMemoryError"), stops);
  }

  @Test
  void theReleaseRunsBeforeTheCauseIsReportedAndTheStopAfter() {
    FailStop fs = new FailStop("node test@k");
    List<String> seen = new CopyOnWriteArrayList<>();
    fs.onFailure(c -> seen.add("release, reported=" + fs.failure().isPresent() + ", failed=" + fs.failed()),
        c -> seen.add("stop, reported=" + fs.failure().isPresent()));
    assertTrue(fs.fail(new OutOfMemoryError("k")));
    assertEquals(List.of("release, reported=false, failed=true", "stop, reported=true"), seen);
  }
}
