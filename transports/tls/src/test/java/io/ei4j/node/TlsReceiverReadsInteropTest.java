package io.ei4j.node;

import static io.ei4j.node.NodeTesting.expect;
import static io.ei4j.term.Terms.atom;
import static io.ei4j.term.Terms.binary;
import static io.ei4j.term.Terms.integer;
import static io.ei4j.term.Terms.tuple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.testkit.pki.TestPki;
import io.ei4j.transport.tls.ErlangTls;
import io.ei4j.transport.tls.TlsConfig;
import io.ei4j.transport.tls.TlsTransport;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Over TLS distribution with a real {@code erl -proto_dist inet_tls}: a receiver waiting in
 * {@link Mailbox#receive} reads the TLS connection its last remote message came through
 * itself, since {@link TlsTransport} has a read wakeup, and a message from elsewhere (a local
 * send) wakes it at once instead of at the end of its read slice. The TCP counterpart, with
 * the rest of the receiver-reads behaviour, is core's {@code ReceiverReadsInteropTest}.
 * In core's package, for {@link Mailbox#readsConnection}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TlsReceiverReadsInteropTest {
  private static final String COOKIE = "tls_receiver_reads_cookie";

  @TempDir static Path dir;
  private static ErlangPeer erl;
  /** Speaks only TLS 1.3 and updates its keys every 64 KiB. */
  private static ErlangPeer erl13;
  private static Node node;
  private Mailbox box;
  private Mailbox other;
  private ExecutorService threads;

  @BeforeAll
  static void start() throws Exception {
    TestPki pki = new TestPki(dir);
    TestPki.Issued ca = pki.ca("receiver-reads-ca");
    Path optfile = ErlangTls.optfile(pki, "erl-receiver-reads", pki.node("erl-receiver-reads", ca), ca, true);
    Path ebin = NodeTesting.compileModules();
    erl = NodeTesting.startPeer(ebin, COOKIE, "-proto_dist", "inet_tls", "-ssl_dist_optfile", optfile.toString());
    Path optfile13 = ErlangTls.optfile(pki, "erl-receiver-reads-13", pki.node("erl-receiver-reads-13", ca), ca, true,
        "{versions,['tlsv1.3']},{key_update_at,65536},");
    erl13 = NodeTesting.startPeer(ebin, COOKIE, "-proto_dist", "inet_tls", "-ssl_dist_optfile", optfile13.toString());
    TestPki.Issued javaCert = pki.node("java-receiver-reads", ca);
    TlsConfig config = TlsConfig.builder().certificate(javaCert.certFile(), javaCert.keyFile())
        .trustedCertificates(ca.certFile()).build();
    node = Node.builder(ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName())
        .cookie(COOKIE).transport(new TlsTransport(config)).build();
  }

  @AfterAll
  static void stop() {
    try {
      if (node != null) {
        node.close();
      }
    } finally {
      if (erl != null) {
        erl.close();
      }
      if (erl13 != null) {
        erl13.close();
      }
    }
  }

  @BeforeEach
  void mailboxes() {
    box = node.createMailbox();
    other = node.createMailbox();
    threads = Executors.newCachedThreadPool();
  }

  @AfterEach
  void closeMailboxes() {
    threads.shutdownNow();
    box.close();
    other.close();
  }

  @Test
  void aMessageFromElsewhereWakesAReceiverThatReadsTheTlsConnection() throws Exception {
    // One round trip with Erlang's echo process, so that box's last message came over TLS.
    box.send("echo", erl.nodeName(), tuple(box.pid(), atom("first")));
    assertEquals(tuple(atom("echo"), atom("first")), expect(box, t -> true, 10_000, "echo reply"));
    ReceiverWakeups.assertLocalSendsWakeTheReader(box, other, threads);
  }

  /**
   * Wakeups over and over, from a thread that sends local messages to a receiver reading a
   * TLS 1.3 connection while large binaries come over it across many key updates: every
   * echo arrives intact and every local message in order, so no wakeup cut a record or a
   * post-handshake message short.
   */
  @Test
  void wakeupsDuringTls13KeyUpdatesLoseNothing() throws Exception {
    AtomicBoolean done = new AtomicBoolean();
    try {
      byte[] big = new byte[200_000];
      new Random(3).nextBytes(big);
      Future<Integer> ticks = threads.submit(() -> {
        int n = 0;
        while (!done.get()) {
          other.send(box.pid(), tuple(atom("tick"), integer(n++)));
          LockSupport.parkNanos(500_000);
        }
        return n;
      });
      for (int i = 0; i < 10; i++) {
        box.send("echo", erl13.nodeName(), tuple(box.pid(), tuple(integer(i), binary(big))));
        ErlTerm echo = expect(box, t -> t instanceof ErlTuple tt && atom("echo").equals(tt.get(0)),
            10_000, "echo " + i);
        assertEquals(tuple(atom("echo"), tuple(integer(i), binary(big))), echo);
      }
      done.set(true);
      int sent = ticks.get(10, TimeUnit.SECONDS);
      assertTrue(sent > 0, "no local message was sent");
      for (int n = 0; n < sent; n++) {
        assertEquals(tuple(atom("tick"), integer(n)), box.receive(10_000));
      }
      assertEquals(0, box.queued());
    } finally {
      done.set(true);
    }
  }
}
