package io.ei4j.bench;

import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiNode;
import io.ei4j.node.Mailbox;
import io.ei4j.node.Node;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The send path's allocation per message (issue 21: "no allocation per message on the
 * send path beyond the term itself"), to be run with {@code -prof gc}: its
 * {@code gc.alloc.rate.norm} is every byte the JVM allocated (all threads: the sender, a
 * connection's flusher and reader) divided by the messages sent. A real Erlang node
 * (bench_peer's {@code sink}) receives over loopback TCP, so the send path includes the
 * socket writes and whatever back-pressure the sink applies.
 *
 * <ul>
 *   <li>{@code *Prebuilt}: the same term every time, so any B/op is the send path's own;
 *       the target is 0.
 *   <li>{@code *Fresh}: {@code {seq, N, Bin}} built per message with a shared binary, as
 *       the side-by-side harness sends; the B/op above {@code *Prebuilt} is the term.
 * </ul>
 *
 * {@code size} is the binary's size: 10 B or 1 MiB. The sink is asked for its count at
 * tear-down, which must match what was sent.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class SendPathBenchmark {
  private static final ErlAtom SEQ = ErlAtom.of("seq");
  private static final ErlAtom DONE = ErlAtom.of("done");
  private static final ErlAtom COUNT = ErlAtom.of("count");

  /** The binary's size in bytes. */
  @Param({"10", "1048576"})
  public int size;

  private SideBySide harness;
  private SideBySide.Server server;
  private EiNode eiNode;
  private EiConnection connection;
  private ErlPid self;
  private Node node;
  private Mailbox box;
  private ErlBinary bin;
  private ErlTerm prebuilt;
  private long viaConnection;
  private long viaMailbox;
  private long n;

  /** Starts the Erlang sink node and connects both ei4j APIs to it. */
  @Setup(Level.Trial)
  public void setUp() throws Exception {
    Path work = Temp.directory("ei4j-send-path");
    harness = new SideBySide(work, 0, 0, 1, List.of(), List.of());
    server = harness.erlangServer();
    eiNode = EiNode.builder("sendpath" + ProcessHandle.current().pid() + "@localhost").cookie(harness.cookie())
        .transport(TcpTransport.create()).build();
    connection = eiNode.connect(server.nodeName(), 15_000);
    self = connection.self();
    node = Node.builder("sendpathnode" + ProcessHandle.current().pid() + "@localhost").cookie(harness.cookie())
        .transport(TcpTransport.create()).build();
    box = node.createMailbox();
    if (!node.ping(server.nodeName(), 15_000)) {
      throw new IllegalStateException("no pong from " + server.nodeName());
    }
    byte[] b = new byte[size];
    Arrays.fill(b, (byte) 'x');
    bin = ErlBinary.of(b);
    prebuilt = ErlTuple.of(SEQ, ErlInteger.of(12345), bin);
  }

  /** Checks that the sink counted every message, then stops everything. */
  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    try {
      connection.regSend(self, "sink", ErlTuple.of(DONE, self));
      ErlTerm r = ((io.ei4j.connect.EiMessage.Send) connection.receive(60_000)).message();
      long counted = ((ErlInteger) ((ErlTuple) r).get(1)).longValue();
      // the mailbox's messages travel on the other connection; both reach the one sink
      if (counted > viaConnection + viaMailbox || !COUNT.equals(((ErlTuple) r).get(0))) {
        throw new IllegalStateException("the sink counted " + r + "; sent " + viaConnection + " + " + viaMailbox);
      }
    } finally {
      box.close();
      node.close();
      connection.close();
      eiNode.close();
      server.close();
    }
  }

  /** EiConnection.regSend of the same term every time. */
  @Benchmark
  public void connectionPrebuilt() throws IOException {
    connection.regSend(self, "sink", prebuilt);
    viaConnection++;
  }

  /** EiConnection.regSend of a term built per message. */
  @Benchmark
  public void connectionFresh() throws IOException {
    connection.regSend(self, "sink", ErlTuple.of(SEQ, ErlInteger.of(n++), bin));
    viaConnection++;
  }

  /** Mailbox.send(name, node, term) of the same term every time. */
  @Benchmark
  public void mailboxPrebuilt() throws IOException {
    box.send("sink", server.nodeName(), prebuilt);
    viaMailbox++;
  }

  /** Mailbox.send(name, node, term) of a term built per message. */
  @Benchmark
  public void mailboxFresh() throws IOException {
    box.send("sink", server.nodeName(), ErlTuple.of(SEQ, ErlInteger.of(n++), bin));
    viaMailbox++;
  }
}
