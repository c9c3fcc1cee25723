package io.ei4j.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ei4j.epmd.EpmdClient;
import io.ei4j.node.Node;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.testkit.Thorough;
import io.ei4j.transport.tcp.TcpTransport;
import io.ei4j.transport.unix.UnixTransport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18, "admission without lockout", measured side by side: hundreds of silent and
 * slow-drip unauthenticated sockets ({@link HandshakeAttack}, 127.0.0.1 only, re-opened
 * when closed, for {@code ei4j.attack.seconds}: by default 13, 3 s past the longest
 * handshake timeout of the targets (the cnode-server's 10 s; erl's net_setuptime is 7 s,
 * Node's 5 s), so that every silent attacker is dropped and comes back at least once; 20 under {@code -Pthorough}) attack (a) a real
 * {@code erl -sname} node, (b) an ei4j {@link Node} with its default limits, (c) the
 * samples' {@code cnode-server} as a child process, while an honest Erlang node pings the
 * target every 0.5 s with a fresh connection each time ({@code erlang:disconnect_node/1}
 * between pings); then (d) an ei4j {@link Node} over TLS, pinged by an Erlang node over
 * {@code inet_tls_dist}, and under {@code -Pthorough} (e) an Erlang node over
 * {@code inet_tls_dist} for comparison; and (f) an ei4j {@link Node} and, under
 * {@code -Pthorough}, (g) an Erlang node over AF_UNIX ({@code erl_uds_dist}), attacked on
 * their socket files. Every ping must be
 * {@code pong}, for ei4j as for Erlang over TCP and AF_UNIX; Erlang's TLS node, which lost a
 * ping in one run, is only reported. Each test prints its numbers as {@code admission: ...}.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class AdmissionUnderAttackIT {
  private static final String COOKIE = "admission_cookie";
  private static final int SECONDS = Integer.getInteger("ei4j.attack.seconds", Thorough.pick(13, 20));
  private static final int SILENT = Integer.getInteger("ei4j.attack.silent", 200);
  private static final int DRIP = Integer.getInteger("ei4j.attack.drip", 200);
  private static final Pattern RESULT = Pattern.compile("^result \\{(\\d+),(\\d+),(\\d+)\\}$");

  @BeforeAll
  static void epmd() {
    ErlangPeer.ensureEpmd();
  }

  @Test
  void anErlangNodeAnswersEveryPingUnderAttack() throws Exception {
    String alive = ErlangPeer.uniqueName("target");
    try (ErlangPeer target = ErlangSide.peer(alive, COOKIE).start()) {
      underAttack("erl -sname", target.nodeName(), port(alive));
    }
  }

  @Test
  void anEi4jNodeAnswersEveryPingUnderAttack() throws Exception {
    try (Node n = Node.builder(ErlangPeer.uniqueName("adm") + "@" + ErlangPeer.shortHostName()).cookie(COOKIE)
        .transport(TcpTransport.create()).listen(new InetSocketAddress(0)).build()) {
      underAttack("ei4j Node", n.nodeName(), ((InetSocketAddress) n.listenAddress()).getPort());
      System.out.printf("admission: ei4j Node closed %d connections at maxPendingHandshakes (%d)%n", n.refusedHandshakes(),
          Node.DEFAULT_MAX_PENDING_HANDSHAKES);
    }
  }

  @Test
  void theCnodeServerAnswersEveryPingUnderAttack() throws Exception {
    String alive = ErlangPeer.uniqueName("cadm");
    try (SampleProcess server = SampleProcess.start("cnode-server", "--name", alive, "--cookie", COOKIE,
        "--epmd", "external")) {
      String node = server.awaitReady();
      underAttack("samples cnode-server", node, port(alive));
      // The attack is logged, at WARN, once per kind and address and then summed up.
      server.awaitErr("WARN .*evicted a pending handshake from 127\\.0\\.0\\.1", Duration.ofSeconds(5));
      long warnLines = server.err().stream().filter(l -> l.contains("WARN")).count();
      System.out.printf("admission: samples cnode-server wrote %d WARN lines%n", warnLines);
      assertTrue(warnLines < 20, "the attack was not rate-limited in the log: " + warnLines + " WARN lines");
    }
  }

  /**
   * The TLS comparison with Erlang's {@code inet_tls_dist}, under {@code -Pthorough} only (a
   * minute of erl over TLS). Its figures are printed, not asserted: Erlang's TLS node itself
   * lost one ping of 40 in one run (a 7 s setup time out; its slowest ping took 4.2 s in
   * another), and what ei4j must do is asserted by the test below.
   */
  @Test
  void anErlangTlsNodeUnderTheSameAttackForComparison(@TempDir Path dir) throws Exception {
    assumeTrue(Thorough.enabled(), "the Erlang TLS comparison runs under -Pthorough");
    Path optfile = tlsOptfile(dir);
    String alive = ErlangPeer.uniqueName("ttarget");
    try (ErlangPeer target = ErlangSide.peer(alive, COOKIE)
        .args("-proto_dist", "inet_tls", "-ssl_dist_optfile", optfile.toString()).workDir(dir).start()) {
      int pong = pongsUnderAttack("erl -proto_dist inet_tls", target.nodeName(), loopback(port(alive)),
          honest().args(tlsArgs(optfile)));
      assertTrue(pong > 0, "erl over TLS answered no ping at all under attack");
    }
  }

  @Test
  void anEi4jTlsNodeAnswersEveryTlsPingUnderAttack(@TempDir Path dir) throws Exception {
    Path optfile = tlsOptfile(dir);
    try (Node n = Node.builder(ErlangPeer.uniqueName("tadm") + "@" + ErlangPeer.shortHostName()).cookie(COOKIE)
        .transport(ReadmeExamples.tls(dir)).listen(new InetSocketAddress(0)).build()) {
      underAttack("ei4j Node over TLS", n.nodeName(), ((InetSocketAddress) n.listenAddress()).getPort(),
          tlsArgs(optfile));
    }
  }

  /**
   * AF_UNIX: an ei4j {@link Node} listening on a socket file, pinged by an Erlang node over
   * {@code erl_uds_dist} from the same directory, while the attackers hold that file's
   * socket.
   */
  @Test
  void anEi4jUnixNodeAnswersEveryPingUnderAttack(@TempDir Path dir) throws Exception {
    UnixTransport unix = ReadmeExamples.unix(dir);
    String alive = ErlangPeer.uniqueName("uadm");
    try (Node n = Node.builder(alive + "@localhost").cookie(COOKIE).transport(unix)
        .listen(unix.addressOf(alive + "@localhost")).publish(false).build()) {
      underAttack("ei4j Node over AF_UNIX", n.nodeName(), UnixDomainSocketAddress.of(dir.resolve(alive)),
          honestOverUnix(dir));
    }
  }

  /**
   * The same over AF_UNIX for Erlang, under {@code -Pthorough} only: a node running
   * {@code erl_uds_dist}, pinged by another. Erlang's own node is the comparison, so its
   * figures are reported, not asserted, as for Erlang over TLS: it lost 1 ping of 40 in one
   * run (a pang after 18 ms, not a timeout).
   */
  @Test
  void anErlangUnixNodeUnderTheSameAttackForComparison(@TempDir Path dir) throws Exception {
    assumeTrue(Thorough.enabled(), "the Erlang AF_UNIX comparison runs under -Pthorough");
    String alive = ErlangPeer.uniqueName("utarget");
    try (ErlangPeer target = ErlangSide.peer(alive + "@localhost", COOKIE).codePath(UnixSamplesIT.udsEbin())
        .workDir(dir).args("-proto_dist", "erl_uds", "-no_epmd").start()) {
      int pong = pongsUnderAttack("erl -proto_dist erl_uds", target.nodeName(), UnixDomainSocketAddress.of(dir.resolve(alive)),
          honestOverUnix(dir));
      assertTrue(pong > 0, "erl over erl_uds_dist answered no ping at all under attack");
    }
  }

  /** An honest Erlang peer over {@code erl_uds_dist}, working in {@code dir} (where the socket files are). */
  private static ErlangPeer.Builder honestOverUnix(Path dir) {
    return ErlangSide.peer(ErlangPeer.uniqueName("honest") + "@localhost", COOKIE).codePath(UnixSamplesIT.udsEbin())
        .workDir(dir).args("-proto_dist", "erl_uds", "-no_epmd");
  }

  /** Certificates for the node and the honest peer in {@code dir}, and the optfile erl reads. */
  private static Path tlsOptfile(Path dir) throws Exception {
    TestCertificates.create(dir);
    return Files.writeString(dir.resolve("dist.conf"), TlsSamplesIT.readmeOptfile(dir));
  }

  private static String[] tlsArgs(Path optfile) {
    return new String[] {"-proto_dist", "inet_tls", "-ssl_dist_optfile", optfile.toString()};
  }

  private static int port(String alive) throws Exception {
    return EpmdClient.local().portPlease(alive).orElseThrow(() -> new AssertionError(alive + " is not in EPMD")).port();
  }

  /** Attacks {@code port} while an honest Erlang node pings {@code node}; all pings must be pong. */
  private static void underAttack(String label, String node, int port, String... honestArgs) throws Exception {
    underAttack(label, node, loopback(port), honest().args(honestArgs));
  }

  /** Attacks {@code target} while {@code honest} pings {@code node}; all pings must be pong. */
  private static void underAttack(String label, String node, SocketAddress target, ErlangPeer.Builder honest)
      throws Exception {
    assertEquals(SECONDS * 2, pongsUnderAttack(label, node, target, honest),
        label + ": every honest ping must be pong under attack");
  }

  /** An honest Erlang peer over TCP, or with {@code args} over another distribution. */
  private static ErlangPeer.Builder honest() {
    return ErlangSide.peer(ErlangPeer.uniqueName("honest"), COOKIE);
  }

  private static SocketAddress loopback(int port) {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
  }

  /**
   * Attacks {@code target} while the Erlang node {@code honestPeer} starts pings {@code node}
   * {@code 2 * SECONDS} times; prints the figures and returns how many pings were pong.
   */
  private static int pongsUnderAttack(String label, String node, SocketAddress target, ErlangPeer.Builder honestPeer)
      throws Exception {
    int pings = SECONDS * 2;
    try (ErlangPeer honest = honestPeer.start()) {
      // Before the attack: the honest peer reaches the target.
      assertEquals("result {1,0," , ask(honest, node, 1).substring(0, "result {1,0,".length()), "ping before the attack");
      HandshakeAttack attack = HandshakeAttack.start(target, SILENT, DRIP);
      long opens;
      long closed;
      Matcher m;
      try {
        Thread.sleep(1_000); // let the attackers take every slot
        m = RESULT.matcher(ask(honest, node, pings));
        assertTrue(m.matches());
      } finally {
        attack.close();
        opens = attack.opens();
        closed = attack.closedByServer();
      }
      int pong = Integer.parseInt(m.group(1));
      int pang = Integer.parseInt(m.group(2));
      System.out.printf("admission: %s: %d/%d pings pong (%d pang), slowest %s ms; %d silent + %d dripping attackers"
          + " opened %d connections in %d s, %d closed by the target%n", label, pong, pings, pang, m.group(3), SILENT, DRIP,
          opens, SECONDS, closed);
      return pong;
    }
  }

  /**
   * Has {@code honest} ping {@code node} {@code count} times, 0.5 s apart, each over a
   * fresh connection, and returns its {@code result {Pongs,Pangs,SlowestMs}} line.
   */
  private static String ask(ErlangPeer honest, String node, int count) {
    String loop = "F = fun L(_, 0, Acc) -> Acc; L(T, K, {P, Q, S}) -> {Us, R} = timer:tc(net_adm, ping, [T]),"
        + " erlang:disconnect_node(T), timer:sleep(500), S2 = max(S, Us div 1000),"
        + " L(T, K - 1, case R of pong -> {P + 1, Q, S2}; pang -> {P, Q + 1, S2} end) end,"
        + " F('" + node + "', " + count + ", {0, 0, 0})";
    int before = honest.output().size();
    honest.sendLine("eval " + loop);
    long deadline = System.nanoTime() + Duration.ofSeconds(count * 10L + 30).toNanos();
    while (System.nanoTime() < deadline) {
      List<String> lines = honest.output();
      for (int i = before; i < lines.size(); i++) {
        if (lines.get(i).startsWith("result ")) {
          return lines.get(i);
        }
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError(honest.nodeName() + " did not finish its pings; it printed:\n" + String.join("\n", honest.output()));
  }
}
