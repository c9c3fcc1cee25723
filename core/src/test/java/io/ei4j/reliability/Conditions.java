package io.ei4j.reliability;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waiting for what another thread or node does, in the reliability tests. */
final class Conditions {
  private Conditions() {}

  /**
   * Polls {@code condition} every 10 ms until it holds; fails the test, naming {@code what},
   * when it still does not after {@code millis}.
   */
  static void await(BooleanSupplier condition, long millis, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("not within " + millis + " ms: " + what);
      }
      Thread.sleep(10);
    }
  }
}
