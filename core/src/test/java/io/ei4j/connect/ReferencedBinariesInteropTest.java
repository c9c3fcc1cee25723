package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermEncoder;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Binaries of {@link EiConnection#REFERENCE_BINARIES_FROM} bytes and more go to the socket
 * from the caller's array rather than from a copy in the sending thread's buffer: a real
 * Erlang node echoes messages with several of them (binaries, a bitstring, sub-ranges of
 * larger arrays, small binaries between them), whole and in fragments whose boundaries fall
 * inside the binaries, with and without distribution headers, and from several threads at
 * once, whose frames then go out in shared gathering writes. Every echo must equal what
 * was sent.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReferencedBinariesInteropTest {
  private static final String COOKIE = "ei4j_refbin";
  private static final String MODULE = """
      -module(ei4j_refbin).
      -export([start/0]).
      start() ->
          register(echo, spawn(fun echo/0)),
          io:format("ready~n").
      echo() ->
          receive {From, Msg} -> From ! {echo, Msg}, echo() end.
      """;

  private static ErlangPeer start(Path dir) {
    Path ebin = ErlangPeer.compile(dir, "ei4j_refbin", MODULE);
    return ErlangPeer.builder().sname(ErlangPeer.uniqueName("refbin")).cookie(COOKIE).codePath(ebin)
        .eval("ei4j_refbin:start()").readyLine("^ready").start();
  }

  private static EiNode node(boolean headers) throws java.io.IOException {
    return EiNode.builder(ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName())
        .cookie(COOKIE).transport(TcpTransport.create()).distributionHeaders(headers).build();
  }

  private static byte[] random(Random r, int n) {
    byte[] a = new byte[n];
    r.nextBytes(a);
    return a;
  }

  /**
   * Binaries of exactly the threshold, one byte below it (copied), 300 KiB, and 200 KiB taken
   * from the middle of a larger array; a bitstring of 100 KiB and 5 bits whose unused low bits
   * are set; {@code bigBytes} more in one binary; small terms between them.
   */
  private static ErlTerm message(Random r, int bigBytes) {
    int at = EiConnection.REFERENCE_BINARIES_FROM;
    byte[] wide = random(r, 300_000);
    byte[] bits = random(r, 100 << 10);
    bits[bits.length - 1] |= 0x07;
    return ErlTuple.of(
        ErlAtom.of("payload"),
        ErlBinary.of(random(r, at)),
        ErlBinary.of(random(r, at - 1)),
        ErlList.of(ErlBinary.of(random(r, 300 << 10)), ErlInteger.of(r.nextInt()), ErlBinary.of(wide, 50_000, 200 << 10)),
        ErlBinary.bitstring(bits, 5),
        ErlBinary.of(random(r, 10)),
        ErlBinary.of(random(r, bigBytes)),
        ErlAtom.of("end"));
  }

  /** Equal terms; on a mismatch names the first differing byte rather than printing megabytes. */
  private static void assertSame(ErlTerm expected, ErlTerm actual) {
    if (expected.equals(actual)) {
      return;
    }
    byte[] e = TermEncoder.toBytes(expected);
    byte[] a = TermEncoder.toBytes(actual);
    int i = Arrays.mismatch(e, a);
    fail("the echo differs from what was sent at byte " + i + " of " + e.length + " (echo has " + a.length + " bytes)");
  }

  private static ErlTerm echo(EiConnection c, ErlPid me, ErlTerm msg) throws Exception {
    c.regSend(me, "echo", ErlTuple.of(me, msg));
    ErlTuple reply = (ErlTuple) assertInstanceOf(EiMessage.Send.class, c.receive(60_000)).message();
    assertEquals(ErlAtom.of("echo"), reply.get(0));
    return reply.get(1);
  }

  @ParameterizedTest(name = "distribution headers: {0}")
  @ValueSource(booleans = {true, false})
  void messagesWithLargeBinariesArriveIntact(boolean headers, @TempDir Path dir) throws Exception {
    Random r = new Random(42);
    try (ErlangPeer peer = start(dir); EiNode node = node(headers); EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      assertEquals(headers, c.sendsFragments());
      ErlPid me = c.self();
      // about 1 MiB, one frame
      ErlTerm whole = message(r, 300 << 10);
      assertSame(whole, echo(c, me, whole));
      // about 5.4 MiB: six fragments with headers, whose boundaries cut through binaries
      ErlTerm split = message(r, (4 << 20) + 12_345);
      assertSame(split, echo(c, me, split));
      // the same binaries once more, and a small message after them
      assertSame(split, echo(c, me, split));
      assertEquals(ErlAtom.of("after"), echo(c, me, ErlAtom.of("after")));
    }
  }

  @Test
  void concurrentSendersOfLargeBinariesKeepTheirOrder(@TempDir Path dir) throws Exception {
    int threads = 4;
    int perThread = 12;
    try (ErlangPeer peer = start(dir); EiNode node = node(true); EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid me = c.self();
      List<List<ErlTerm>> sent = new ArrayList<>();
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          Random r = new Random(t);
          List<ErlTerm> mine = new ArrayList<>();
          for (int i = 0; i < perThread; i++) {
            // from 0 to 3 MiB: some whole, some fragmented
            mine.add(ErlTuple.of(ErlInteger.of(t), ErlInteger.of(i), message(r, r.nextInt(3 << 20))));
          }
          sent.add(mine);
          done.add(pool.submit(() -> {
            for (ErlTerm m : mine) {
              c.regSend(me, "echo", ErlTuple.of(me, m));
            }
            return null;
          }));
        }
        for (Future<?> f : done) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      int[] next = new int[threads];
      for (int n = 0; n < threads * perThread; n++) {
        ErlTuple reply = (ErlTuple) assertInstanceOf(EiMessage.Send.class, c.receive(60_000)).message();
        ErlTuple m = (ErlTuple) reply.get(1);
        int t = ((ErlInteger) m.get(0)).intValue();
        assertEquals(next[t], ((ErlInteger) m.get(1)).intValue(), "thread " + t + "'s messages in order");
        assertSame(sent.get(t).get(next[t]), m);
        next[t]++;
      }
      assertTrue(c.isOpen());
    }
  }
}
