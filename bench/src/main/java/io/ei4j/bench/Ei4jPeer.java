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
import io.ei4j.transport.tcp.TcpTransport;
import io.ei4j.transport.tls.TlsConfig;
import io.ei4j.transport.tls.TlsTransport;
import io.ei4j.transport.unix.UnixTransport;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code bench_peer}'s server side written with ei4j (issue 21, "the library's own
 * ceiling"): a {@link Node} listening on one transport with the registered mailboxes
 * {@code echo} ({@code {From, Msg}} answered with {@code Msg}), {@code sink} (counts
 * {@code {seq, N, Bin}}; {@code {done, From}} is answered with {@code {count, Count, Bytes}}
 * and resets), {@code flooder} (as bench_peer's) and {@code stats} (a pid is answered with
 * {@code {Threads, HeapUsedBytes, RssBytes}} of this JVM, heap measured after a
 * {@code System.gc()}, for {@link ConnectionScale}), each served by a thread of its own.
 * ei4j clients measured against it give ei4j-to-ei4j figures, to set beside
 * Erlang-to-Erlang (bench_peer) and C-ei-to-C-ei ({@code cpeer.c}).
 *
 * <p>Runs in the harness JVM ("two nodes in one JVM") or, through {@link #main}, as a child
 * JVM ("two JVMs"):
 *
 * <pre>Ei4jPeer NODE_NAME tcp | tls CERT KEY CA | uds DIR</pre>
 *
 * with the cookie in {@code EI4J_BENCH_COOKIE}; prints {@code ready NODE} and exits when its
 * standard input closes, so that it never outlives the harness. Over TCP and TLS the ready
 * line also gives the listening port: {@code ready NODE PORT}.
 */
final class Ei4jPeer implements AutoCloseable {
  private static final ErlAtom SEQ = ErlAtom.of("seq");
  private static final ErlAtom DONE = ErlAtom.of("done");
  private static final ErlAtom COUNT = ErlAtom.of("count");
  private static final ErlAtom FLOOD = ErlAtom.of("flood");
  private static final ErlAtom FLOOD_DONE = ErlAtom.of("flood_done");

  private final Node node;
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean closed;

  /** Starts the node {@code nodeName} listening on {@code address} of {@code transport}, and its three services. */
  Ei4jPeer(String nodeName, String cookie, SocketCallbacks<?> transport, SocketAddress address) throws IOException {
    this.node = Node.builder(nodeName).cookie(cookie).transport(transport).listen(address).build();
    try {
      serve("echo", this::echo);
      serve("sink", this::sink);
      serve("flooder", this::flooder);
      serve("stats", this::stats);
    } catch (RuntimeException e) {
      node.close();
      throw e;
    }
  }

  /** A peer on loopback TCP, published in EPMD. */
  static Ei4jPeer tcp(String nodeName, String cookie) throws IOException {
    return new Ei4jPeer(nodeName, cookie, TcpTransport.create(), new InetSocketAddress("127.0.0.1", 0));
  }

  String nodeName() {
    return node.nodeName();
  }

  private interface Service {
    void run(Mailbox box) throws Exception;
  }

  private void serve(String name, Service s) {
    Mailbox box = node.createMailbox(name);
    Thread t = new Thread(() -> {
      try {
        while (!closed) {
          s.run(box);
        }
      } catch (ExitException | InterruptedException e) {
        // closed
      } catch (Exception e) {
        if (!closed) {
          System.err.println("ei4j peer " + name + " failed: " + e);
        }
      }
    }, "ei4j-peer-" + name);
    t.setDaemon(true);
    threads.add(t);
    t.start();
  }

  private void echo(Mailbox box) throws Exception {
    if (box.receive(1_000) instanceof ErlTuple t && t.arity() == 2 && t.get(0) instanceof ErlPid from) {
      box.send(from, t.get(1));
    }
  }

  private long count;
  private long bytes;

  private void sink(Mailbox box) throws Exception {
    ErlTerm m = box.receive(1_000);
    if (m instanceof ErlTuple t) {
      if (t.arity() == 3 && SEQ.equals(t.get(0)) && t.get(2) instanceof ErlBinary b) {
        count++;
        bytes += b.size();
      } else if (t.arity() == 2 && DONE.equals(t.get(0)) && t.get(1) instanceof ErlPid from) {
        box.send(from, ErlTuple.of(COUNT, ErlInteger.of(count), ErlInteger.of(bytes)));
        count = 0;
        bytes = 0;
      }
    }
  }

  private void stats(Mailbox box) throws Exception {
    if (box.receive(1_000) instanceof ErlPid from) {
      System.gc();
      long threads = java.lang.management.ManagementFactory.getThreadMXBean().getThreadCount();
      long heap = java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      box.send(from, ErlTuple.of(ErlInteger.of(threads), ErlInteger.of(heap), ErlInteger.of(rssBytes())));
    }
  }

  /** This process's resident set size from /proc/self/status, or -1 where there is none. */
  static long rssBytes() {
    try {
      for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return -1;
  }

  /** The node's listening port, or -1 when it does not listen on an IP address. */
  int port() {
    return node.listenAddress() instanceof InetSocketAddress a ? a.getPort() : -1;
  }

  private void flooder(Mailbox box) throws Exception {
    if (box.receive(1_000) instanceof ErlTuple t && t.arity() == 5 && FLOOD.equals(t.get(0)) && t.get(1) instanceof ErlPid to) {
      int size = (int) ((ErlInteger) t.get(2)).longValue();
      long max = ((ErlInteger) t.get(3)).longValue();
      long deadline = System.nanoTime() + ((ErlInteger) t.get(4)).longValue() * 1_000_000L;
      byte[] data = new byte[size];
      Arrays.fill(data, (byte) 'x');
      ErlBinary bin = ErlBinary.of(data);
      long i = 0;
      while (i < max) {
        box.send(to, ErlTuple.of(SEQ, ErlInteger.of(i), bin));
        i++;
        if ((i & 63) == 0 && System.nanoTime() >= deadline) {
          break;
        }
      }
      box.send(to, ErlTuple.of(FLOOD_DONE, ErlInteger.of(i)));
    }
  }

  @Override
  public void close() {
    closed = true;
    node.close();
    for (Thread t : threads) {
      try {
        t.join(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** See the class comment. */
  public static void main(String[] args) throws Exception {
    String cookie = System.getenv("EI4J_BENCH_COOKIE");
    if (args.length < 2 || cookie == null) {
      System.err.println("usage: Ei4jPeer NODE_NAME tcp | tls CERT KEY CA | uds DIR (cookie in EI4J_BENCH_COOKIE)");
      System.exit(2);
    }
    java.util.logging.Logger.getLogger("org.bouncycastle.jsse").setLevel(java.util.logging.Level.WARNING);
    String name = args[0];
    Ei4jPeer peer = switch (args[1]) {
      case "tcp" -> tcp(name, cookie);
      case "tls" -> {
        TlsTransport t = new TlsTransport(TlsConfig.builder().certificate(Path.of(args[2]), Path.of(args[3]))
            .trustedCertificates(Path.of(args[4])).build());
        yield new Ei4jPeer(name, cookie, t, new InetSocketAddress("127.0.0.1", 0));
      }
      case "uds" -> {
        UnixTransport u = UnixTransport.builder().directory(Path.of(args[2])).build();
        yield new Ei4jPeer(name, cookie, u, u.addressOf(name));
      }
      default -> throw new IllegalArgumentException("unknown transport " + args[1]);
    };
    System.out.println("ready " + peer.nodeName() + (peer.port() > 0 ? " " + peer.port() : ""));
    System.out.flush();
    InputStream in = System.in;
    while (in.read() >= 0) {
      // until the harness closes our standard input
    }
    peer.close();
    System.exit(0);
  }
}
