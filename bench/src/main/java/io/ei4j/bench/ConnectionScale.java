package io.ei4j.bench;

import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermEncoder;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scale in connections (issue 21): opens 100, 1,000 and 5,000 concurrent distribution
 * connections on 127.0.0.1 to one ei4j {@link io.ei4j.node.Node} ({@link Ei4jPeer} in a
 * child JVM, a fresh one per level), puts a light load on them (each peer one ping-pong
 * with the node's {@code echo} mailbox per {@code --interval-ms}, spread evenly), and
 * reports the server's threads, heap (used after a GC) and resident size, and the round
 * trip p50/p99/max. It only measures.
 *
 * <p>The peers are a minimal distribution client written here, not ei4j, so that their
 * cost does not swamp the client JVM: each connection does the version-6 handshake on one
 * of a few connector threads (so that at most that many handshakes are pending at the
 * server, below its {@code maxPendingHandshakes} of 64), then all of them share one
 * selector thread that sends {@code REG_SEND} frames to {@code echo} carrying
 * {@code {SelfPid, <<T0:64>>}} and times the echoed binary. Ticks from the server are
 * ignored (the pings are traffic enough to keep each connection up).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.ei4j.bench.ConnectionScale \
 *     [--connections 100,1000,5000] [--seconds 20] [--warmup-seconds 5] [--interval-ms 1000]
 *     [--server-jvm-args "-Xmx2g"] [--csv scale.csv]
 * </pre>
 *
 * Bounded: connecting a level may take at most {@code 60 s + 20 ms per connection}, then
 * the load runs for warm-up plus {@code --seconds}; everything is closed and the server JVM
 * stopped before the next level. Needs {@code ulimit -n} above the largest level plus some
 * slack in both JVMs (checked before each level from /proc/self/limits) and loopback
 * ephemeral ports (28,000 on a default Linux). Exits 1 when a level could not open all its
 * connections or lost replies.
 */
public final class ConnectionScale {
  /** What a peer advertises: OTP 26's mandatory set (as ei4j and OTP 25/26 peers require). */
  static final long FLAGS = 0x4L | 0x10L | 0x80L | 0x100L | 0x200L | 0x400L | 0x800L | 0x10000L | 0x20000L
      | 0x40000L | 0x1000000L | 0x2000000L | (1L << 34);
  private static final int CONNECTORS = 16;
  /** Attempts per connection: the node refuses handshakes beyond its maxPendingHandshakes, and the peer retries. */
  private static final int MAX_ATTEMPTS = 20;
  private static final SecureRandom RANDOM = new SecureRandom();

  /** One level's outcome. */
  record Result(int connections, int connected, int failed, int retries, double connectSeconds, long threadsIdle, long threads,
      long heapBytes, long rssBytes, long pings, long replies, double p50Millis, double p99Millis, double maxMillis,
      String error) {}

  private ConnectionScale() {}

  public static void main(String[] args) throws Exception {
    List<Integer> levels = List.of(100, 1_000, 5_000);
    long seconds = 20;
    long warmupSeconds = 5;
    long intervalMillis = 1_000;
    List<String> serverJvmArgs = List.of("-Xmx2g");
    Path csv = Path.of("connection-scale.csv");
    for (int i = 0; i + 1 < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--connections" -> levels = Arrays.stream(v.split(",")).map(Integer::valueOf).toList();
        case "--seconds" -> seconds = Long.parseLong(v);
        case "--warmup-seconds" -> warmupSeconds = Long.parseLong(v);
        case "--interval-ms" -> intervalMillis = Long.parseLong(v);
        case "--server-jvm-args" -> serverJvmArgs = Arrays.stream(v.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
        case "--csv" -> csv = Path.of(v);
        default -> {
          System.err.println("usage: ConnectionScale [--connections 100,1000,5000] [--seconds 20] [--warmup-seconds 5]"
              + " [--interval-ms 1000] [--server-jvm-args \"-Xmx2g\"] [--csv FILE]");
          System.exit(2);
        }
      }
    }
    if (args.length % 2 != 0) {
      System.err.println("every option takes a value");
      System.exit(2);
    }
    String loadBefore = SideBySide.loadAverage();
    Path work = Temp.directory("ei4j-connection-scale");
    List<Result> results = new ArrayList<>();
    for (int n : levels) {
      System.out.printf(Locale.ROOT, "%,d connections: ", n);
      System.out.flush();
      Result r = level(work, n, warmupSeconds, seconds, intervalMillis, serverJvmArgs);
      results.add(r);
      System.out.println(r.error() == null ? "done" : "FAILED: " + r.error());
    }
    System.out.println();
    System.out.println(table(results, intervalMillis));
    System.out.printf("Load average (1, 5, 15 min) before: %s; after: %s; %d processors.%n", loadBefore,
        SideBySide.loadAverage(), Runtime.getRuntime().availableProcessors());
    Files.writeString(csv, csv(results), StandardCharsets.UTF_8);
    System.out.println("Wrote " + csv.toAbsolutePath());
    System.exit(results.stream().allMatch(r -> r.error() == null) ? 0 : 1);
  }

  static String table(List<Result> results, long intervalMillis) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "Light load: one ping-pong per connection every %d ms. Server: one ei4j Node (TCP) in its own JVM.%n",
        intervalMillis));
    String h = String.format(Locale.ROOT, "%11s %9s %6s %7s %9s %12s %14s %11s %10s %9s %9s %9s %9s %9s",
        "connections", "connected", "failed", "retries", "connect_s", "threads_idle", "server_threads", "heap_MB", "rss_MB",
        "pings", "replies", "p50_ms", "p99_ms", "max_ms");
    sb.append(h).append('\n').append("-".repeat(h.length())).append('\n');
    for (Result r : results) {
      sb.append(String.format(Locale.ROOT, "%,11d %,9d %,6d %,7d %9.1f %,12d %,14d %,11.1f %,10.1f %,9d %,9d %9.2f %9.2f %9.2f%n",
          r.connections(), r.connected(), r.failed(), r.retries(), r.connectSeconds(), r.threadsIdle(), r.threads(),
          r.heapBytes() / 1e6, r.rssBytes() / 1e6, r.pings(), r.replies(), r.p50Millis(), r.p99Millis(), r.maxMillis()));
    }
    sb.append("Target (issue 21): 5,000 connections with p99 < 50 ms: ");
    Result five = results.stream().filter(r -> r.connections() == 5_000).findFirst().orElse(null);
    sb.append(five == null ? "not measured" : five.error() == null && five.connected() == 5_000 && five.p99Millis() < 50 ? "met" : "MISSED");
    sb.append('\n');
    for (Result r : results) {
      if (r.error() != null) {
        sb.append(String.format(Locale.ROOT, "%,d connections failed: %s%n", r.connections(), r.error()));
      }
    }
    return sb.toString();
  }

  static String csv(List<Result> results) {
    StringBuilder sb = new StringBuilder("connections,connected,failed,retries,connect_s,threads_idle,server_threads,heap_bytes,rss_bytes,"
        + "pings,replies,p50_ms,p99_ms,max_ms,error\n");
    for (Result r : results) {
      sb.append(String.format(Locale.ROOT, "%d,%d,%d,%d,%.2f,%d,%d,%d,%d,%d,%d,%.3f,%.3f,%.3f,%s%n", r.connections(), r.connected(),
          r.failed(), r.retries(), r.connectSeconds(), r.threadsIdle(), r.threads(), r.heapBytes(), r.rssBytes(), r.pings(), r.replies(),
          r.p50Millis(), r.p99Millis(), r.maxMillis(), r.error() == null ? "" : '"' + r.error().replace('"', '\'') + '"'));
    }
    return sb.toString();
  }

  /** The soft limit on open files of this process, or -1 when /proc does not say. */
  static long openFileLimit() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          String[] f = line.substring("Max open files".length()).trim().split("\\s+");
          return f[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(f[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return -1;
  }

  static Result level(Path work, int n, long warmupSeconds, long seconds, long intervalMillis,
      List<String> serverJvmArgs) throws Exception {
    long limit = openFileLimit();
    if (limit >= 0 && limit < n + 200L) {
      return failed(n, "ulimit -n is " + limit + ", below " + n + " connections plus 200 for the JVM; raise it");
    }
    byte[] c = new byte[16];
    RANDOM.nextBytes(c);
    String cookie = "scale" + HexFormat.of().formatHex(c);
    String tag = ProcessHandle.current().pid() + "_" + n;
    String serverName = "scalesrv" + tag + "@localhost";
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java));
    cmd.addAll(serverJvmArgs);
    cmd.addAll(List.of("-cp", ChildProcess.absoluteClassPath(), Ei4jPeer.class.getName(), serverName, "tcp"));
    try (ChildProcess server = ChildProcess.start("ei4j server", cmd, work, Map.of("EI4J_BENCH_COOKIE", cookie))) {
      Matcher ready = Pattern.compile("^ready (\\S+) (\\d+)$").matcher(
          server.awaitLine(Pattern.compile("^ready \\S+ \\d+$"), Duration.ofSeconds(60)));
      if (!ready.find()) {
        return failed(n, "unreadable ready line");
      }
      InetSocketAddress address = new InetSocketAddress("127.0.0.1", Integer.parseInt(ready.group(2)));
      try (EiNode statsNode = EiNode.builder("scalestats" + tag + "@localhost").cookie(cookie).transport(TcpTransport.create()).build();
          EiConnection stats = statsNode.connect(serverName, 15_000);
          Load load = new Load(n, intervalMillis)) {
        long[] idle = stats(stats);
        long t0 = System.nanoTime();
        int failed = load.connect(address, "scale" + tag, cookie, Duration.ofSeconds(60 + n / 50));
        double connectSeconds = (System.nanoTime() - t0) / 1e9;
        if (load.size() == 0) {
          return failed(n, "no connection succeeded: " + load.firstError());
        }
        try {
          load.run(Duration.ofSeconds(warmupSeconds), Duration.ofSeconds(seconds));
        } catch (IOException e) {
          return failed(n, "under load: " + e.getMessage() + serverTail(server));
        }
        long[] s = stats(stats);
        long[] rtt = load.samples();
        Arrays.sort(rtt);
        String error = failed > 0 ? failed + " connections failed: " + load.firstError() + serverTail(server)
            : load.lost() > 0 ? load.lost() + " pings unanswered" : !server.isAlive() ? "the server exited" : null;
        return new Result(n, load.size(), failed, load.retries(), connectSeconds, idle[0], s[0], s[1], s[2], load.pings(), load.replies(),
            percentile(rtt, 0.50), percentile(rtt, 0.99), rtt.length == 0 ? Double.NaN : rtt[rtt.length - 1] / 1e6, error);
      }
    }
  }

  /** The server's last few output lines (it logs why it refused or dropped connections), for a failure message. */
  private static String serverTail(ChildProcess server) {
    List<String> lines = server.output().lines().filter(l -> !l.isBlank()).toList();
    List<String> tail = lines.subList(Math.max(0, lines.size() - 8), lines.size());
    return tail.isEmpty() ? "" : "; the server's last output:\n    " + String.join("\n    ", tail);
  }

  private static Result failed(int n, String error) {
    return new Result(n, 0, n, 0, 0, 0, 0, 0, 0, 0, 0, Double.NaN, Double.NaN, Double.NaN, error);
  }

  /** {threads, heap bytes, rss bytes} from the server's stats mailbox. */
  private static long[] stats(EiConnection c) throws IOException {
    c.regSend(c.self(), "stats", c.self());
    EiMessage m = c.receive(30_000);
    if (m instanceof EiMessage.Send s && s.message() instanceof ErlTuple t && t.arity() == 3) {
      return new long[] {((ErlInteger) t.get(0)).longValue(), ((ErlInteger) t.get(1)).longValue(), ((ErlInteger) t.get(2)).longValue()};
    }
    throw new IOException("unexpected stats reply " + m);
  }

  static double percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
    return sorted[i] / 1e6;
  }

  /** MD5 of the cookie followed by the challenge as an unsigned decimal: the handshake's digest. */
  static byte[] digest(String cookie, int challenge) {
    try {
      MessageDigest md5 = MessageDigest.getInstance("MD5");
      md5.update(cookie.getBytes(StandardCharsets.ISO_8859_1));
      md5.update(Integer.toUnsignedString(challenge).getBytes(StandardCharsets.US_ASCII));
      return md5.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no MD5", e);
    }
  }

  /**
   * The initiating side of the version-6 handshake on a blocking socket: send_name,
   * status, challenge, challenge_reply, challenge_ack (checked).
   */
  static void handshake(Socket s, String ourName, String cookie) throws IOException {
    DataOutputStream out = new DataOutputStream(s.getOutputStream());
    DataInputStream in = new DataInputStream(s.getInputStream());
    byte[] name = ourName.getBytes(StandardCharsets.US_ASCII);
    out.writeShort(1 + 8 + 4 + 2 + name.length);
    out.writeByte('N');
    out.writeLong(FLAGS);
    out.writeInt(1);
    out.writeShort(name.length);
    out.write(name);
    out.flush();
    byte[] status = in.readNBytes(in.readUnsignedShort());
    String st = new String(status, StandardCharsets.US_ASCII);
    if (!st.startsWith("sok")) {
      throw new IOException("handshake status " + st);
    }
    byte[] challenge = in.readNBytes(in.readUnsignedShort());
    if (challenge.length < 1 + 8 + 4 + 4 + 2 || challenge[0] != 'N') {
      throw new IOException("expected a version-6 challenge, got " + challenge.length + " bytes");
    }
    int theirs = ByteBuffer.wrap(challenge, 9, 4).getInt();
    int ours = RANDOM.nextInt();
    out.writeShort(1 + 4 + 16);
    out.writeByte('r');
    out.writeInt(ours);
    out.write(digest(cookie, theirs));
    out.flush();
    byte[] ack = in.readNBytes(in.readUnsignedShort());
    if (ack.length != 17 || ack[0] != 'a' || !Arrays.equals(Arrays.copyOfRange(ack, 1, 17), digest(cookie, ours))) {
      throw new IOException("bad challenge ack");
    }
  }

  /** The peers: their connections, the one selector thread that drives them, the round-trip samples. */
  static final class Load implements AutoCloseable {
    private final int wanted;
    private final long intervalNanos;
    private final List<Peer> peers = new ArrayList<>();
    private final AtomicInteger failures = new AtomicInteger();
    private final AtomicInteger retries = new AtomicInteger();
    private volatile String firstError;
    private long[] samples = new long[1 << 16];
    private int sampleCount;
    private long recordedPings;

    Load(int wanted, long intervalMillis) {
      this.wanted = wanted;
      this.intervalNanos = intervalMillis * 1_000_000L;
    }

    /** Opens the connections on {@link #CONNECTORS} threads; returns how many failed. */
    int connect(InetSocketAddress address, String namePrefix, String cookie, Duration budget) throws InterruptedException {
      ExecutorService pool = Executors.newFixedThreadPool(CONNECTORS);
      long deadline = System.nanoTime() + budget.toNanos();
      List<Future<Peer>> futures = new ArrayList<>();
      for (int i = 0; i < wanted; i++) {
        String name = namePrefix + "_" + i + "@localhost";
        futures.add(pool.submit(() -> {
          for (int attempt = 1; ; attempt++) {
            if (System.nanoTime() > deadline) {
              throw new IOException("out of time to connect");
            }
            SocketChannel ch = SocketChannel.open();
            try {
              Socket s = ch.socket();
              s.setTcpNoDelay(true);
              s.setSoTimeout(15_000);
              s.connect(address, 15_000);
              handshake(s, name, cookie);
              ch.configureBlocking(false);
              return new Peer(ch, name);
            } catch (IOException e) {
              ch.close();
              // The node closes a socket at once when maxPendingHandshakes handshakes are under
              // way (its own installs lag behind our acks under load): retry, as its doc invites.
              if (attempt >= MAX_ATTEMPTS) {
                throw new IOException("after " + attempt + " attempts: " + e, e);
              }
              retries.incrementAndGet();
              Thread.sleep(Math.min(1_000, 20L << Math.min(attempt, 5)));
            } catch (RuntimeException e) {
              ch.close();
              throw e;
            }
          }
        }));
      }
      pool.shutdown();
      for (Future<Peer> f : futures) {
        try {
          peers.add(f.get(Math.max(1, deadline - System.nanoTime()) + 30_000_000_000L, TimeUnit.NANOSECONDS));
        } catch (Exception e) {
          failures.incrementAndGet();
          if (firstError == null) {
            firstError = String.valueOf(e.getCause() == null ? e : e.getCause());
          }
          f.cancel(true);
        }
      }
      pool.shutdownNow();
      return failures.get();
    }

    int size() {
      return peers.size();
    }

    /** Connection attempts that were closed by the node and retried. */
    int retries() {
      return retries.get();
    }

    String firstError() {
      return firstError;
    }

    /** Pings sent in the measured window. */
    long pings() {
      return recordedPings;
    }

    /** Replies to the pings of the measured window. */
    long replies() {
      return sampleCount;
    }

    /** Pings recorded in the measured window that got no reply by the end. */
    long lost() {
      return Math.max(0, recordedPings - sampleCount);
    }

    long[] samples() {
      return Arrays.copyOf(samples, sampleCount);
    }

    /**
     * Drives every connection from this thread for {@code warmup + measure}: each peer
     * sends one ping per interval, peer i at offset i/N of the interval; replies to pings
     * sent in the measured window are recorded. Waits up to 5 s more for the last replies.
     */
    void run(Duration warmup, Duration measure) throws IOException {
      try (Selector selector = Selector.open()) {
        for (Peer p : peers) {
          p.channel.register(selector, SelectionKey.OP_READ, p);
        }
        int n = peers.size();
        long start = System.nanoTime();
        long recordFrom = start + warmup.toNanos();
        long stopSending = recordFrom + measure.toNanos();
        long hardStop = stopSending + 5_000_000_000L;
        long[] next = new long[n];
        for (int i = 0; i < n; i++) {
          next[i] = start + intervalNanos * i / n;
        }
        int ptr = 0;
        while (true) {
          long now = System.nanoTime();
          if (now >= hardStop || (now >= stopSending && sampleCount >= recordedPings)) {
            break;
          }
          while (now < stopSending && next[ptr] <= now) {
            Peer p = peers.get(ptr);
            long t = System.nanoTime();
            p.ping(t);
            if (t >= recordFrom) {
              recordedPings++;
            }
            next[ptr] += intervalNanos;
            ptr = (ptr + 1) % n;
          }
          selector.select(1);
          for (SelectionKey k : selector.selectedKeys()) {
            Peer p = (Peer) k.attachment();
            p.read(System.nanoTime(), recordFrom, this);
          }
          selector.selectedKeys().clear();
        }
      }
    }

    void record(long rttNanos) {
      if (sampleCount == samples.length) {
        samples = Arrays.copyOf(samples, samples.length * 2);
      }
      samples[sampleCount++] = rttNanos;
    }

    @Override
    public void close() {
      for (Peer p : peers) {
        try {
          p.channel.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
    }
  }

  /** One connection: its ping frame (the last 8 bytes are the send time) and its read buffer. */
  static final class Peer {
    final SocketChannel channel;
    private final ByteBuffer frame;
    private ByteBuffer in = ByteBuffer.allocate(512);

    Peer(SocketChannel channel, String name) {
      this.channel = channel;
      ErlPid self = ErlPid.of(ErlAtom.of(name), 1, 0, 1);
      byte[] control = TermEncoder.toBytes(ErlTuple.of(ErlInteger.of(6), self, ErlAtom.of(""), ErlAtom.of("echo")));
      byte[] message = TermEncoder.toBytes(ErlTuple.of(self, ErlBinary.of(new byte[8])));
      frame = ByteBuffer.allocate(4 + 1 + control.length + message.length);
      frame.putInt(1 + control.length + message.length).put((byte) 'p').put(control).put(message);
    }

    void ping(long t) throws IOException {
      frame.putLong(frame.capacity() - 8, t);
      frame.clear();
      while (frame.hasRemaining()) {
        if (channel.write(frame) == 0) {
          Thread.onSpinWait();
        }
      }
    }

    /** Reads what is there; every whole frame that ends in an 8-byte binary is a reply. */
    void read(long now, long recordFrom, Load load) throws IOException {
      int r = channel.read(in);
      if (r < 0) {
        throw new IOException("the server closed a connection");
      }
      in.flip();
      while (in.remaining() >= 4) {
        int len = in.getInt(in.position());
        if (len < 0 || len > 1 << 20) {
          throw new IOException("bad frame length " + len);
        }
        if (in.remaining() < 4 + len) {
          break;
        }
        int end = in.position() + 4 + len;
        if (len >= 14 && in.get(end - 13) == 109 && in.getInt(end - 12) == 8) {
          long t = in.getLong(end - 8);
          if (t >= recordFrom) {
            load.record(now - t);
          }
        }
        in.position(end);
      }
      in.compact();
      if (!in.hasRemaining()) {
        in = ByteBuffer.allocate(in.capacity() * 2).put(in.flip());
      }
    }
  }
}
