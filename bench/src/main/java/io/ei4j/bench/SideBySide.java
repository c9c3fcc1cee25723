package io.ei4j.bench;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.transport.tcp.TcpTransport;
import io.ei4j.transport.tls.TlsConfig;
import io.ei4j.transport.tls.TlsTransport;
import io.ei4j.transport.unix.UnixTransport;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The side-by-side harness of issue 8: one command that starts a real Erlang node running
 * {@code bench_peer} and measures, in one run and against that node, ei4j (connection
 * level, {@link Ei4jClient}, and process level, {@link NodeClient}), a C ei program
 * compiled here against {@code libei.a}, JInterface (compiled here against the installed
 * {@code OtpErlang.jar}), encon-java 1.6.10 ({@link EnconBench}, issue 21) and a second
 * Erlang node, on the {@link Workload}s, over TCP;
 * then both ei4j APIs and Erlang over TLS ({@code inet_tls_dist}) and over AF_UNIX
 * ({@code erl_uds_dist}). Prints the table (the median of the rounds) and the issue's
 * targets, and writes every run as CSV.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.ei4j.bench.SideBySide \
 *     [--millis 1000] [--rounds 3] [--warmup-ms 300] [--csv side-by-side.csv] [--transports tcp,tls,uds]
 *     [--workloads pingpong,send10,send1k,send1m,flood10] [--clients ei4j,JInterface]
 *     [--server-flags "+sbwt very_long"]
 * </pre>
 *
 * <p>{@code --server-flags} adds emulator flags (split at spaces) to the server node's
 * command line only, the same server for every client: for instance scheduler busy-wait
 * settings, to see how much of a round trip is the server's own wake-up.
 *
 * <p>The system properties {@code ei4j.bench.tls.cipherSuites} and
 * {@code ei4j.bench.tls.protocols} (comma-separated) restrict ei4j's TLS cipher suites and
 * protocol versions, to see what the TLS figures owe to the negotiated suite.
 *
 * <p>Loopback only. Each run is bounded in time ({@code --millis}, after a warm-up of
 * {@code --warmup-ms}) and in count ({@link Workload#max()}); each client runs each
 * workload {@code --rounds} times, the clients taking turns. The cookie is random per run, handed to Erlang through
 * a private {@code $HOME/.erlang.cookie} and to the C and JInterface clients through the
 * environment, never on a command line or in the output. Exits 1 when any run failed.
 */
public final class SideBySide {
  static final List<Workload> WORKLOADS = Workload.ALL;
  static final List<String> CLIENTS = List.of(Report.EI4J, Report.EI4J_RAW, Report.EI4J_NODE, Report.C_EI, Report.JINTERFACE, Report.ENCON,
      Report.ERLANG);
  private static final AtomicInteger UNIQUE = new AtomicInteger();
  /**
   * The newest OTP release encon 1.6.10 can connect to: it knows no DFLAG_HANDSHAKE_23 and
   * only the version-5 handshake, which OTP 25 refuses (the connection is closed during the
   * handshake and encon's connect times out). Against a newer server the harness notes this
   * instead of failing every encon run.
   */
  static final int ENCON_LAST_OTP = 24;
  /** BCJSSE logs every connection at INFO through java.util.logging; the table is what matters here. */
  private static final java.util.logging.Logger BCJSSE_LOG = java.util.logging.Logger.getLogger("org.bouncycastle.jsse");

  private final String cookie;
  private final Path work;
  private final Path home;
  private final Path ebin;
  private final long warmupMillis;
  private final long millis;
  private final List<Workload> workloads;
  private final List<String> clients;
  private final int rounds;
  private final List<String> serverFlags;
  private final Report report = new Report();
  private final String tag = Long.toString(ProcessHandle.current().pid());

  /**
   * A harness working in {@code work} (which it does not delete), running each of
   * {@code workloads} with each of {@code clients} (names from {@link #CLIENTS}) for
   * {@code warmupMillis} untimed, then {@code millis} timed, {@code rounds} times; the
   * table shows the median.
   */
  SideBySide(Path work, long warmupMillis, long millis, int rounds, List<Workload> workloads, List<String> clients)
      throws IOException {
    this(work, warmupMillis, millis, rounds, workloads, clients, List.of());
  }

  /** As above, with {@code serverFlags} added to the server node's {@code erl} command line. */
  SideBySide(Path work, long warmupMillis, long millis, int rounds, List<Workload> workloads, List<String> clients,
      List<String> serverFlags) throws IOException {
    if (rounds < 1) {
      throw new IllegalArgumentException("rounds must be at least 1, got " + rounds);
    }
    this.rounds = rounds;
    this.workloads = List.copyOf(workloads);
    this.clients = List.copyOf(clients);
    this.serverFlags = List.copyOf(serverFlags);
    byte[] b = new byte[16];
    new SecureRandom().nextBytes(b);
    this.cookie = "bench" + HexFormat.of().formatHex(b);
    this.work = work;
    this.home = Files.createDirectories(work.resolve("home"));
    Path cookieFile = home.resolve(".erlang.cookie");
    Files.writeString(cookieFile, cookie, StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(cookieFile, PosixFilePermissions.fromString("r--------"));
    this.ebin = Files.createDirectories(work.resolve("ebin"));
    this.warmupMillis = warmupMillis;
    this.millis = millis;
  }

  /** Runs the harness; see the class comment for the options. */
  public static void main(String[] args) throws Exception {
    BCJSSE_LOG.setLevel(java.util.logging.Level.WARNING);
    long millis = 1000;
    long warmup = 300;
    int rounds = 3;
    Path csv = Path.of("side-by-side.csv");
    List<String> transports = List.of("tcp", "tls", "uds");
    List<Workload> workloads = WORKLOADS;
    List<String> clients = CLIENTS;
    List<String> serverFlags = List.of();
    boolean ceiling = false;
    boolean workloadsGiven = false;
    boolean clientsGiven = false;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--ceiling")) {
        ceiling = true;
        continue;
      }
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--millis" -> millis = Long.parseLong(require(args[i], value));
        case "--rounds" -> rounds = Integer.parseInt(require(args[i], value));
        case "--warmup-ms" -> warmup = Long.parseLong(require(args[i], value));
        case "--csv" -> csv = Path.of(require(args[i], value));
        case "--transports" -> transports = List.of(require(args[i], value).split(","));
        case "--workloads" -> {
          workloads = Stream.of(require(args[i], value).split(",")).map(Workload::byKey).toList();
          workloadsGiven = true;
        }
        case "--clients" -> {
          clients = List.of(require(args[i], value).split(","));
          clientsGiven = true;
        }
        case "--server-flags" -> serverFlags = Stream.of(require(args[i], value).trim().split("\\s+")).filter(f -> !f.isEmpty()).toList();
        default -> {
          System.err.println("usage: SideBySide [--millis N] [--rounds N] [--warmup-ms N] [--csv FILE] [--transports tcp,tls,uds]"
              + " [--workloads pingpong,send10,send1k,send1m,flood10] [--clients ei4j,C ei,JInterface,encon,Erlang]"
              + " [--server-flags \"erl flags\"] [--ceiling]");
          System.exit(2);
        }
      }
      i++;
    }
    if (ceiling) {
      workloads = workloadsGiven ? workloads : Workload.CEILING;
      clients = clientsGiven ? clients : Report.CEILING_CLIENTS;
    }
    String loadBefore = loadAverage();
    Path work = Temp.directory("ei4j-side-by-side");
    SideBySide s = new SideBySide(work, warmup, millis, rounds, workloads, clients, serverFlags);
    long t0 = System.nanoTime();
    s.prepare();
    for (String t : transports) {
      if (ceiling) {
        s.ceiling(t);
        continue;
      }
      switch (t) {
        case "tcp" -> s.tcp();
        case "tls" -> s.tls();
        case "uds" -> s.uds();
        default -> throw new IllegalArgumentException("unknown transport " + t + "; known: tcp, tls, uds");
      }
    }
    System.out.printf("%nMedian of %d rounds of %d ms each (after %d ms of warm-up), per client and workload.%n",
        rounds, millis, warmup);
    System.out.printf("Server node flags: %s.%n", serverFlags.isEmpty() ? "none (erl's defaults)" : String.join(" ", serverFlags));
    if (ceiling) {
      s.report.printCeiling(System.out, transports, workloads);
    } else {
      s.report.print(System.out, transports, workloads, CLIENTS);
      s.report.printCpu(System.out, transports, workloads, CLIENTS);
    }
    s.report.writeCsv(csv);
    System.out.printf("%nLoad average (1, 5, 15 min) before: %s; after: %s; %d processors.%n", loadBefore, loadAverage(),
        Runtime.getRuntime().availableProcessors());
    System.out.printf("%nWrote %s; the run took %d s.%n", csv.toAbsolutePath(), (System.nanoTime() - t0) / 1_000_000_000L);
    boolean failed = s.report.results().stream().anyMatch(m -> m.error() != null);
    System.exit(failed ? 1 : 0);
  }

  /** The first three fields of /proc/loadavg, or "unknown" where there is none. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg"), StandardCharsets.US_ASCII).trim().split("\\s+");
      return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : "unknown";
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static String require(String option, String value) {
    if (value == null) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return value;
  }

  /** Compiles bench_peer.erl, erl_uds_dist.erl, the C client and the JInterface classes. */
  void prepare() throws IOException {
    Path src = Files.createDirectories(work.resolve("src"));
    Path erl = copyResource("bench_peer.erl", src);
    Path uds = src.resolve("erl_uds_dist.erl");
    Files.copy(ErlangInstall.erlUdsDistSource(), uds);
    ErlangInstall.run(List.of(ErlangInstall.executable("erlc").toString(), "-o", ebin.toString(),
        erl.toString(), uds.toString()), 120);
    Path c = copyResource("cbench.c", src);
    Path ei = ErlangInstall.erlInterface();
    ErlangInstall.run(List.of(ErlangInstall.executable("gcc").toString(), "-O2", "-D_REENTRANT",
        "-o", work.resolve("cbench").toString(), c.toString(), "-I" + ei.resolve("include"),
        "-L" + ei.resolve("lib"), "-lei", "-lpthread"), 120);
    Path peer = copyResource("cpeer.c", src);
    ErlangInstall.run(List.of(ErlangInstall.executable("gcc").toString(), "-O2", "-D_REENTRANT",
        "-o", work.resolve("cpeer").toString(), peer.toString(), "-I" + ei.resolve("include"),
        "-L" + ei.resolve("lib"), "-lei", "-lpthread"), 120);
    JInterface.classes();
  }

  private static Path copyResource(String name, Path dir) throws IOException {
    try (InputStream in = SideBySide.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("resource " + name + " is missing from the bench jar");
      }
      Path p = dir.resolve(name);
      Files.write(p, in.readAllBytes());
      return p;
    }
  }

  /** A server node running bench_peer, as the benchmarks outside this harness use it. */
  record Server(ChildProcess process, String nodeName) implements AutoCloseable {
    @Override
    public void close() {
      process.close();
    }
  }

  /**
   * Compiles bench_peer.erl only and starts a TCP server node with it, for a benchmark
   * that needs a real Erlang peer but none of the other clients ({@code SendPathBenchmark}).
   */
  Server erlangServer() throws IOException, InterruptedException {
    Path src = Files.createDirectories(work.resolve("src"));
    Path erl = copyResource("bench_peer.erl", src);
    ErlangInstall.run(List.of(ErlangInstall.executable("erlc").toString(), "-o", ebin.toString(), erl.toString()), 120);
    String alive = unique("benchsrv");
    return new Server(server(alive, List.of(), work), alive + "@localhost");
  }

  /** The random cookie of this harness's nodes. */
  String cookie() {
    return cookie;
  }

  /** What has been measured so far. */
  Report report() {
    return report;
  }

  private String unique(String prefix) {
    return prefix + tag + "_" + UNIQUE.incrementAndGet();
  }

  private Map<String, String> erlEnv() {
    return Map.of("HOME", home.toString());
  }

  /** Starts the server node: bench_peer's echo, sink and flooder. */
  private ChildProcess server(String alive, List<String> distArgs, Path dir) throws InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(ErlangInstall.executable("erl").toString(), "-noshell",
        "-sname", alive + "@localhost", "-pa", ebin.toString()));
    cmd.addAll(serverFlags);
    cmd.addAll(distArgs);
    cmd.addAll(List.of("-eval", "bench_peer:start()"));
    ChildProcess p = ChildProcess.start("erl " + alive, cmd, dir, erlEnv());
    try {
      p.awaitLine(Pattern.compile("^ready "), Duration.ofSeconds(30));
      return p;
    } catch (RuntimeException | InterruptedException e) {
      p.close();
      throw e;
    }
  }

  private Client erlangClient(String server, List<String> distArgs, Path dir) {
    return new ExternalClient(Report.ERLANG, (w, warm, ms) -> {
      List<String> cmd = new ArrayList<>(List.of(ErlangInstall.executable("erl").toString(), "-noshell",
          "-sname", unique("erlb") + "@localhost", "-pa", ebin.toString()));
      cmd.addAll(distArgs);
      List<String> a = ExternalClient.args(w, server, warm, ms);
      StringBuilder list = new StringBuilder();
      for (String s : a) {
        list.append(list.length() == 0 ? "" : ",").append('\'').append(s).append('\'');
      }
      cmd.addAll(List.of("-eval", "bench_peer:client([" + list + "])"));
      return cmd;
    }, dir, erlEnv());
  }

  private Client cClient(String server) {
    return new ExternalClient(Report.C_EI, (w, warm, ms) -> {
      List<String> cmd = new ArrayList<>(List.of(work.resolve("cbench").toString()));
      List<String> a = ExternalClient.args(w, server, warm, ms);
      cmd.add(a.get(0));
      cmd.add(a.get(1));
      cmd.add("-");
      cmd.addAll(a.subList(2, a.size()));
      return cmd;
    }, work, Map.of("EI4J_BENCH_COOKIE", cookie));
  }

  private Client jinterfaceClient(String server) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp = JInterface.childClassPath();
    return new ExternalClient(Report.JINTERFACE, (w, warm, ms) -> {
      List<String> cmd = new ArrayList<>(List.of(java, "-Xmx1g", "-cp", cp, "io.ei4j.bench.jinterface.JInterfaceBench"));
      cmd.addAll(ExternalClient.args(w, server, warm, ms));
      return cmd;
    }, work, Map.of("EI4J_BENCH_COOKIE", cookie));
  }

  /**
   * encon-java in a child JVM on this JVM's own class path (the bench jar holds encon and
   * its netty), as JInterface runs in one: its event loops and EPMD registration stay out of
   * the harness JVM, where the ei4j clients are measured.
   */
  private Client enconClient(String server) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp = ChildProcess.absoluteClassPath();
    return new ExternalClient(Report.ENCON, (w, warm, ms) -> {
      List<String> cmd = new ArrayList<>(List.of(java, "-Xmx1g", "-cp", cp, EnconBench.class.getName()));
      cmd.addAll(ExternalClient.args(w, server, warm, ms));
      return cmd;
    }, work, Map.of("EI4J_BENCH_COOKIE", cookie));
  }

  private Client ei4jClient(SocketCallbacks<?> transport, String server) throws IOException {
    return new Ei4jClient(Report.EI4J, transport, unique("ei4j") + "@localhost", cookie, server, false);
  }

  private Client ei4jRawClient(SocketCallbacks<?> transport, String server) throws IOException {
    return new Ei4jClient(Report.EI4J_RAW, transport, unique("ei4jraw") + "@localhost", cookie, server, true);
  }

  private Client nodeClient(SocketCallbacks<?> transport, String server) throws IOException {
    return new NodeClient(Report.EI4J_NODE, transport, unique("ei4jnode") + "@localhost", cookie, server);
  }

  /**
   * Runs every workload with every client, {@code rounds} times: for each workload the
   * clients take turns, round after round, so that a burst of load on the machine falls
   * on all of them rather than on one. Records failures; a server node that is gone fails
   * what is left.
   */
  private void measure(String transport, List<Client> clients, ChildProcess server) {
    measure(transport, clients, List.of(server));
  }

  /** As above, with every process in {@code servers} required to be alive. */
  private void measure(String transport, List<Client> clients, List<ChildProcess> servers) {
    for (Workload w : workloads) {
      for (int round = 1; round <= rounds; round++) {
        for (Client c : clients) {
          if (!this.clients.contains(c.name())) {
            continue;
          }
          ChildProcess gone = servers.stream().filter(p -> !p.isAlive()).findFirst().orElse(null);
          if (gone != null) {
            report.add(Measurement.failed(transport, w, c.name(), "a server exited:\n" + gone.output()).inRound(round));
            continue;
          }
          System.out.printf("%-4s %-20s %-10s round %d ", transport, w.id(), c.name(), round);
          System.out.flush();
          Measurement m;
          try {
            m = c.run(transport, w, warmupMillis, millis);
            System.out.printf("%12s %s%n", Report.number(m.figure()), w.throughputInMegabytes() ? "MB/s" : "op/s");
          } catch (Exception e) {
            m = Measurement.failed(transport, w, c.name(), String.valueOf(e.getMessage()));
            System.out.println("FAILED: " + e);
          }
          report.add(m.inRound(round));
        }
      }
    }
  }

  private void closeAll(List<Client> clients) {
    for (Client c : clients) {
      c.close();
    }
  }

  void tcp() throws Exception {
    String alive = unique("benchtcp");
    String server = alive + "@localhost";
    try (ChildProcess erl = server(alive, List.of(), work)) {
      List<Client> clients = new ArrayList<>();
      try {
        clients.add(ei4jClient(TcpTransport.create(), server));
        clients.add(ei4jRawClient(TcpTransport.create(), server));
        clients.add(nodeClient(TcpTransport.create(), server));
        clients.add(cClient(server));
        clients.add(jinterfaceClient(server));
        if (ENCON_LAST_OTP >= ErlangInstall.otpRelease()) {
          clients.add(enconClient(server));
        } else if (this.clients.contains(Report.ENCON)) {
          report.note("encon not run: encon 1.6.10 only speaks the version-5 handshake without DFLAG_HANDSHAKE_23,"
              + " which OTP " + ErlangInstall.otpRelease() + " requires (mandatory since OTP 25); OTP "
              + ENCON_LAST_OTP + " is the last release it can connect to (EnconCodec still runs in CodecBenchmark).");
        }
        clients.add(erlangClient(server, List.of(), work));
        measure("tcp", clients, erl);
      } finally {
        closeAll(clients);
      }
    }
  }

  /** Certificates and options for one TLS run: Erlang's dist arguments and ei4j's Java side. */
  private record TlsSetup(List<String> dist, Pki.Issued javaCert, Path caFile, TlsConfig.Builder config) {}

  private TlsSetup tlsSetup(String name) throws Exception {
    Path dir = Files.createDirectories(work.resolve(name));
    Pki pki = new Pki(dir);
    String host = InetAddress.getLocalHost().getHostName();
    int dot = host.indexOf('.');
    String shortHost = dot > 0 ? host.substring(0, dot) : host;
    Pki.Issued erlCert = pki.node("erl", shortHost);
    Pki.Issued javaCert = pki.node("java", shortHost);
    List<String> dist = List.of("-proto_dist", "inet_tls", "-ssl_dist_optfile", pki.optfile("erl", erlCert).toString());
    TlsConfig.Builder config = TlsConfig.builder()
        .certificate(javaCert.certFile(), javaCert.keyFile()).trustedCertificates(pki.ca().certFile());
    return new TlsSetup(dist, javaCert, pki.ca().certFile(), config);
  }

  void tls() throws Exception {
    TlsSetup setup = tlsSetup("tls");
    List<String> dist = setup.dist();
    TlsConfig.Builder config = setup.config();
    String suites = System.getProperty("ei4j.bench.tls.cipherSuites");
    if (suites != null) {
      // for experiments: which suite the TLS figures depend on (ChaCha20 vs AES-GCM)
      config.cipherSuites(suites.split(","));
    }
    String protocols = System.getProperty("ei4j.bench.tls.protocols");
    if (protocols != null) {
      config.protocols(protocols.split(","));
    }
    TlsTransport transport = new TlsTransport(config.build());
    String alive = unique("benchtls");
    String server = alive + "@localhost";
    try (ChildProcess erl = server(alive, dist, work)) {
      List<Client> clients = new ArrayList<>();
      try {
        clients.add(ei4jClient(transport, server));
        clients.add(nodeClient(transport, server));
        clients.add(erlangClient(server, dist, work));
        measure("tls", clients, erl);
      } finally {
        closeAll(clients);
      }
    }
  }

  /**
   * The library's own ceiling (issue 21) over {@code transport}: the same workloads between
   * two ei4j nodes in two JVMs (an {@link Ei4jPeer} child JVM, the clients here) and in
   * one JVM (an {@link Ei4jPeer} here), between two C nodes ({@code cbench} against
   * {@code cpeer}, TCP only: erl_interface has no TLS or AF_UNIX distribution), and between
   * two Erlang nodes (bench_peer). Every server is started first and idles while the others
   * are measured; the clients take turns round after round, as in the side-by-side.
   */
  void ceiling(String transport) throws Exception {
    Path dir = Files.createDirectories(work.resolve("ceiling-" + transport));
    List<String> dist;
    List<String> peerArgs;
    java.util.function.Supplier<SocketCallbacks<?>> callbacks;
    java.util.function.Function<String, java.net.SocketAddress> listen;
    switch (transport) {
      case "tcp" -> {
        dist = List.of();
        peerArgs = List.of("tcp");
        callbacks = TcpTransport::create;
        listen = n -> new java.net.InetSocketAddress("127.0.0.1", 0);
      }
      case "tls" -> {
        TlsSetup setup = tlsSetup("ceiling-tls-pki");
        dist = setup.dist();
        peerArgs = List.of("tls", setup.javaCert().certFile().toString(), setup.javaCert().keyFile().toString(),
            setup.caFile().toString());
        TlsTransport tls = new TlsTransport(setup.config().build());
        callbacks = () -> tls;
        listen = n -> new java.net.InetSocketAddress("127.0.0.1", 0);
      }
      case "uds" -> {
        dist = List.of("-proto_dist", "erl_uds", "-no_epmd");
        peerArgs = List.of("uds", dir.toString());
        callbacks = () -> UnixTransport.builder().directory(dir).build();
        listen = n -> UnixTransport.builder().directory(dir).build().addressOf(n);
      }
      default -> throw new IllegalArgumentException("unknown transport " + transport + "; known: tcp, tls, uds");
    }
    List<ChildProcess> servers = new ArrayList<>();
    List<Client> clients = new ArrayList<>();
    Ei4jPeer inJvm = null;
    try {
      String erlAlive = unique("ceilerl");
      servers.add(server(erlAlive, dist, dir));
      String javaPeer = unique("ceiljava") + "@localhost";
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      List<String> cmd = new ArrayList<>(List.of(java, "-Xmx2g", "-cp", ChildProcess.absoluteClassPath(),
          Ei4jPeer.class.getName(), javaPeer));
      cmd.addAll(peerArgs);
      ChildProcess peer = ChildProcess.start("ei4j peer", cmd, dir, Map.of("EI4J_BENCH_COOKIE", cookie));
      servers.add(peer);
      peer.awaitLine(Pattern.compile("^ready "), Duration.ofSeconds(60));
      String localPeer = unique("ceillocal") + "@localhost";
      inJvm = new Ei4jPeer(localPeer, cookie, callbacks.get(), listen.apply(localPeer));
      if (this.clients.contains(Report.EI4J_2JVM)) {
        clients.add(new Ei4jClient(Report.EI4J_2JVM, callbacks.get(), unique("cei4j") + "@localhost", cookie, javaPeer, false));
      }
      if (this.clients.contains(Report.NODE_2JVM)) {
        clients.add(new NodeClient(Report.NODE_2JVM, callbacks.get(), unique("cnode") + "@localhost", cookie, javaPeer));
      }
      if (this.clients.contains(Report.EI4J_1JVM)) {
        clients.add(new Ei4jClient(Report.EI4J_1JVM, callbacks.get(), unique("cei4j") + "@localhost", cookie, localPeer, false));
      }
      if (this.clients.contains(Report.NODE_1JVM)) {
        clients.add(new NodeClient(Report.NODE_1JVM, callbacks.get(), unique("cnode") + "@localhost", cookie, localPeer));
      }
      if (transport.equals("tcp") && this.clients.contains(Report.C_EI)) {
        String cAlive = unique("ceilc");
        ChildProcess c = ChildProcess.start("cpeer", List.of(work.resolve("cpeer").toString(), cAlive), work,
            Map.of("EI4J_BENCH_COOKIE", cookie));
        servers.add(c);
        c.awaitLine(Pattern.compile("^ready "), Duration.ofSeconds(30));
        clients.add(cClient(cAlive + "@localhost"));
      }
      clients.add(erlangClient(erlAlive + "@localhost", dist, dir));
      measure(transport, clients, servers);
    } finally {
      closeAll(clients);
      if (inJvm != null) {
        inJvm.close();
      }
      for (ChildProcess p : servers) {
        p.close();
      }
    }
  }

  void uds() throws Exception {
    Path dir = Files.createDirectories(work.resolve("uds"));
    List<String> dist = List.of("-proto_dist", "erl_uds", "-no_epmd");
    String alive = unique("benchuds");
    String server = alive + "@localhost";
    try (ChildProcess erl = server(alive, dist, dir)) {
      List<Client> clients = new ArrayList<>();
      try {
        clients.add(ei4jClient(UnixTransport.builder().directory(dir).build(), server));
        clients.add(nodeClient(UnixTransport.builder().directory(dir).build(), server));
        clients.add(erlangClient(server, dist, dir));
        measure("uds", clients, erl);
      } finally {
        closeAll(clients);
      }
    }
  }
}
