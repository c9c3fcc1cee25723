package io.ei4j.bench;

import static io.appulse.encon.terms.Erlang.atom;
import static io.appulse.encon.terms.Erlang.binary;
import static io.appulse.encon.terms.Erlang.number;
import static io.appulse.encon.terms.Erlang.tuple;

import io.appulse.encon.Node;
import io.appulse.encon.Nodes;
import io.appulse.encon.config.NodeConfig;
import io.appulse.encon.connection.regular.Message;
import io.appulse.encon.mailbox.Mailbox;
import io.appulse.encon.terms.ErlangTerm;
import io.appulse.encon.terms.type.ErlangAtom;
import io.appulse.encon.terms.type.ErlangPid;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The encon-java client of the side-by-side harness (issue 21), run by the harness as a
 * child JVM, as the JInterface client is: encon starts netty event loops and registers
 * with EPMD, which would otherwise run inside the harness JVM beside the ei4j clients.
 * Arguments and output match {@code cbench.c} and {@code JInterfaceBench}:
 *
 * <pre>MODE SERVER_NODE WARMUP_MS MILLIS SIZE MAX</pre>
 *
 * with the cookie in the environment variable {@code EI4J_BENCH_COOKIE}. Sends with
 * {@code Mailbox.send(node, name, term)} (encon's analogue of {@code OtpMbox.send}),
 * receives with {@code Mailbox.receive(timeout)}. Prints
 * {@code RESULT Count Nanos Bytes CpuNanos} (CPU time of this process over the timed run)
 * and exits 0, or exits 1 with the failure on standard error.
 */
public final class EnconBench {
  private static final ErlangAtom HELLO = atom("hello");
  private static final ErlangAtom SEQ = atom("seq");
  private static final ErlangAtom DONE = atom("done");
  private static final ErlangAtom COUNT = atom("count");
  private static final ErlangAtom FLOOD = atom("flood");
  private static final ErlangAtom FLOOD_DONE = atom("flood_done");
  private static final long RECEIVE_TIMEOUT = 30_000;

  private final Mailbox mbox;
  private final ErlangPid self;
  private final String server;

  private EnconBench(Mailbox mbox, String server) {
    this.mbox = mbox;
    this.self = mbox.getPid();
    this.server = server;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 6) {
      System.err.println("usage: EnconBench MODE SERVER_NODE WARMUP_MS MILLIS SIZE MAX; got " + Arrays.toString(args));
      System.exit(2);
    }
    String cookie = System.getenv("EI4J_BENCH_COOKIE");
    if (cookie == null) {
      throw new IllegalStateException("EI4J_BENCH_COOKIE is not set");
    }
    String mode = args[0];
    long warmup = Long.parseLong(args[2]);
    long millis = Long.parseLong(args[3]);
    int size = Integer.parseInt(args[4]);
    long max = Long.parseLong(args[5]);
    Node node = Nodes.singleNode("encon" + ProcessHandle.current().pid() + "@localhost",
        NodeConfig.builder().shortName(true).cookie(cookie).build());
    int rc = 1;
    try {
      if (!node.ping(args[1])) {
        throw new IllegalStateException("no pong from " + args[1]);
      }
      EnconBench b = new EnconBench(node.mailbox().build(), args[1]);
      b.run(mode, warmup, size, max);
      long cpu0 = Cpu.processNanos();
      long[] r = b.run(mode, millis, size, max);
      long cpu = Cpu.processNanos() - cpu0;
      System.out.println("RESULT " + r[0] + " " + r[1] + " " + r[2] + " " + cpu);
      System.out.flush();
      rc = 0;
    } catch (Exception | Error e) {
      e.printStackTrace();
    } finally {
      node.close();
    }
    System.exit(rc);
  }

  /** {count, nanos, bytes} of one timed run. */
  private long[] run(String mode, long millis, int size, long max) {
    switch (mode) {
      case "pingpong":
        return pingPong(millis, max);
      case "send":
        return send(millis, size, max);
      case "flood":
        return flood(millis, size, max);
      default:
        throw new IllegalArgumentException("unknown mode " + mode);
    }
  }

  private ErlangTerm receive() {
    Message m = mbox.receive(RECEIVE_TIMEOUT, TimeUnit.MILLISECONDS);
    if (m == null) {
      throw new IllegalStateException("nothing received within " + RECEIVE_TIMEOUT + " ms");
    }
    return m.getBody();
  }

  private long[] pingPong(long millis, long max) {
    ErlangTerm ping = tuple(self, HELLO);
    long t0 = System.nanoTime();
    long deadline = t0 + millis * 1_000_000L;
    long n = 0;
    while (n < max) {
      mbox.send(server, "echo", ping);
      ErlangTerm r = receive();
      if (!HELLO.equals(r)) {
        throw new IllegalStateException("echo replied " + r);
      }
      n++;
      if ((n & 15) == 0 && System.nanoTime() >= deadline) {
        break;
      }
    }
    return new long[] {n, System.nanoTime() - t0, 0};
  }

  private long[] send(long millis, int size, long max) {
    byte[] bytes = new byte[size];
    Arrays.fill(bytes, (byte) 'x');
    ErlangTerm bin = binary(bytes);
    long t0 = System.nanoTime();
    long deadline = t0 + millis * 1_000_000L;
    long n = 0;
    while (n < max) {
      mbox.send(server, "sink", tuple(SEQ, number(n), bin));
      n++;
      if ((n & 15) == 0 && System.nanoTime() >= deadline) {
        break;
      }
    }
    mbox.send(server, "sink", tuple(DONE, self));
    ErlangTerm r = receive();
    if (!r.isTuple() || r.size() != 3 || !COUNT.equals(r.getUnsafe(0)) || r.getUnsafe(1).asLong() != n) {
      throw new IllegalStateException("sink replied " + r + " after " + n + " messages");
    }
    return new long[] {n, System.nanoTime() - t0, r.getUnsafe(2).asLong()};
  }

  private long[] flood(long millis, int size, long max) {
    long t0 = System.nanoTime();
    mbox.send(server, "flooder", tuple(FLOOD, self, number(size), number(max), number(millis)));
    long n = 0;
    long bytes = 0;
    while (true) {
      ErlangTerm t = receive();
      if (t.isTuple() && t.size() == 3 && SEQ.equals(t.getUnsafe(0))) {
        n++;
        bytes += t.getUnsafe(2).asBinary().length;
      } else if (t.isTuple() && t.size() == 2 && FLOOD_DONE.equals(t.getUnsafe(0))) {
        long sent = t.getUnsafe(1).asLong();
        if (sent != n) {
          throw new IllegalStateException("flooder sent " + sent + ", received " + n);
        }
        return new long[] {n, System.nanoTime() - t0, bytes};
      } else {
        throw new IllegalStateException("unexpected message " + t);
      }
    }
  }
}
