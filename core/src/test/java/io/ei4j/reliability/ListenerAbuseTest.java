package io.ei4j.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ei4j.api.ErrnoException;
import io.ei4j.connect.EiAuthenticationException;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A listener under abuse keeps serving honest peers. An {@link EiNode} listens on loopback
 * TCP with a pool of accept threads (what {@link EiListener#accept} supports: it is
 * thread-safe, and each call runs one handshake on its caller's thread, bounded by its
 * timeout). Abusers send garbage, oversized names, wrong digests, replayed challenge
 * replies, one byte at a time (slow loris), half a handshake, or nothing at all, while
 * honest Java peers and a real {@code erl} connect and exchange messages.
 */
@Timeout(180)
class ListenerAbuseTest {
  private static final TcpTransport TCP = TcpTransport.create();
  private static final String COOKIE = "abuse" + Long.toHexString(new SecureRandom().nextLong());
  private static final ErlAtom ECHO = ErlAtom.of("echo");
  private static final int ACCEPTORS = 4;
  private static final long HANDSHAKE_MILLIS = 1_000;

  private EiNode server;
  private EiListener listener;
  private InetSocketAddress address;
  private ExecutorService acceptors;
  private volatile boolean stopping;
  private final AtomicInteger honestAccepted = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final List<AutoCloseable> cleanup = new ArrayList<>();

  @BeforeEach
  void listen() throws IOException {
    server = EiNode.builder(ErlangPeer.uniqueName("target") + "@" + ErlangPeer.shortHostName())
        .cookie(COOKIE).transport(TCP).build();
    // All interfaces, so that a real erl finds it under the host name EPMD hands out.
    listener = server.listen(new InetSocketAddress(0), 4096);
    address = new InetSocketAddress(InetAddress.getLoopbackAddress(), ((InetSocketAddress) listener.address()).getPort());
    acceptors = Executors.newFixedThreadPool(ACCEPTORS + 64);
    for (int i = 0; i < ACCEPTORS; i++) {
      acceptors.submit(this::acceptLoop);
    }
  }

  @AfterEach
  void stop() throws Exception {
    stopping = true;
    for (int i = cleanup.size() - 1; i >= 0; i--) {
      cleanup.get(i).close();
    }
    listener.close();
    server.close();
    acceptors.shutdownNow();
    assertTrue(acceptors.awaitTermination(10, TimeUnit.SECONDS), "accept threads did not stop");
  }

  /** An application's accept loop: echo every {@code echo} message back to its sender. */
  private void acceptLoop() {
    while (!stopping) {
      EiConnection c;
      try {
        c = listener.accept(HANDSHAKE_MILLIS);
      } catch (ErrnoException e) {
        if (!e.isTimeout()) {
          refused.incrementAndGet();
        }
        continue;
      } catch (IOException | RuntimeException e) {
        refused.incrementAndGet();
        continue;
      }
      honestAccepted.incrementAndGet();
      Thread t = new Thread(() -> echo(c), "echo-" + c.peerNodeName());
      t.setDaemon(true);
      t.start();
    }
  }

  private static void echo(EiConnection c) {
    try {
      while (true) {
        EiMessage m = c.receive(-1);
        if (m instanceof EiMessage.RegSend r && ECHO.equals(r.toName())) {
          c.send(c.self(), r.from(), r.message(), 5_000);
        }
      }
    } catch (IOException down) {
      c.close();
    }
  }

  /** One honest round trip on a fresh connection; returns its duration in milliseconds. */
  private long honestRoundTrip(EiNode client, int n) throws IOException {
    long start = System.nanoTime();
    try (EiConnection c = client.connect(address, 15_000)) {
      ErlTuple msg = ErlTuple.of(ErlAtom.of("hello"), ErlInteger.of(n));
      c.regSend(c.self(), "echo", msg);
      EiMessage.Send back = assertInstanceOf(EiMessage.Send.class, c.receive(15_000));
      assertEquals(msg, back.message());
    }
    return (System.nanoTime() - start) / 1_000_000;
  }

  @Test
  void honestPeersAreServedWhileTwoThousandAbusiveConnectionsAttack() throws Exception {
    EiNode client = EiNode.builder(ErlangPeer.uniqueName("honest") + "@" + ErlangPeer.shortHostName())
        .cookie(COOKIE).transport(TCP).build();
    cleanup.add(client);
    EiNode impostor = EiNode.builder(ErlangPeer.uniqueName("impostor") + "@" + ErlangPeer.shortHostName())
        .cookie("not-" + COOKIE).transport(TCP).build();
    cleanup.add(impostor);

    AtomicInteger abusive = new AtomicInteger();
    ConcurrentLinkedQueue<String> abuseFailures = new ConcurrentLinkedQueue<>();
    List<Future<?>> attacks = new ArrayList<>();
    // Garbage: random bytes, then close.
    attacks.add(acceptors.submit(() -> repeat(600, abusive, abuseFailures, i -> {
      try (Socket s = Abuse.connect(address, 10_000)) {
        byte[] junk = new byte[64];
        new Random(i).nextBytes(junk);
        writeUnlessClosed(s, junk);
        expectClosed(s, "garbage");
      }
    })));
    // A name length far beyond the 2 KiB cap: refused before anything is allocated.
    attacks.add(acceptors.submit(() -> repeat(300, abusive, abuseFailures, i -> {
      try (Socket s = Abuse.connect(address, 10_000)) {
        writeUnlessClosed(s, new byte[] {(byte) 0xff, (byte) 0xff, 'N'});
        writeUnlessClosed(s, new byte[1_000]);
        expectClosed(s, "oversized message");
      }
    })));
    // A name field that claims more bytes than the message holds, and a 1,000-byte name.
    attacks.add(acceptors.submit(() -> repeat(100, abusive, abuseFailures, i -> {
      try (Socket s = Abuse.connect(address, 10_000)) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1 + 8 + 4 + 2 + 4);
        b.put((byte) 'N').putLong(Abuse.FLAGS).putInt(1).putShort((short) 60_000).put("a@bc".getBytes());
        writeUnlessClosed(s, Abuse.message(b.array()));
        expectClosed(s, "lying name length");
      }
    })));
    // Half a handshake, then close: the acceptor sees end of stream.
    attacks.add(acceptors.submit(() -> repeat(900, abusive, abuseFailures, i -> {
      try (Socket s = Abuse.connect(address, 10_000)) {
        byte[] name = Abuse.nameMessage("half" + i + "@localhost");
        s.getOutputStream().write(name, 0, name.length / 2);
      }
    })));
    // Wrong cookie through the real initiator: a typed authentication failure every time.
    attacks.add(acceptors.submit(() -> repeat(50, abusive, abuseFailures, i -> {
      assertThrows(EiAuthenticationException.class, () -> impostor.connect(address, 10_000));
    })));
    // A challenge reply recorded from one session and replayed in the next is refused.
    attacks.add(acceptors.submit(() -> repeat(25, abusive, abuseFailures, i -> {
      byte[] recorded;
      try (Socket s = Abuse.connect(address, 5_000)) {
        int challenge = Abuse.upToChallenge(s, "sniffed" + i + "@localhost");
        recorded = Abuse.challengeReply(challenge, COOKIE, 42);
        s.getOutputStream().write(recorded);
        byte[] ack = Abuse.readMessage(new DataInputStream(s.getInputStream()));
        assertEquals('a', ack[0], "the honest session must be acknowledged");
      }
      abusive.incrementAndGet(); // the honest half above is not abuse; the replay below is
      try (Socket s = Abuse.connect(address, 5_000)) {
        Abuse.upToChallenge(s, "replayer" + i + "@localhost");
        s.getOutputStream().write(recorded);
        expectClosed(s, "replayed challenge reply");
      }
    })));
    // Slow loris: one byte every 150 ms; the handshake timeout ends each one.
    for (int l = 0; l < 8; l++) {
      int loris = l;
      attacks.add(acceptors.submit(() -> repeat(3, abusive, abuseFailures, i -> {
        try (Socket s = Abuse.connect(address, 5_000)) {
          byte[] name = Abuse.nameMessage("loris" + loris + "x" + i + "@localhost");
          long start = System.nanoTime();
          try {
            for (byte b : name) {
              s.getOutputStream().write(b);
              Thread.sleep(150);
            }
            expectClosed(s, "slow loris");
          } catch (IOException closedUnderUs) {
            // The acceptor gave up and closed: what should happen.
          }
          long ms = (System.nanoTime() - start) / 1_000_000;
          assertTrue(ms < HANDSHAKE_MILLIS + 3_000, "a slow loris was kept for " + ms + " ms");
        }
      })));
    }
    // Honest peers meanwhile, and a real Erlang node pinging us in the middle of it.
    long worst = 0;
    int honest = 0;
    ErlangPeer erl = null;
    try {
      server.publish(address.getPort());
      for (int n = 0; n < 40; n++) {
        worst = Math.max(worst, honestRoundTrip(client, n));
        honest++;
        if (n == 20) {
          erl = ErlangPeer.builder().sname(ErlangPeer.uniqueName("pinger")).cookie(COOKIE)
              .eval("io:format(\"ping ~p~n\", [net_adm:ping('" + server.nodeName() + "')])")
              .readyLine("^ping ").readyTimeout(Duration.ofSeconds(30)).start();
          erl.awaitLine("^ping pong$", Duration.ofSeconds(1));
        }
      }
      for (Future<?> f : attacks) {
        f.get(120, TimeUnit.SECONDS);
      }
      worst = Math.max(worst, honestRoundTrip(client, 999));
    } finally {
      if (erl != null) {
        erl.close();
      }
    }
    assertTrue(abuseFailures.isEmpty(), "abusers were not rejected as expected: " + abuseFailures);
    System.out.printf("listener abuse: %d abusive connections, %d refused handshakes, %d honest round trips (+1 erl ping), worst %d ms%n",
        abusive.get(), refused.get(), honest + 1, worst);
    assertTrue(abusive.get() >= 2_000, "fewer abusive connections than planned: " + abusive.get());
    assertTrue(worst < 4 * HANDSHAKE_MILLIS + 2_000, "an honest peer waited " + worst + " ms behind the abusers");
    assertTrue(honestAccepted.get() >= honest + 25, "honest and recorded sessions accepted: " + honestAccepted.get());
  }

  /**
   * Idle connections that never send a byte each hold one accept thread for the handshake
   * timeout; with the documented pattern (several threads calling accept) an honest peer
   * queued behind {@code IDLE} of them is served after about
   * {@code IDLE * timeout / threads}, and never lost.
   */
  @Test
  void idleConnectionsCostOneHandshakeTimeoutEachAndNeverBlockForever() throws Exception {
    EiNode client = EiNode.builder(ErlangPeer.uniqueName("patient") + "@" + ErlangPeer.shortHostName())
        .cookie(COOKIE).transport(TCP).build();
    cleanup.add(client);
    int idle = 40;
    List<Socket> held = new ArrayList<>();
    try {
      for (int i = 0; i < idle; i++) {
        held.add(Abuse.connect(address, 20_000));
      }
      long ms = honestRoundTrip(client, 1);
      long bound = idle * HANDSHAKE_MILLIS / ACCEPTORS + 3_000;
      System.out.printf("listener abuse: honest peer behind %d idle connections served in %d ms (bound %d ms)%n", idle, ms, bound);
      assertTrue(ms < bound, "served after " + ms + " ms, bound " + bound);
      for (Socket s : held) {
        expectClosed(s, "idle connection");
      }
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }

  /**
   * Two thousand connections that never send a byte: while they are held, an established
   * connection keeps exchanging messages at full speed (each idle one only holds an accept
   * thread for the handshake timeout); once they go away, the backlog drains at once and a
   * new honest peer is served promptly. Nothing leaks: the node holds no connection for them.
   */
  @Test
  void twoThousandSilentConnectionsDoNotDisturbEstablishedPeers() throws Exception {
    EiNode client = EiNode.builder(ErlangPeer.uniqueName("steady") + "@" + ErlangPeer.shortHostName())
        .cookie(COOKIE).transport(TCP).build();
    cleanup.add(client);
    int silent = 2_000;
    try (EiConnection established = client.connect(address, 10_000)) {
      List<Socket> held = new ArrayList<>();
      long worst = 0;
      try {
        for (int i = 0; i < silent; i++) {
          held.add(Abuse.connect(address, 30_000));
        }
        // Long enough for the accept threads to time out on silent ones a few times over.
        long holdUntil = System.nanoTime() + 3 * HANDSHAKE_MILLIS * 1_000_000L;
        for (int n = 0; n < 200 || System.nanoTime() < holdUntil; n++) {
          long start = System.nanoTime();
          ErlTuple msg = ErlTuple.of(ErlAtom.of("steady"), ErlInteger.of(n));
          established.regSend(established.self(), "echo", msg);
          assertEquals(msg, assertInstanceOf(EiMessage.Send.class, established.receive(5_000)).message());
          worst = Math.max(worst, (System.nanoTime() - start) / 1_000_000);
        }
      } finally {
        for (Socket s : held) {
          s.close();
        }
      }
      long ms = honestRoundTrip(client, 2);
      System.out.printf("listener abuse: %d silent connections held; established peer's worst round trip %d ms; new peer served %d ms after they closed%n",
          silent, worst, ms);
      assertTrue(worst < 1_000, "an established peer waited " + worst + " ms");
      assertTrue(ms < HANDSHAKE_MILLIS * 4 + 3_000, "a new peer waited " + ms + " ms after the silent ones closed");
      assertTrue(established.isOpen());
    }
  }

  private interface Attempt {
    void run(int i) throws Exception;
  }

  private static Void repeat(int times, AtomicInteger count, ConcurrentLinkedQueue<String> failures, Attempt a) {
    for (int i = 0; i < times; i++) {
      count.incrementAndGet();
      try {
        a.run(i);
      } catch (Exception | AssertionError e) {
        failures.add(e.toString());
      }
    }
    return null;
  }

  /** Writes {@code bytes}; the acceptor may already have closed on what came before. */
  private static void writeUnlessClosed(Socket s, byte[] bytes) {
    try {
      OutputStream out = s.getOutputStream();
      out.write(bytes);
      out.flush();
    } catch (IOException closedAlready) {
      // Rejected before we finished: expectClosed confirms the stream ended.
    }
  }

  /** The acceptor must close {@code s} (end of stream or reset) before the socket's read timeout. */
  private static void expectClosed(Socket s, String what) throws IOException {
    InputStream in = s.getInputStream();
    try {
      byte[] buf = new byte[256];
      while (in.read(buf) >= 0) {
        // A status or challenge may come first; what matters is that the stream ends.
      }
    } catch (SocketTimeoutException e) {
      fail("the listener kept a " + what + " connection open past the read timeout");
    } catch (IOException reset) {
      // Closed with a reset: also a rejection.
    }
  }

}
