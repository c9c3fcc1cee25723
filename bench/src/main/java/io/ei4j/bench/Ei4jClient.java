package io.ei4j.bench;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.io.IOException;
import java.util.Arrays;

/**
 * ei4j's connection-level API ({@link EiNode}, {@link EiConnection}) in the harness's own
 * JVM, over any transport: one node and one connection for all workloads, as the other
 * clients have one connection per run. Sends go to registered names with
 * {@link EiConnection#regSend}, as the C client's {@code ei_reg_send}; replies come from
 * {@link EiConnection#receive}.
 */
final class Ei4jClient implements Client {
  private static final ErlAtom HELLO = ErlAtom.of("hello");
  private static final ErlAtom SEQ = ErlAtom.of("seq");
  private static final ErlAtom DONE = ErlAtom.of("done");
  private static final ErlAtom COUNT = ErlAtom.of("count");
  private static final ErlAtom FLOOD = ErlAtom.of("flood");
  private static final ErlAtom FLOOD_DONE = ErlAtom.of("flood_done");
  private static final long RECEIVE_TIMEOUT = 30_000;

  private final String name;
  private final EiNode node;
  private final EiConnection connection;
  private final ErlPid self;

  /** Builds a node named {@code nodeName} on {@code transport} and connects it to {@code server}. */
  Ei4jClient(String name, SocketCallbacks<?> transport, String nodeName, String cookie, String server) throws IOException {
    this.name = name;
    this.node = EiNode.builder(nodeName).cookie(cookie).transport(transport).build();
    try {
      this.connection = node.connect(server, 15_000);
    } catch (IOException | RuntimeException e) {
      node.close();
      throw e;
    }
    this.self = connection.self();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Measurement run(String transport, Workload w, long warmupMillis, long millis) throws IOException {
    once(w, warmupMillis);
    long[] r = once(w, millis);
    return new Measurement(transport, w, name, r[0], r[1], r[2]);
  }

  private long[] once(Workload w, long millis) throws IOException {
    return switch (w.mode()) {
      case "pingpong" -> pingPong(millis, w.max());
      case "send" -> send(millis, w.size(), w.max());
      case "flood" -> flood(millis, w.size(), w.max());
      default -> throw new IllegalArgumentException("unknown mode " + w.mode());
    };
  }

  private ErlTerm receive() throws IOException {
    EiMessage m = connection.receive(RECEIVE_TIMEOUT);
    if (m instanceof EiMessage.Send s) {
      return s.message();
    }
    throw new IllegalStateException("expected a message to " + self + ", got " + m);
  }

  private long[] pingPong(long millis, long max) throws IOException {
    ErlTuple ping = ErlTuple.of(self, HELLO);
    long t0 = System.nanoTime();
    long deadline = t0 + millis * 1_000_000L;
    long n = 0;
    while (n < max) {
      connection.regSend(self, "echo", ping);
      ErlTerm r = receive();
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

  private long[] send(long millis, int size, long max) throws IOException {
    byte[] bytes = new byte[size];
    Arrays.fill(bytes, (byte) 'x');
    ErlBinary bin = ErlBinary.of(bytes);
    long t0 = System.nanoTime();
    long deadline = t0 + millis * 1_000_000L;
    long n = 0;
    while (n < max) {
      connection.regSend(self, "sink", ErlTuple.of(SEQ, ErlInteger.of(n), bin));
      n++;
      if ((n & 15) == 0 && System.nanoTime() >= deadline) {
        break;
      }
    }
    connection.regSend(self, "sink", ErlTuple.of(DONE, self));
    ErlTerm r = receive();
    if (!(r instanceof ErlTuple t) || t.arity() != 3 || !COUNT.equals(t.get(0))
        || ((ErlInteger) t.get(1)).longValue() != n) {
      throw new IllegalStateException("sink replied " + r + " after " + n + " messages");
    }
    return new long[] {n, System.nanoTime() - t0, ((ErlInteger) t.get(2)).longValue()};
  }

  private long[] flood(long millis, int size, long max) throws IOException {
    long t0 = System.nanoTime();
    connection.regSend(self, "flooder",
        ErlTuple.of(FLOOD, self, ErlInteger.of(size), ErlInteger.of(max), ErlInteger.of(millis)));
    long n = 0;
    long bytes = 0;
    while (true) {
      ErlTerm m = receive();
      if (m instanceof ErlTuple t && t.arity() == 3 && SEQ.equals(t.get(0))) {
        n++;
        bytes += ((ErlBinary) t.get(2)).size();
      } else if (m instanceof ErlTuple t && t.arity() == 2 && FLOOD_DONE.equals(t.get(0))) {
        long sent = ((ErlInteger) t.get(1)).longValue();
        if (sent != n) {
          throw new IllegalStateException("flooder sent " + sent + ", received " + n);
        }
        return new long[] {n, System.nanoTime() - t0, bytes};
      } else {
        throw new IllegalStateException("unexpected message " + m);
      }
    }
  }

  @Override
  public void close() {
    connection.close();
    node.close();
  }
}
