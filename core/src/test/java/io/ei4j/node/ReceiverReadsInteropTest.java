package io.ei4j.node;

import static io.ei4j.node.NodeTesting.expect;
import static io.ei4j.node.NodeTesting.rpc;
import static io.ei4j.term.Terms.atom;
import static io.ei4j.term.Terms.integer;
import static io.ei4j.term.Terms.tuple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlTerm;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A receiver waiting in {@link Mailbox#receive} reads the connection its last remote
 * message came through itself ({@code ReadingRole.dispatchUntil}), against a real Erlang
 * node: it routes other mailboxes' messages as the reader thread would, it is woken when
 * its message comes from elsewhere, nothing is lost or reordered, and the reader thread
 * takes the connection back when the receiver stops.
 */
class ReceiverReadsInteropTest {
  private static final String COOKIE = "receiver_reads_cookie";
  private static NodeTesting.PeerAndNode peers;
  private static Node node;
  private static String erlName;

  private Mailbox box;
  private Mailbox other;
  private ExecutorService threads;

  @BeforeAll
  static void start() throws Exception {
    peers = NodeTesting.PeerAndNode.start(COOKIE);
    node = peers.node();
    erlName = peers.erl().nodeName();
  }

  @AfterAll
  static void stop() {
    if (peers != null) {
      peers.close();
    }
  }

  @BeforeEach
  void boxes() {
    box = node.createMailbox();
    other = node.createMailbox();
    threads = Executors.newCachedThreadPool();
  }

  @AfterEach
  void closeBoxes() {
    threads.shutdownNow();
    box.close();
    other.close();
  }

  /** One round trip with Erlang's echo process, so that box's last message came over the connection. */
  private void echo(Mailbox m, ErlTerm what) throws Exception {
    m.send("echo", erlName, tuple(m.pid(), what));
    assertEquals(tuple(atom("echo"), what), expect(m, t -> true, 5_000, "echo reply"));
  }

  /** A receive(timeout) on a thread of its own. */
  private Future<ErlTerm> receiveLater(Mailbox m, long timeoutMillis) {
    return threads.submit(() -> m.receive(timeoutMillis));
  }

  @Test
  void aWaitingReceiverReadsTheConnectionAndRoutesOtherMailboxesMessages() throws Exception {
    echo(box, atom("first"));
    Future<ErlTerm> got = receiveLater(box, 10_000);
    ReceiverWakeups.awaitReading(box);
    // rex's reply to `other` is read and routed by box's receiving thread.
    assertEquals(atom("ok"), rpc(other, erlName, "ei4j_node_peer", "send_to", box.pid(), atom("second")));
    assertEquals(atom("second"), got.get(10, TimeUnit.SECONDS));
  }

  @Test
  void aMessageFromElsewhereWakesAReceiverThatReadsTheConnection() throws Exception {
    echo(box, atom("first"));
    ReceiverWakeups.assertLocalSendsWakeTheReader(box, other, threads);
  }

  @Test
  void anExitSignalFromAnotherThreadEndsAReceiverThatReadsTheConnection() throws Exception {
    echo(box, atom("first"));
    Future<ErlTerm> got = receiveLater(box, 10_000);
    ReceiverWakeups.awaitReading(box);
    other.exit(box.pid(), atom("kill"));
    Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> got.get(10, TimeUnit.SECONDS));
    assertInstanceOf(ExitException.class, e.getCause());
  }

  @Test
  void floodsToTwoMailboxesArriveCompleteAndInOrder() throws Exception {
    int n = 20_000;
    echo(box, atom("first"));
    echo(other, atom("first"));
    CompletableFuture<Void> otherDone = CompletableFuture.runAsync(() -> {
      try {
        for (int i = 1; i <= n; i++) {
          assertEquals(tuple(atom("flood"), integer(i)), other.receive(10_000));
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, threads);
    Mailbox caller = node.createMailbox();
    try {
      assertEquals(atom("ok"), rpc(caller, erlName, "ei4j_node_peer", "flood", other.pid(), integer(n)));
      assertEquals(atom("ok"), rpc(caller, erlName, "ei4j_node_peer", "flood", box.pid(), integer(n)));
    } finally {
      caller.close();
    }
    for (int i = 1; i <= n; i++) {
      assertEquals(tuple(atom("flood"), integer(i)), box.receive(10_000));
    }
    otherDone.get(30, TimeUnit.SECONDS);
    assertEquals(0, box.queued());
    assertEquals(0, other.queued());
  }

  @Test
  void receiversOfSeveralMailboxesShareTheConnection() throws Exception {
    Mailbox[] boxes = {box, other, node.createMailbox(), node.createMailbox()};
    try {
      Future<?>[] runs = new Future<?>[boxes.length];
      for (int b = 0; b < boxes.length; b++) {
        Mailbox m = boxes[b];
        runs[b] = threads.submit(() -> {
          for (int i = 0; i < 2_000; i++) {
            echo(m, tuple(m.pid(), integer(i)));
          }
          return null;
        });
      }
      for (Future<?> r : runs) {
        r.get(60, TimeUnit.SECONDS);
      }
    } finally {
      boxes[2].close();
      boxes[3].close();
    }
    for (Mailbox m : boxes) {
      assertEquals(0, m.queued());
    }
  }

  @Test
  void theReaderThreadTakesTheConnectionBackWhenTheReceiverStops() throws Exception {
    long[] millis = new long[5];
    for (int round = 0; round < millis.length; round++) {
      // Long enough for the reader thread to back off to waits of up to a second.
      long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_300);
      for (int i = 0; System.nanoTime() < until; i++) {
        echo(box, integer(i));
      }
      // box's thread stops receiving; `fresh` has never had a remote message, so its
      // receiver parks and only the reader thread can read what comes for it.
      Mailbox fresh = node.createMailbox();
      try {
        Future<ErlTerm> got = receiveLater(fresh, 10_000);
        long start = System.nanoTime();
        box.send("echo", erlName, tuple(fresh.pid(), atom("for_fresh")));
        assertEquals(tuple(atom("echo"), atom("for_fresh")), got.get(10, TimeUnit.SECONDS));
        millis[round] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      } finally {
        fresh.close();
      }
    }
    // The reader thread had backed off to waits of up to a second; the median spares a
    // stray pause of the machine.
    long[] sorted = millis.clone();
    Arrays.sort(sorted);
    assertTrue(sorted[sorted.length / 2] < 300,
        "the connection went unread for " + Arrays.toString(millis) + " ms after its last receiver stopped");
  }
}
