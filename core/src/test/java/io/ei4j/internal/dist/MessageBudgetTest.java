package io.ei4j.internal.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.BudgetPolicy;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The budget's accounting: the node-wide limit, each connection's reserve, and waiting for room. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MessageBudgetTest {
  private static final long MIB = 1 << 20;

  @Test
  void aConnectionBeyondItsReserveIsRefusedOnceTheBudgetIsFullButAQuietOneIsNot() {
    MessageBudget b = new MessageBudget(MIB, BudgetPolicy.PAUSE);
    MessageBudget.Account flood = b.account();
    MessageBudget.Account quiet = b.account();
    assertTrue(flood.tryCharge(MIB - 100));
    assertFalse(flood.tryCharge(1_000), "over the budget and over its reserve");
    assertTrue(quiet.tryCharge(1_000), "a connection within its 64 KiB reserve goes on");
    assertFalse(quiet.tryCharge(MessageBudget.CONNECTION_RESERVE), "but not beyond it");
    assertEquals(MIB - 100 + 1_000, b.usedBytes());
    flood.release(MIB - 100);
    quiet.release(1_000);
    assertEquals(0, b.usedBytes());
    assertEquals(0, flood.heldBytes());
  }

  @Test
  void aWaitEndsWithATimeoutAtItsDeadlineWithoutCharging() {
    MessageBudget b = new MessageBudget(MIB, BudgetPolicy.PAUSE);
    MessageBudget.Account a = b.account();
    assertTrue(a.tryCharge(MIB));
    long start = System.nanoTime();
    ErrnoException e = assertThrows(ErrnoException.class, () -> a.await(1_000, Deadline.after(200), false, () -> false, "reading"));
    assertTrue(e.isTimeout());
    assertTrue(System.nanoTime() - start >= 150_000_000L, "waited for the deadline");
    assertEquals(MIB, b.usedBytes());
  }

  @Test
  void aWaitChargesOnceConsumersMadeRoom() throws Exception {
    MessageBudget b = new MessageBudget(MIB, BudgetPolicy.PAUSE);
    MessageBudget.Account reader = b.account();
    assertTrue(reader.tryCharge(MIB));
    CompletableFuture<Boolean> waited = CompletableFuture.supplyAsync(() -> {
      try {
        return reader.await(100_000, Deadline.after(SocketCallbacks.INFINITE), false, () -> false, "reading");
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    long end = System.nanoTime() + 5_000_000_000L;
    while (!reader.paused() && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertTrue(reader.paused(), "the reader waits, paused");
    reader.release(MIB / 2); // an eighth of the budget free beyond the frame: room
    assertTrue(waited.get(5, TimeUnit.SECONDS));
    assertFalse(reader.paused());
    assertEquals(MIB / 2 + 100_000, b.usedBytes());
  }

  @Test
  void aWakeableWaitEndsOnWakeupAndAWaitEndsWhenTheConnectionGoesDown() throws Exception {
    MessageBudget b = new MessageBudget(MIB, BudgetPolicy.PAUSE);
    MessageBudget.Account a = b.account();
    assertTrue(a.tryCharge(MIB));
    a.wakeup(); // before the wait: the next wakeable wait ends at once, as a woken read does
    ErrnoException e = assertThrows(ErrnoException.class,
        () -> a.await(1_000, Deadline.after(SocketCallbacks.INFINITE), true, () -> false, "reading"));
    assertTrue(e.isTimeout());
    AtomicBoolean down = new AtomicBoolean();
    CompletableFuture<Boolean> waited = CompletableFuture.supplyAsync(() -> {
      try {
        return a.await(1_000, Deadline.after(SocketCallbacks.INFINITE), false, down::get, "reading");
      } catch (Exception x) {
        throw new RuntimeException(x);
      }
    });
    Thread.sleep(50);
    down.set(true);
    a.onDown();
    assertFalse(waited.get(5, TimeUnit.SECONDS), "no charge for a connection that went down");
  }

  @Test
  void aBudgetBelowOneMebibyteIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new MessageBudget(MIB - 1, BudgetPolicy.PAUSE));
    assertTrue(MessageBudget.defaultBytes() >= Runtime.getRuntime().maxMemory() / 4 - 1);
  }
}
