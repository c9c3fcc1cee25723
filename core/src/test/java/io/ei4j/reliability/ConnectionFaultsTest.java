package io.ei4j.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ei4j.api.ErrnoException;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiConnectionLostException;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiNode;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Faults at the connection level against real peers: an {@code erl} killed with
 * {@code SIGKILL} or frozen with {@code SIGSTOP}, a socket closed in the middle of a frame
 * or gone silent there, and the Java side closing while sends are in flight. Every fault
 * ends the connection within the tick window with {@link EiConnectionLostException}, and
 * nothing that {@code send} accepted is lost.
 */
@Timeout(120)
class ConnectionFaultsTest {
  private static final String COOKIE = "faults-cookie";
  private static final ErlAtom SEQ = ErlAtom.of("seq");

  /** Waits for the connection to report down; returns the milliseconds it took. */
  private static long awaitDown(EiConnection c, long withinMillis) throws IOException {
    long start = System.nanoTime();
    while (true) {
      try {
        c.receive(withinMillis);
      } catch (EiConnectionLostException down) {
        return (System.nanoTime() - start) / 1_000_000;
      } catch (ErrnoException e) {
        fail("the connection was still up " + withinMillis + " ms after the fault", e);
      }
    }
  }

  @Test
  void killedPeerIsNoticedAtOnce() throws Exception {
    try (EiNode java = ErlangRel.javaNode(COOKIE, 4_000); ErlangPeer erl = ErlangRel.start(COOKIE)) {
      EiConnection c = java.connect(erl.nodeName(), 10_000);
      erl.signal("KILL");
      long ms = awaitDown(c, 4_000);
      System.out.printf("faults: kill -9 noticed after %d ms%n", ms);
      assertTrue(ms < 4_000, "kill -9 took " + ms + " ms to notice");
      assertThrows(EiConnectionLostException.class, () -> c.regSend(c.self(), "sink", ErlAtom.of("late")));
    }
  }

  @Test
  void stoppedPeerIsDeclaredDownWithinTheTickTime() throws Exception {
    long tick = 2_000;
    // Both sides tick every half second: erl sends one every net_ticktime / 4.
    try (EiNode java = ErlangRel.javaNode(COOKIE, tick); ErlangPeer erl = ErlangRel.start(COOKIE, "-kernel", "net_ticktime", "2")) {
      EiConnection c = java.connect(erl.nodeName(), 10_000);
      Thread.sleep(2 * tick); // ticks flow both ways meanwhile: the connection must stay up
      assertTrue(c.isOpen(), "an idle but ticking connection went down");
      erl.signal("STOP");
      try {
        long ms = awaitDown(c, 3 * tick);
        System.out.printf("faults: SIGSTOP noticed after %d ms (tick time %d ms)%n", ms, tick);
        assertTrue(ms >= tick / 2 && ms <= tick * 5 / 4 + tick / 4, "declared down after " + ms + " ms, tick time " + tick);
      } finally {
        erl.signal("CONT");
      }
    }
  }

  /** A hand-made initiator that completes the handshake with the right cookie, then misbehaves. */
  private static Socket handshaken(InetSocketAddress a, String name) throws IOException {
    Socket s = Abuse.connect(a, 5_000);
    int challenge = Abuse.upToChallenge(s, name);
    s.getOutputStream().write(Abuse.challengeReply(challenge, COOKIE, 99));
    byte[] ack = Abuse.readMessage(new DataInputStream(s.getInputStream()));
    assertEquals('a', ack[0]);
    return s;
  }

  @Test
  void socketClosedMidFrameOrSilentMidFrameEndsTheConnection() throws Exception {
    try (EiNode java = ErlangRel.javaNode(COOKIE, 1_000);
        EiListener l = java.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4)) {
      InetSocketAddress a = (InetSocketAddress) l.address();
      // Closed mid-frame: a length of 100 and 40 bytes, then FIN.
      CompletableFuture<EiConnection> accepted = CompletableFuture.supplyAsync(() -> accept(l));
      try (Socket s = handshaken(a, "cut@localhost")) {
        EiConnection c = accepted.get(10, TimeUnit.SECONDS);
        OutputStream out = s.getOutputStream();
        out.write(ByteBuffer.allocate(4 + 40).putInt(100).put(new byte[] {112, (byte) 131}).array());
        out.flush();
        s.shutdownOutput();
        long ms = awaitDown(c, 1_000);
        System.out.printf("faults: close mid-frame noticed after %d ms%n", ms);
      }
      // Silent mid-frame: the same half frame, then nothing (the socket stays open).
      accepted = CompletableFuture.supplyAsync(() -> accept(l));
      try (Socket s = handshaken(a, "mute@localhost")) {
        EiConnection c = accepted.get(10, TimeUnit.SECONDS);
        s.getOutputStream().write(ByteBuffer.allocate(4 + 40).putInt(100).array());
        long ms = awaitDown(c, 3_000);
        System.out.printf("faults: silence mid-frame noticed after %d ms (tick time 1000 ms)%n", ms);
        assertTrue(ms >= 500 && ms <= 2_000, "declared down after " + ms + " ms (tick time 1000 ms)");
      }
    }
  }

  private static EiConnection accept(EiListener l) {
    try {
      return l.accept(10_000);
    } catch (IOException e) {
      throw new java.util.concurrent.CompletionException(e);
    }
  }

  /**
   * The Java node closes the connection while a thread is sending: every send that returned
   * normally reached the Erlang process, in order; the others threw.
   */
  @Test
  void closingWhileSendingLosesNothingThatSendAccepted() throws Exception {
    try (EiNode java = ErlangRel.javaNode(COOKIE, 10_000); ErlangPeer erl = ErlangRel.start(COOKIE)) {
      EiConnection c = java.connect(erl.nodeName(), 10_000);
      int[] accepted = new int[1];
      Thread sender = new Thread(() -> {
        for (int i = 1; i <= 1_000_000; i++) {
          try {
            c.regSend(c.self(), "sink", ErlTuple.of(SEQ, ErlInteger.of(7), ErlInteger.of(i)));
            accepted[0] = i;
          } catch (IOException closed) {
            return;
          }
        }
      });
      sender.start();
      Thread.sleep(300);
      c.close();
      sender.join(10_000);
      Matcher m = erl.awaitMatch("^sink \\S+ count (\\d+) bad (\\d+)$", Duration.ofSeconds(10));
      long delivered = Long.parseLong(m.group(1));
      System.out.printf("faults: closed while sending: %d sends accepted, %d delivered, %s out of order%n",
          accepted[0], delivered, m.group(2));
      assertTrue(accepted[0] > 0, "nothing was sent before the close");
      assertEquals(0, Long.parseLong(m.group(2)), "messages arrived out of order");
      assertEquals(accepted[0], delivered, "a message that send accepted was lost");
    }
  }
}
