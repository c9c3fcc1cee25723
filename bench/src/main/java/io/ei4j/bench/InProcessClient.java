package io.ei4j.bench;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.io.IOException;
import java.util.Arrays;

/**
 * The workloads as the ei4j clients in the harness's own JVM run them, whatever ei4j API
 * carries the messages: a subclass says how to send to a name registered on the server node
 * and how to take the next message addressed to {@link #self()}, and every workload is
 * timed the same way for each API. The message formats are those of {@code bench_peer.erl},
 * which {@code cbench.c} and the JInterface client speak too.
 */
abstract class InProcessClient implements Client {
  private static final ErlAtom HELLO = ErlAtom.of("hello");
  static final ErlAtom SEQ = ErlAtom.of("seq");
  private static final ErlAtom DONE = ErlAtom.of("done");
  private static final ErlAtom COUNT = ErlAtom.of("count");
  private static final ErlAtom FLOOD = ErlAtom.of("flood");
  static final ErlAtom FLOOD_DONE = ErlAtom.of("flood_done");
  /** How long {@link #receive()} waits for one reply before the run fails. */
  static final long RECEIVE_TIMEOUT = 30_000;

  private final String name;

  InProcessClient(String name) {
    this.name = name;
  }

  /** The pid that the server's replies are addressed to. */
  abstract ErlPid self();

  /** Sends {@code message} to the process registered as {@code registeredName} on the server node. */
  abstract void sendTo(String registeredName, ErlTerm message) throws IOException;

  /**
   * The next message to {@link #self()}, waiting at most {@link #RECEIVE_TIMEOUT}.
   *
   * @throws IOException when nothing arrives in time or the connection is lost
   * @throws IllegalStateException when what arrives is not a message to {@link #self()}
   */
  abstract ErlTerm receive() throws IOException;

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final Measurement run(String transport, Workload w, long warmupMillis, long millis) throws IOException {
    once(w, warmupMillis);
    long cpu0 = Cpu.processNanos();
    long[] r = once(w, millis);
    long cpu = Cpu.processNanos() - cpu0;
    return new Measurement(transport, w, name, r[0], r[1], r[2], cpu0 < 0 ? -1 : cpu);
  }

  private long[] once(Workload w, long millis) throws IOException {
    return switch (w.mode()) {
      case "pingpong" -> pingPong(millis, w.max());
      case "send" -> send(millis, w.size(), w.max());
      case "msend" -> msend(millis, w.size(), w.max());
      case "flood" -> flood(millis, w.size(), w.max());
      default -> throw new IllegalArgumentException("unknown mode " + w.mode());
    };
  }

  private long[] pingPong(long millis, long max) throws IOException {
    ErlTuple ping = ErlTuple.of(self(), HELLO);
    long t0 = System.nanoTime();
    long deadline = t0 + millis * 1_000_000L;
    long n = 0;
    while (n < max) {
      sendTo("echo", ping);
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
      sendTo("sink", ErlTuple.of(SEQ, ErlInteger.of(n), bin));
      n++;
      if ((n & 15) == 0 && System.nanoTime() >= deadline) {
        break;
      }
    }
    sendTo("sink", ErlTuple.of(DONE, self()));
    ErlTerm r = receive();
    if (!(r instanceof ErlTuple t) || t.arity() != 3 || !COUNT.equals(t.get(0))
        || ((ErlInteger) t.get(1)).longValue() != n) {
      throw new IllegalStateException("sink replied " + r + " after " + n + " messages");
    }
    return new long[] {n, System.nanoTime() - t0, ((ErlInteger) t.get(2)).longValue()};
  }

  /** {@link Workload#SENDERS} threads sending at once through {@link #sendTo}, then one done. */
  private long[] msend(long millis, int size, long max) throws IOException {
    byte[] bytes = new byte[size];
    Arrays.fill(bytes, (byte) 'x');
    ErlBinary bin = ErlBinary.of(bytes);
    long t0 = System.nanoTime();
    long deadline = t0 + millis * 1_000_000L;
    long[] sent = new long[Workload.SENDERS];
    IOException[] failure = new IOException[1];
    Thread[] threads = new Thread[Workload.SENDERS];
    for (int i = 0; i < threads.length; i++) {
      int me = i;
      threads[i] = new Thread(() -> {
        long n = 0;
        try {
          while (n < max / Workload.SENDERS) {
            sendTo("sink", ErlTuple.of(SEQ, ErlInteger.of(n), bin));
            n++;
            if ((n & 15) == 0 && System.nanoTime() >= deadline) {
              break;
            }
          }
        } catch (IOException e) {
          synchronized (failure) {
            failure[0] = e;
          }
        }
        sent[me] = n;
      }, "bench-sender-" + i);
      threads[i].start();
    }
    long n = 0;
    for (int i = 0; i < threads.length; i++) {
      try {
        threads[i].join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted");
      }
      n += sent[i];
    }
    synchronized (failure) {
      if (failure[0] != null) {
        throw failure[0];
      }
    }
    sendTo("sink", ErlTuple.of(DONE, self()));
    ErlTerm r = receive();
    if (!(r instanceof ErlTuple t) || t.arity() != 3 || !COUNT.equals(t.get(0))
        || ((ErlInteger) t.get(1)).longValue() != n) {
      throw new IllegalStateException("sink replied " + r + " after " + n + " messages from " + threads.length + " senders");
    }
    return new long[] {n, System.nanoTime() - t0, ((ErlInteger) t.get(2)).longValue()};
  }

  private long[] flood(long millis, int size, long max) throws IOException {
    long t0 = System.nanoTime();
    sendTo("flooder", ErlTuple.of(FLOOD, self(), ErlInteger.of(size), ErlInteger.of(max), ErlInteger.of(millis)));
    long n = 0;
    long bytes = 0;
    while (true) {
      long got = receiveFlood();
      if (got >= 0) {
        n++;
        bytes += got;
      } else {
        long sent = -1 - got;
        if (sent != n) {
          throw new IllegalStateException("flooder sent " + sent + ", received " + n);
        }
        return new long[] {n, System.nanoTime() - t0, bytes};
      }
    }
  }

  /**
   * Receives one message of a flood and returns the size of the binary of a
   * {@code {seq, N, Bin}}, or {@code -1 - Sent} for the closing {@code {flood_done, Sent}}.
   * A client whose API can read a message without decoding it all does so here.
   */
  long receiveFlood() throws IOException {
    ErlTerm m = receive();
    if (m instanceof ErlTuple t && t.arity() == 3 && SEQ.equals(t.get(0))) {
      return ((ErlBinary) t.get(2)).size();
    } else if (m instanceof ErlTuple t && t.arity() == 2 && FLOOD_DONE.equals(t.get(0))) {
      return -1 - ((ErlInteger) t.get(1)).longValue();
    }
    throw new IllegalStateException("unexpected message " + m);
  }
}
