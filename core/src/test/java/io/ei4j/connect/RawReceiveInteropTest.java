package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.ErrnoException;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermCursor;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link EiConnection#receive(EiRawMessage, long)} against a real Erlang node: messages of
 * every size (Erlang fragments the large ones) arrive undecoded, in order, with their
 * atoms resolved through the atom cache; fragmented messages of several senders at once
 * interleave; messages queued decoded before a raw receive and signals keep their place;
 * rpc replies and {@code net_adm:ping} are still answered while a thread sits in a raw
 * receive; decoded messages are never overwritten by later raw receives; and the receive
 * budget is given back.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RawReceiveInteropTest {
  private static final String COOKIE = "ei4j_raw";
  private static final ErlAtom SEQ = ErlAtom.of("seq");
  private static final String MODULE = """
      -module(ei4j_raw).
      -export([start/0, pattern/2]).
      start() ->
          register(burst, spawn(fun burst/0)),
          io:format("ready~n").
      burst() ->
          receive
              {From, sizes, Sizes} ->
                  lists:foldl(fun(S, I) -> From ! {seq, I, pattern(I, S)}, I + 1 end, 0, Sizes),
                  From ! {done, length(Sizes)};
              {From, parallel, K, Size} ->
                  [spawn(fun() -> From ! {seq, I, pattern(I, Size)} end) || I <- lists:seq(1, K)];
              {From, signals} ->
                  From ! {seq, 0, <<"before">>},
                  spawn(fun() -> link(From), From ! {seq, 1, <<"linked">>}, exit(bye) end),
                  timer:sleep(200),
                  From ! {seq, 2, <<"after">>};
              {From, ping, Node} ->
                  From ! {pong, net_adm:ping(Node)}
          end,
          burst().
      pattern(I, N) ->
          binary:part(binary:copy(<<(I rem 251), "0123456789abcdef">>, N div 17 + 1), 0, N).
      """;

  private static byte[] pattern(int i, int n) {
    byte[] unit = ("X0123456789abcdef").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    unit[0] = (byte) (i % 251);
    byte[] a = new byte[n];
    for (int k = 0; k < n; k++) {
      a[k] = unit[k % 17];
    }
    return a;
  }

  private static ErlangPeer start(Path dir) {
    Path ebin = ErlangPeer.compile(dir, "ei4j_raw", MODULE);
    return ErlangPeer.builder().sname(ErlangPeer.uniqueName("raw")).cookie(COOKIE).codePath(ebin)
        .eval("ei4j_raw:start()").readyLine("^ready").start();
  }

  private static EiNode node() throws java.io.IOException {
    return node(true);
  }

  private static EiNode node(boolean headers) throws java.io.IOException {
    return EiNode.builder(ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName()).cookie(COOKIE)
        .transport(TcpTransport.create()).distributionHeaders(headers).build();
  }

  private static ErlList sizes(int... sizes) {
    ErlTerm[] t = new ErlTerm[sizes.length];
    for (int i = 0; i < sizes.length; i++) {
      t[i] = ErlInteger.of(sizes[i]);
    }
    return ErlList.of(t);
  }

  /** Reads {@code {seq, I, Bin}} from the holder with its cursor; checks the binary against the pattern. */
  private static long readSeq(EiRawMessage m, int expectedSize) throws Exception {
    TermCursor c = m.payload();
    assertEquals(3, c.tupleHeader());
    assertEquals(SEQ, c.atom());
    long i = c.longValue();
    ByteBuffer bin = c.binary();
    assertEquals(expectedSize, bin.remaining());
    byte[] got = new byte[bin.remaining()];
    bin.get(got);
    assertArrayEquals(pattern((int) i, expectedSize), got, "the bytes of message " + i);
    assertTrue(!c.hasRemaining(), "the payload ends after the term");
    return i;
  }

  @Test
  void messagesOfEverySizeArriveUndecodedInOrder(@TempDir Path dir) throws Exception {
    int[] sizes = {10, 3 << 20, 1000, 1 << 20, 0, 65_536, 65_537, (1 << 20) + 7, 5, 200_000, 2 << 20, 17};
    try (ErlangPeer peer = start(dir); EiNode node = node(); EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid me = c.self();
      EiRawMessage m = new EiRawMessage();
      for (int round = 0; round < 3; round++) {
        c.regSend(me, "burst", ErlTuple.of(me, ErlAtom.of("sizes"), sizes(sizes)));
        for (int i = 0; i < sizes.length; i++) {
          assertEquals(m, c.receive(m, 30_000));
          assertEquals(EiRawMessage.Kind.SEND, m.kind());
          assertEquals(me, m.to());
          assertEquals(i, readSeq(m, sizes[i]));
        }
        c.receive(m, 30_000);
        assertEquals(ErlTuple.of(ErlAtom.of("done"), ErlInteger.of(sizes.length)), m.decodePayload());
      }
      assertTrue(c.frameDecoder().reassembledMessages() >= 3 * 6, "Erlang fragmented the large messages");
      assertTrue(c.frameDecoder().cachedReferences() > 0, "atoms came as atom cache references");
      // The holder's buffer is reused: it holds about the largest message, not the sum.
      assertTrue(m.capacity() <= (3 << 20) + 65_536 * 2, "holder capacity " + m.capacity());
      assertEquals(0, node.receiveBudgetUsedBytes(), "every message's charge was given back");
    }
  }

  @Test
  void withoutDistributionHeadersEveryMessageIsOneFrame(@TempDir Path dir) throws Exception {
    int[] sizes = {10, (1 << 20) + 3, 0, 70_000, 2 << 20};
    try (ErlangPeer peer = start(dir); EiNode node = node(false); EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      assertTrue(!c.usesDistributionHeaders(), "pass-through frames ('p', a version byte before each term)");
      ErlPid me = c.self();
      EiRawMessage m = new EiRawMessage();
      for (int round = 0; round < 2; round++) {
        c.regSend(me, "burst", ErlTuple.of(me, ErlAtom.of("sizes"), sizes(sizes)));
        for (int i = 0; i < sizes.length; i++) {
          c.receive(m, 30_000);
          assertEquals(i, readSeq(m, sizes[i]));
        }
        c.receive(m, 30_000);
        assertEquals(ErlTuple.of(ErlAtom.of("done"), ErlInteger.of(sizes.length)), m.decodePayload());
      }
      assertEquals(0, node.receiveBudgetUsedBytes());
    }
  }

  /**
   * What all threads of this JVM have allocated: the receiving thread, or the connection's
   * reader thread should it have read some of the messages.
   */
  private static long allocated(com.sun.management.ThreadMXBean threads) {
    long total = 0;
    for (long a : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
      total += Math.max(0, a);
    }
    return total;
  }

  @Test
  void aRawReceiveAllocatesNoArrayPerMessage(@TempDir Path dir) throws Exception {
    int big = 1 << 20;
    for (boolean headers : new boolean[] {true, false}) {
      long[] perMessage = allocationPerMessage(dir, headers, big);
      String how = headers ? "in fragments" : "in one frame each";
      System.out.printf("raw receive, 1 MiB messages %s: %d bytes allocated per message, against %d for receive(long)%n",
          how, perMessage[1], perMessage[0]);
      assertTrue(perMessage[0] >= big, "receive(long) allocates each message's array (" + how + "): " + perMessage[0]);
      assertTrue(perMessage[1] < 64 << 10, "a raw receive allocated " + perMessage[1] + " bytes per 1 MiB message " + how);
    }
  }

  /**
   * Bytes allocated per message of {@code big} bytes, by all threads: {@code [receive(long),
   * raw receive]}, measured in the last of three rounds of 23 messages each.
   */
  private static long[] allocationPerMessage(Path dir, boolean headers, int big) throws Exception {
    int n = 24;
    int[] sizes = new int[n];
    java.util.Arrays.fill(sizes, big);
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long[] perMessage = new long[2];
    try (ErlangPeer peer = start(dir); EiNode node = node(headers); EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid self = c.self();
      EiRawMessage m = new EiRawMessage();
      for (int round = 0; round < 3; round++) { // the last round is measured, the others warm up
        for (int raw = 0; raw < 2; raw++) {
          c.regSend(self, "burst", ErlTuple.of(self, ErlAtom.of("sizes"), sizes(sizes)));
          if (raw == 1) {
            c.receive(m, 30_000); // the first one may have been read by the reader thread
          } else {
            c.receive(30_000);
          }
          long before = allocated(threads);
          for (int i = 1; i < n; i++) {
            if (raw == 1) {
              TermCursor cur = c.receive(m, 30_000).payload();
              assertEquals(3, cur.tupleHeader());
              cur.skip();
              cur.skip();
              assertEquals(big, cur.binaryLength());
            } else {
              ErlTuple t = (ErlTuple) ((EiMessage.Send) c.receive(30_000)).message();
              assertEquals(big, ((ErlBinary) t.get(2)).size());
            }
          }
          perMessage[raw] = (allocated(threads) - before) / (n - 1);
          if (raw == 1) {
            c.receive(m, 30_000);
          } else {
            c.receive(30_000);
          }
        }
      }
    }
    return perMessage;
  }

  @Test
  void fragmentedMessagesOfSeveralSendersInterleave(@TempDir Path dir) throws Exception {
    int k = 6;
    int size = (2 << 20) + 333;
    try (ErlangPeer peer = start(dir); EiNode node = node(); EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid me = c.self();
      EiRawMessage m = new EiRawMessage();
      for (int round = 0; round < 3; round++) {
        c.regSend(me, "burst", ErlTuple.of(me, ErlAtom.of("parallel"), ErlInteger.of(k), ErlInteger.of(size)));
        Map<Long, Boolean> seen = new HashMap<>();
        for (int i = 0; i < k; i++) {
          c.receive(m, 30_000);
          seen.put(readSeq(m, size), true);
        }
        assertEquals(k, seen.size(), "every sender's message, once");
      }
      assertEquals(0, c.frameDecoder().sequencesInProgress());
      assertEquals(0, node.receiveBudgetUsedBytes());
    }
  }

  @Test
  void queuedMessagesAndSignalsKeepTheirPlace(@TempDir Path dir) throws Exception {
    try (ErlangPeer peer = start(dir); EiNode node = node(); EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid me = c.self();
      c.regSend(me, "burst", ErlTuple.of(me, ErlAtom.of("signals")));
      Thread.sleep(1_000); // nobody receives: the reader thread queues all of it, decoded
      EiRawMessage m = new EiRawMessage();
      c.receive(m, 10_000);
      assertEquals(ErlTuple.of(SEQ, ErlInteger.of(0), ErlBinary.of("before".getBytes())), m.decodePayload());
      c.receive(m, 10_000);
      assertEquals(EiRawMessage.Kind.SIGNAL, m.kind());
      assertInstanceOf(EiMessage.Link.class, m.signal());
      assertThrows(IllegalStateException.class, m::payload);
      c.receive(m, 10_000);
      assertEquals(ErlTuple.of(SEQ, ErlInteger.of(1), ErlBinary.of("linked".getBytes())), m.decodePayload());
      c.receive(m, 10_000);
      EiMessage.Exit exit = assertInstanceOf(EiMessage.Exit.class, m.signal());
      assertEquals(ErlAtom.of("bye"), exit.reason());
      c.receive(m, 10_000);
      assertEquals(ErlTuple.of(SEQ, ErlInteger.of(2), ErlBinary.of("after".getBytes())), m.decodePayload());
      ErrnoException timeout = assertThrows(ErrnoException.class, () -> c.receive(m, 100));
      assertTrue(timeout.isTimeout());
      assertEquals(null, m.kind(), "a receive that failed leaves the holder empty");
      assertThrows(IllegalStateException.class, m::payload);
      assertEquals(0, node.receiveBudgetUsedBytes());
    }
  }

  @Test
  void rpcAndPingAreAnsweredWhileARawReceiveReads(@TempDir Path dir) throws Exception {
    try (ErlangPeer peer = start(dir); EiNode node = node(); EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid me = c.self();
      EiRawMessage m = new EiRawMessage();
      CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> {
        try {
          c.receive(m, 30_000);
          return String.valueOf(m.decodePayload());
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      Thread.sleep(300); // the receiver holds the reading role now
      assertEquals(ErlAtom.of(peer.nodeName()), c.rpc("erlang", "node", ErlList.of(), 10_000));
      c.regSend(me, "burst", ErlTuple.of(me, ErlAtom.of("ping"), ErlAtom.of(node.nodeName())));
      assertEquals("{pong,pong}", received.get(30, TimeUnit.SECONDS).replace(" ", ""));
    }
  }

  @Test
  void decodedMessagesAreNeverOverwrittenByLaterRawReceives(@TempDir Path dir) throws Exception {
    int big = (1 << 20) + 11;
    try (ErlangPeer peer = start(dir); EiNode node = node(); EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid me = c.self();
      EiRawMessage m = new EiRawMessage();
      ErlTerm[] kept = new ErlTerm[8];
      c.regSend(me, "burst", ErlTuple.of(me, ErlAtom.of("sizes"), sizes(big, big, big, big, big, big, big, big, big, big, big,
          big, big, big, big, big)));
      // Alternate: a decoded receive, then a raw one, so that buffers the holder gave back
      // are reused for reassembly while decoded messages still share theirs.
      for (int i = 0; i < 16; i++) {
        if (i % 2 == 0) {
          kept[i / 2] = ((EiMessage.Send) c.receive(30_000)).message();
        } else {
          c.receive(m, 30_000);
          assertEquals(i, readSeq(m, big));
        }
      }
      for (int j = 0; j < kept.length; j++) {
        ErlTuple t = (ErlTuple) kept[j];
        assertEquals(ErlInteger.of(2L * j), t.get(1));
        assertArrayEquals(pattern(2 * j, big), ((ErlBinary) t.get(2)).toByteArray(), "decoded message " + 2 * j + " kept its bytes");
      }
      c.receive(m, 30_000);
      assertEquals(ErlTuple.of(ErlAtom.of("done"), ErlInteger.of(16)), m.decodePayload());
      assertEquals(0, node.receiveBudgetUsedBytes());
    }
  }
}
