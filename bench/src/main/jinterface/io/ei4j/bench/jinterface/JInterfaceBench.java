package io.ei4j.bench.jinterface;

import com.ericsson.otp.erlang.OtpErlangAtom;
import com.ericsson.otp.erlang.OtpErlangBinary;
import com.ericsson.otp.erlang.OtpErlangLong;
import com.ericsson.otp.erlang.OtpErlangObject;
import com.ericsson.otp.erlang.OtpErlangTuple;
import com.ericsson.otp.erlang.OtpMbox;
import com.ericsson.otp.erlang.OtpNode;
import java.util.Arrays;

/**
 * The JInterface client of the side-by-side benchmark, run by the harness as a child JVM
 * with {@code OtpErlang.jar} on its class path (compiled at run time, like
 * {@link JInterfaceCodec}). Arguments and output match {@code cbench.c}:
 *
 * <pre>MODE SERVER_NODE WARMUP_MS MILLIS SIZE MAX</pre>
 *
 * with the cookie in the environment variable {@code EI4J_BENCH_COOKIE}. Prints
 * {@code RESULT Count Nanos Bytes CpuNanos} and exits 0, or exits 1 with the failure on standard
 * error.
 */
public final class JInterfaceBench {
  private static final OtpErlangAtom HELLO = new OtpErlangAtom("hello");
  private static final OtpErlangAtom SEQ = new OtpErlangAtom("seq");
  private static final OtpErlangAtom DONE = new OtpErlangAtom("done");
  private static final OtpErlangAtom COUNT = new OtpErlangAtom("count");
  private static final OtpErlangAtom FLOOD = new OtpErlangAtom("flood");
  private static final OtpErlangAtom FLOOD_DONE = new OtpErlangAtom("flood_done");
  private static final long RECEIVE_TIMEOUT = 30_000;

  private final OtpMbox mbox;
  private final String server;

  private JInterfaceBench(OtpMbox mbox, String server) {
    this.mbox = mbox;
    this.server = server;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 6) {
      System.err.println("usage: JInterfaceBench MODE SERVER_NODE WARMUP_MS MILLIS SIZE MAX; got " + Arrays.toString(args));
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
    OtpNode node = new OtpNode("jbench" + ProcessHandle.current().pid() + "@localhost", cookie);
    try {
      if (!node.ping(args[1], 10_000)) {
        throw new IllegalStateException("no pong from " + args[1]);
      }
      JInterfaceBench b = new JInterfaceBench(node.createMbox(), args[1]);
      b.run(mode, warmup, size, max);
      long cpu0 = processCpuNanos();
      long[] r = b.run(mode, millis, size, max);
      long cpu = processCpuNanos() - cpu0;
      System.out.println("RESULT " + r[0] + " " + r[1] + " " + r[2] + " " + (cpu0 < 0 ? -1 : cpu));
      System.out.flush();
    } finally {
      node.close();
    }
    System.exit(0);
  }

  /** CPU time of this process (all threads, user + system), or -1 where the JVM cannot tell. */
  private static long processCpuNanos() {
    java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean
        ? ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime() : -1;
  }

  /** {count, nanos, bytes} of one timed run. */
  private long[] run(String mode, long millis, int size, long max) throws Exception {
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

  private OtpErlangObject receive() throws Exception {
    OtpErlangObject m = mbox.receive(RECEIVE_TIMEOUT);
    if (m == null) {
      throw new IllegalStateException("nothing received within " + RECEIVE_TIMEOUT + " ms");
    }
    return m;
  }

  private long[] pingPong(long millis, long max) throws Exception {
    OtpErlangTuple ping = new OtpErlangTuple(new OtpErlangObject[] {mbox.self(), HELLO});
    long t0 = System.nanoTime();
    long deadline = t0 + millis * 1_000_000L;
    long n = 0;
    while (n < max) {
      mbox.send("echo", server, ping);
      OtpErlangObject r = receive();
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

  private long[] send(long millis, int size, long max) throws Exception {
    byte[] bytes = new byte[size];
    Arrays.fill(bytes, (byte) 'x');
    OtpErlangBinary bin = new OtpErlangBinary(bytes);
    long t0 = System.nanoTime();
    long deadline = t0 + millis * 1_000_000L;
    long n = 0;
    while (n < max) {
      mbox.send("sink", server, new OtpErlangTuple(new OtpErlangObject[] {SEQ, new OtpErlangLong(n), bin}));
      n++;
      if ((n & 15) == 0 && System.nanoTime() >= deadline) {
        break;
      }
    }
    mbox.send("sink", server, new OtpErlangTuple(new OtpErlangObject[] {DONE, mbox.self()}));
    OtpErlangObject r = receive();
    if (!(r instanceof OtpErlangTuple) || ((OtpErlangTuple) r).arity() != 3
        || !COUNT.equals(((OtpErlangTuple) r).elementAt(0))
        || ((OtpErlangLong) ((OtpErlangTuple) r).elementAt(1)).longValue() != n) {
      throw new IllegalStateException("sink replied " + r + " after " + n + " messages");
    }
    long bytesSeen = ((OtpErlangLong) ((OtpErlangTuple) r).elementAt(2)).longValue();
    return new long[] {n, System.nanoTime() - t0, bytesSeen};
  }

  private long[] flood(long millis, int size, long max) throws Exception {
    long t0 = System.nanoTime();
    mbox.send("flooder", server, new OtpErlangTuple(new OtpErlangObject[] {
        FLOOD, mbox.self(), new OtpErlangLong(size), new OtpErlangLong(max), new OtpErlangLong(millis)}));
    long n = 0;
    long bytes = 0;
    while (true) {
      OtpErlangTuple t = (OtpErlangTuple) receive();
      if (t.arity() == 3 && SEQ.equals(t.elementAt(0))) {
        n++;
        bytes += ((OtpErlangBinary) t.elementAt(2)).size();
      } else if (t.arity() == 2 && FLOOD_DONE.equals(t.elementAt(0))) {
        long sent = ((OtpErlangLong) t.elementAt(1)).longValue();
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
