package io.ei4j.node;

import static io.ei4j.node.NodeTesting.expect;
import static io.ei4j.node.NodeTesting.rpc;
import static io.ei4j.term.Terms.atom;
import static io.ei4j.term.Terms.integer;
import static io.ei4j.term.Terms.tuple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * A node with the default limits takes what an Erlang node takes: a 100 MiB binary and a
 * list nested 100,000 deep, both ways, and the connection stays up.
 */
class LargeTermsInteropTest {
  private static final String COOKIE = "large_terms_cookie";
  private static final int BIG = 100 << 20;
  private static final int DEEP = 100_000;

  @Test
  void hundredMebibyteBinaryAndHundredThousandDeepListBothWays() throws Exception {
    Path ebin = NodeTesting.compileModules();
    ErlangPeer.compileResource(LargeTermsInteropTest.class, "ei4j_big.erl", ebin);
    try (ErlangPeer erl = NodeTesting.startPeer(ebin, COOKIE); Node node = NodeTesting.startNode(COOKIE)) {
      String erlName = erl.nodeName();
      Mailbox box = node.createMailbox();
      assertEquals(atom("ok"), rpc(box, erlName, "ei4j_big", "start"));

      // Erlang to Java
      assertEquals(atom("ok"), rpc(box, erlName, "ei4j_big", "send_binary", box.pid(), integer(BIG)));
      ErlTuple big = (ErlTuple) expect(box, m -> NodeTesting.tagged(m, "big"), 60_000, "the 100 MiB binary");
      byte[] bytes = ((ErlBinary) big.get(1)).toByteArray();
      assertEquals(BIG, bytes.length);
      assertTrue(bytes[0] == 7 && bytes[BIG - 1] == 7);
      assertEquals(atom("ok"), rpc(box, erlName, "ei4j_big", "send_deep", box.pid(), integer(DEEP)));
      ErlTuple deep = (ErlTuple) expect(box, m -> NodeTesting.tagged(m, "deep"), 60_000, "the 100,000-deep list");
      assertEquals(DEEP, depth(deep.get(1)));
      big = null;
      deep = null;

      // Java to Erlang
      byte[] out = new byte[BIG];
      Arrays.fill(out, (byte) 9);
      box.send("big_probe", erlName, tuple(box.pid(), ErlBinary.of(out)));
      out = null;
      assertEquals(tuple(atom("probe"), tuple(atom("binary"), integer(BIG), integer(9), integer(9))),
          expect(box, m -> NodeTesting.tagged(m, "probe"), 60_000, "Erlang's measure of the binary"));
      ErlTerm t = ErlList.NIL;
      for (int i = 0; i < DEEP; i++) {
        t = ErlList.of(t);
      }
      box.send("big_probe", erlName, tuple(box.pid(), t));
      assertEquals(tuple(atom("probe"), tuple(atom("depth"), integer(DEEP))),
          expect(box, m -> NodeTesting.tagged(m, "probe"), 60_000, "Erlang's measure of the list"));

      assertTrue(node.connectedNodes().contains(erlName), "the connection stayed up");
      assertEquals(atom(erlName), node.rpc(erlName, "erlang", "node", java.util.List.of(), 10_000));
    }
  }

  /** The nesting of [[[...[]...]]], counted without recursion. */
  private static int depth(ErlTerm t) {
    int n = 0;
    while (t instanceof ErlList l && l.size() == 1) {
      t = l.get(0);
      n++;
    }
    return n;
  }
}
