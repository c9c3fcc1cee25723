package io.ei4j.reliability;

import static io.ei4j.reliability.Conditions.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.ErrnoException;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiNode;
import io.ei4j.node.Mailbox;
import io.ei4j.node.Node;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A {@link Node} runs every incoming handshake off its accepting thread, at most
 * {@link Node.Builder#maxPendingHandshakes} at once: connections that never say a word
 * delay nobody, and beyond the cap the least advanced is evicted from its thread (parked,
 * its socket left open until the handshake timeout) instead of refusing the newcomer.
 */
@Timeout(120)
class PendingHandshakesTest {
  private static final String COOKIE = "pending" + Long.toHexString(new SecureRandom().nextLong());
  private static final int SILENT = 100;

  private final List<AutoCloseable> cleanup = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = cleanup.size() - 1; i >= 0; i--) {
      cleanup.get(i).close();
    }
  }

  private Node node(int maxPending, long handshakeMillis) throws IOException {
    ErlangPeer.ensureEpmd();
    Node n = Node.builder(ErlangPeer.uniqueName("pending") + "@" + ErlangPeer.shortHostName()).cookie(COOKIE)
        .transport(TcpTransport.create()).listen(new InetSocketAddress(0))
        .maxPendingHandshakes(maxPending).handshakeTimeoutMillis(handshakeMillis).build();
    cleanup.add(n);
    return n;
  }

  private static InetSocketAddress loopback(Node n) {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), ((InetSocketAddress) n.listenAddress()).getPort());
  }

  /** Opens {@code count} connections that never send a byte. */
  private List<Socket> silent(InetSocketAddress where, int count) throws IOException {
    List<Socket> held = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Socket s = Abuse.connect(where, 50);
      held.add(s);
      cleanup.add(s);
    }
    return held;
  }

  /** Whether the server has closed {@code s}: end of stream or reset within the socket's read timeout. */
  private static boolean closedByServer(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    try {
      return in.read() < 0;
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }

  @Test
  void anHonestErlangPeerConnectsPromptlyWhileOneHundredSilentConnectionsAreHeld() throws Exception {
    // Room for all of them: every silent connection holds a handshake thread for 60 s.
    Node n = node(SILENT + 28, 60_000);
    silent(loopback(n), SILENT);
    await(() -> n.pendingHandshakes() == SILENT, 10_000, "all " + SILENT + " silent connections pending, got " + n.pendingHandshakes());

    Mailbox box = n.createMailbox("box");
    // The Erlang node times its own connection setup: net_adm:ping/1 connects, handshakes
    // and gets the is_auth answer.
    try (ErlangPeer erl = ErlangPeer.builder().sname(ErlangPeer.uniqueName("prompt")).cookie(COOKIE)
        .eval("{T, R} = timer:tc(net_adm, ping, ['" + n.nodeName() + "']), io:format(\"ping ~p ~p~n\", [R, T div 1000]),"
            + " {box, '" + n.nodeName() + "'} ! {hello, node()}")
        .readyLine("^ping ").readyTimeout(Duration.ofSeconds(30)).start()) {
      Matcher m = erl.awaitMatch("^ping (\\w+) (\\d+)$", Duration.ofSeconds(1));
      long ms = Long.parseLong(m.group(2));
      System.out.printf("pending handshakes: erl connected in %d ms with %d silent connections held%n", ms, SILENT);
      assertEquals("pong", m.group(1));
      assertTrue(ms < 5_000, "the Erlang node needed " + ms + " ms to connect");
      ErlTerm hello = box.receive(10_000);
      assertEquals(ErlTuple.of(ErlAtom.of("hello"), ErlAtom.of(erl.nodeName())), hello);
    }
    // An honest Java peer too, timed from here.
    try (EiNode client = EiNode.builder(ErlangPeer.uniqueName("honest") + "@localhost").cookie(COOKIE)
        .transport(TcpTransport.create()).build()) {
      long start = System.nanoTime();
      try (EiConnection c = client.connect(loopback(n), 5_000)) {
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(c.isOpen());
        assertTrue(ms < 5_000, "a Java peer needed " + ms + " ms to connect");
      }
    }
    // The silent ones are all still waiting (nobody was refused, none timed out). The
    // honest peer's own handshake slot is freed after the node installed its connection,
    // which may be a moment after the peer saw the handshake end.
    await(() -> n.pendingHandshakes() == SILENT, 5_000, "only the " + SILENT + " silent connections pending, got " + n.pendingHandshakes());
    assertEquals(0, n.refusedHandshakes());
  }

  @Test
  void beyondTheCapSilentConnectionsAreParkedWithoutAThreadAndAllTimeOut() throws Exception {
    int cap = 16;
    long handshakeMillis = 4_000;
    Node n = node(cap, handshakeMillis);
    long opened = System.nanoTime();
    List<Socket> held = silent(loopback(n), SILENT);
    // Every newcomer beyond the cap evicts the oldest silent one, whose thread gives up
    // the handshake while its socket stays open (parked): nobody is closed early, so a
    // silent peer has no reason to reconnect.
    await(() -> n.refusedHandshakes() == SILENT - cap, 5_000, (SILENT - cap) + " evicted, got " + n.refusedHandshakes());
    assertEquals(cap, n.pendingHandshakes());
    int closed = 0;
    for (Socket s : held) {
      s.setSoTimeout(5); // a close by the server is already there to read
      if (closedByServer(s)) {
        closed++;
      }
    }
    long elapsed = (System.nanoTime() - opened) / 1_000_000;
    assertTrue(elapsed < handshakeMillis, "the check took " + elapsed + " ms; too slow to tell parked from timed out");
    assertEquals(0, closed, "connections closed before their handshake timeout");

    // The handshake timeout ends the held ones, and the parked ones are closed at most one
    // accept wait (5 s) after theirs.
    await(() -> n.pendingHandshakes() == 0, handshakeMillis + 3_000, "held handshakes timed out");
    for (Socket s : held) {
      s.setSoTimeout((int) handshakeMillis + 8_000);
      assertTrue(closedByServer(s), "a silent connection outlived the handshake timeout");
    }
    try (EiNode client = EiNode.builder(ErlangPeer.uniqueName("after") + "@localhost").cookie(COOKIE)
        .transport(TcpTransport.create()).build();
        EiConnection c = client.connect(loopback(n), 5_000)) {
      assertTrue(c.isOpen());
    }
    assertEquals(SILENT - cap, n.refusedHandshakes());
    System.out.printf("pending handshakes: cap %d, %d parked, all closed after %d ms%n", cap, SILENT - cap, handshakeMillis);
  }

  @Test
  void anHonestPeerTakesTheOnlySlotFromASilentConnection() throws Exception {
    Node n = node(1, 60_000);
    Socket hog = silent(loopback(n), 1).get(0);
    await(() -> n.pendingHandshakes() == 1, 5_000, "the silent connection pending");
    try (EiNode client = EiNode.builder(ErlangPeer.uniqueName("evict") + "@localhost").cookie(COOKIE)
        .transport(TcpTransport.create()).build()) {
      long start = System.nanoTime();
      // The slot is taken: the silent connection is evicted (parked) and the peer gets in.
      try (EiConnection c = client.connect(loopback(n), 5_000)) {
        assertTrue(c.isOpen());
      }
      assertTrue((System.nanoTime() - start) / 1_000_000 < 2_000, "the honest peer waited for the silent one");
      assertEquals(1, n.refusedHandshakes());
      assertTrue(!closedByServer(hog), "a parked connection is left open until its handshake timeout");
    }
  }

  @Test
  void closingAListenerAbortsTheHandshakesItAccepted() throws Exception {
    try (EiNode server = EiNode.builder(ErlangPeer.uniqueName("closing") + "@localhost").cookie(COOKIE)
        .transport(TcpTransport.create()).build()) {
      EiListener l = server.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
      Socket s = silent((InetSocketAddress) l.address(), 1).get(0);
      EiListener.Incoming in = l.acceptSocket(5_000);
      assertEquals(1, l.pendingHandshakes());
      CompletableFuture<EiConnection> hs = CompletableFuture.supplyAsync(() -> {
        try {
          return in.handshake(30_000);
        } catch (IOException e) {
          throw new java.util.concurrent.CompletionException(e);
        }
      });
      Thread.sleep(200);
      long start = System.nanoTime();
      l.close();
      java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class, () -> hs.get(5, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof IOException, "expected an IOException, got " + e.getCause());
      assertTrue((System.nanoTime() - start) / 1_000_000 < 2_000, "the handshake outlived the listener");
      assertEquals(0, l.pendingHandshakes());
      s.setSoTimeout(2_000);
      assertTrue(closedByServer(s));
      assertThrows(IllegalStateException.class, () -> in.handshake(1_000));
      assertThrows(ErrnoException.class, () -> l.acceptSocket(100));
    }
  }
}
