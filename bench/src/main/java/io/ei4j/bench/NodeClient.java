package io.ei4j.bench;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.node.ExitException;
import io.ei4j.node.Mailbox;
import io.ei4j.node.Node;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Arrays;

/**
 * ei4j's process-level API ({@link Node}, {@link Mailbox}) in the harness's own JVM: one
 * node and one mailbox for all workloads, as JInterface's client has one {@code OtpNode}
 * and one {@code OtpMbox}. The connection is made in the constructor with
 * {@link Node#ping}, outside every timed run.
 */
final class NodeClient implements Client {
  private static final ErlAtom HELLO = ErlAtom.of("hello");
  private static final ErlAtom SEQ = ErlAtom.of("seq");
  private static final ErlAtom DONE = ErlAtom.of("done");
  private static final ErlAtom COUNT = ErlAtom.of("count");
  private static final ErlAtom FLOOD = ErlAtom.of("flood");
  private static final ErlAtom FLOOD_DONE = ErlAtom.of("flood_done");
  private static final long RECEIVE_TIMEOUT = 30_000;

  private final String name;
  private final String server;
  private final Node node;
  private final Mailbox box;
  private final ErlPid self;

  NodeClient(String name, SocketCallbacks<?> transport, String nodeName, String cookie, String server) throws IOException {
    this.name = name;
    this.server = server;
    this.node = Node.builder(nodeName).cookie(cookie).transport(transport).build();
    this.box = node.createMailbox();
    this.self = box.pid();
    if (!node.ping(server, 15_000)) {
      node.close();
      throw new IOException("no pong from " + server);
    }
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
    try {
      ErlTerm m = box.receive(RECEIVE_TIMEOUT);
      if (m == null) {
        throw new IOException("nothing received within " + RECEIVE_TIMEOUT + " ms");
      }
      return m;
    } catch (ExitException e) {
      throw new IOException("the mailbox died: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted");
    }
  }

  private long[] pingPong(long millis, long max) throws IOException {
    ErlTuple ping = ErlTuple.of(self, HELLO);
    long t0 = System.nanoTime();
    long deadline = t0 + millis * 1_000_000L;
    long n = 0;
    while (n < max) {
      box.send("echo", server, ping);
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
      box.send("sink", server, ErlTuple.of(SEQ, ErlInteger.of(n), bin));
      n++;
      if ((n & 15) == 0 && System.nanoTime() >= deadline) {
        break;
      }
    }
    box.send("sink", server, ErlTuple.of(DONE, self));
    ErlTerm r = receive();
    if (!(r instanceof ErlTuple t) || t.arity() != 3 || !COUNT.equals(t.get(0))
        || ((ErlInteger) t.get(1)).longValue() != n) {
      throw new IllegalStateException("sink replied " + r + " after " + n + " messages");
    }
    return new long[] {n, System.nanoTime() - t0, ((ErlInteger) t.get(2)).longValue()};
  }

  private long[] flood(long millis, int size, long max) throws IOException {
    long t0 = System.nanoTime();
    box.send("flooder", server, ErlTuple.of(FLOOD, self, ErlInteger.of(size), ErlInteger.of(max), ErlInteger.of(millis)));
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
    box.close();
    node.close();
  }
}
