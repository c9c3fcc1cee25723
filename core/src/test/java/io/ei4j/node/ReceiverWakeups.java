package io.ei4j.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlTerm;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Checks of the read wakeup seen from a {@link Mailbox}, shared by the TCP, TLS and AF_UNIX
 * interop tests (public, and in this package, for {@link Mailbox#readsConnection}).
 */
public final class ReceiverWakeups {
  private ReceiverWakeups() {}

  /** Waits up to 5 s until a receive of {@code m} reads its connection itself. */
  public static void awaitReading(Mailbox m) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!m.readsConnection()) {
      assertTrue(System.nanoTime() < until, "the receiver never read the connection itself");
      Thread.sleep(1);
    }
  }

  /**
   * Seven times: a receive of {@code box} on one of {@code threads} starts reading the
   * connection, and {@code sender}, a mailbox of the same node, sends it an integer; fails
   * unless each arrives and the median time from send to receipt is under 150 ms. Without
   * the wakeup the receiver would only look again at the end of its 250 ms read slice,
   * which had just begun each time; the median spares a stray pause of the machine.
   * {@code box}'s last message must have come over the connection.
   */
  public static void assertLocalSendsWakeTheReader(Mailbox box, Mailbox sender, ExecutorService threads)
      throws Exception {
    long[] millis = new long[7];
    for (int i = 0; i < millis.length; i++) {
      Future<ErlTerm> got = threads.submit(() -> box.receive(10_000));
      awaitReading(box);
      long start = System.nanoTime();
      sender.send(box.pid(), ErlInteger.of(i)); // a local send: nothing arrives on the connection
      assertEquals(ErlInteger.of(i), got.get(10, TimeUnit.SECONDS));
      millis[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }
    long[] sorted = millis.clone();
    Arrays.sort(sorted);
    assertTrue(sorted[sorted.length / 2] < 150,
        "local messages took " + Arrays.toString(millis) + " ms to reach a receiver reading the connection");
  }
}
