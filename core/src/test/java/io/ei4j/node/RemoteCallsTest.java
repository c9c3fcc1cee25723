package io.ei4j.node;

import static io.ei4j.node.NodeTesting.expect;
import static io.ei4j.term.Terms.atom;
import static io.ei4j.term.Terms.integer;
import static io.ei4j.term.Terms.list;
import static io.ei4j.term.Terms.parse;
import static io.ei4j.term.Terms.tuple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link Node#rpc}, {@link Node#erpc} and their casts: Java to Erlang, Java to Java, Java to itself. */
class RemoteCallsTest {
  private static final String COOKIE = "remote_calls_cookie";
  private static NodeTesting.PeerAndNode both;
  private static Node a;
  private static Node b;
  private static String erl;

  @BeforeAll
  static void start() throws Exception {
    both = NodeTesting.PeerAndNode.start(COOKIE);
    a = both.node();
    erl = both.erl().nodeName();
    b = NodeTesting.startNode(COOKIE);
    for (Node n : List.of(a, b)) {
      n.registerFunction("calc", "add", 2, (self, args) ->
          ErlInteger.of(((ErlInteger) args.get(0)).longValue() + ((ErlInteger) args.get(1)).longValue()));
      n.registerFunction("calc", "fail", 1, (self, args) -> {
        throw ErlangException.error(args.get(0));
      });
      n.registerFunction("calc", "quit", 1, (self, args) -> {
        throw ErlangException.exit(args.get(0));
      });
      n.registerFunction("calc", "toss", 1, (self, args) -> {
        throw ErlangException.throwing(args.get(0));
      });
      n.registerFunction("calc", "sleep", 1, (self, args) -> {
        Thread.sleep(((ErlInteger) args.get(0)).longValue());
        return atom("slept");
      });
    }
  }

  @AfterAll
  static void stop() {
    if (b != null) {
      b.close();
    }
    if (both != null) {
      both.close();
    }
  }

  @Test
  void rpcToErlang() throws Exception {
    assertEquals(atom(erl), a.rpc(erl, "erlang", "node", List.of(), 10_000));
    assertEquals(list(integer(3), integer(2), integer(1)), a.rpc(erl, "lists", "reverse", List.of(list(integer(1), integer(2), integer(3))), 10_000));
    ErlTerm undef = a.rpc(erl, "nomod", "nofun", List.of(integer(1)), 10_000);
    assertEquals(parse("{badrpc, {'EXIT', {undef, [{nomod, nofun, [1], []}]}}}"), undef);
    assertEquals(atom("ball"), a.rpc(erl, "erlang", "throw", List.of(atom("ball")), 10_000));
    assertEquals(parse("{badrpc, timeout}"), a.rpc(erl, "timer", "sleep", List.of(integer(3_000)), 200));
    assertEquals(parse("{badrpc, nodedown}"), a.rpc("nobody_here@" + ErlangPeer.shortHostName(), "erlang", "node", List.of(), 5_000));
  }

  @Test
  void erpcToErlang() throws Exception {
    assertEquals(atom(erl), a.erpc(erl, "erlang", "node", List.of(), 10_000));
    ErpcException e = assertThrows(ErpcException.class, () -> a.erpc(erl, "erlang", "error", List.of(atom("oops")), 10_000));
    assertEquals(ErpcException.Failure.RAISED, e.failure());
    assertEquals(ErlangException.Kind.ERROR, e.kind());
    assertEquals(atom("oops"), e.reason());
    assertTrue(e.stacktrace().size() > 0, "the remote stack trace comes along");
    e = assertThrows(ErpcException.class, () -> a.erpc(erl, "erlang", "exit", List.of(atom("bye")), 10_000));
    assertEquals(ErlangException.Kind.EXIT, e.kind());
    assertEquals(parse("{exception, bye}"), e.erlangReason());
    e = assertThrows(ErpcException.class, () -> a.erpc(erl, "erlang", "throw", List.of(atom("ball")), 10_000));
    assertEquals(ErlangException.Kind.THROW, e.kind());
    assertEquals(atom("ball"), e.erlangReason());
    e = assertThrows(ErpcException.class, () -> a.erpc(erl, "nomod", "nofun", List.of(), 10_000));
    assertEquals(atom("undef"), e.reason());
    e = assertThrows(ErpcException.class, () -> a.erpc(erl, "timer", "sleep", List.of(integer(5_000)), 200));
    assertTrue(e.isTimeout(), e.toString());
    assertEquals(parse("{erpc, timeout}"), e.erlangReason());
    e = assertThrows(ErpcException.class, () -> a.erpc("nobody_here@" + ErlangPeer.shortHostName(), "erlang", "node", List.of(), 5_000));
    assertTrue(e.isNoConnection(), e.toString());
    // A remote function that prints: this node's rex is its group leader and acknowledges the output.
    assertEquals(atom("ok"), a.erpc(erl, "io", "format", List.of(ErlList.ofString("hello from erlang~n")), 10_000));
  }

  /**
   * An erpc call that times out before its spawn reply abandons the request, as
   * {@code erpc:call} does with {@code spawn_request_abandon/1}: the process the request
   * started is sent an exit signal with reason {@code abandoned}, instead of running on.
   */
  @Test
  void anErpcThatTimesOutBeforeItsSpawnReplyEndsTheProcessItStarted() throws Exception {
    assertEquals(atom(erl), a.erpc(erl, "erlang", "node", List.of(), 10_000)); // connected before the timeout starts
    Mailbox box = a.createMailbox();
    try {
      ErlPid started = null;
      // timeout 0: the request goes out and the call gives up at once. Should the exit
      // signal beat the watcher's start, nothing reports; then try again.
      for (int attempt = 0; attempt < 3 && started == null; attempt++) {
        ErpcException e = assertThrows(ErpcException.class,
            () -> a.erpc(erl, "ei4j_node_peer", "watched_wait", List.of(box.pid()), 0));
        assertTrue(e.isTimeout(), e.toString());
        ErlTerm watching = box.receive(m -> m instanceof ErlTuple t && t.get(0).equals(atom("watching")), 5_000);
        if (watching != null) {
          started = (ErlPid) ((ErlTuple) watching).get(1);
        }
      }
      assertNotNull(started, "no process started by the abandoned request reported in");
      ErlPid pid = started;
      ErlTerm ended = box.receive(m -> m instanceof ErlTuple t && t.get(0).equals(atom("ended")) && t.get(1).equals(pid), 10_000);
      assertNotNull(ended, "the process the abandoned request started still runs");
      assertEquals(atom("abandoned"), ((ErlTuple) ended).get(2));
    } finally {
      box.close();
    }
  }

  @Test
  void castsToErlang() throws Exception {
    Mailbox box = a.createMailbox();
    try {
      a.cast(erl, "erlang", "send", List.of(box.pid(), atom("by_rpc_cast")));
      assertEquals(atom("by_rpc_cast"), expect(box, m -> m.equals(atom("by_rpc_cast")), 10_000, "the rpc cast's message"));
      a.erpcCast(erl, "erlang", "send", List.of(box.pid(), atom("by_erpc_cast")));
      assertEquals(atom("by_erpc_cast"), expect(box, m -> m.equals(atom("by_erpc_cast")), 10_000, "the erpc cast's message"));
    } finally {
      box.close();
    }
  }

  @Test
  void globalNamesForJavaMailboxes() throws Exception {
    Mailbox box = a.createMailbox();
    String name = ErlangPeer.uniqueName("glob");
    assertTrue(Global.register(box, name, erl, 10_000));
    assertEquals(box.pid(), Global.whereis(a, name, erl, 10_000));
    assertEquals(box.pid(), a.rpc(erl, "global", "send", List.of(atom(name), atom("via_global")), 10_000));
    assertEquals(atom("via_global"), expect(box, m -> m.equals(atom("via_global")), 10_000, "a message through global:send"));
    Mailbox other = a.createMailbox();
    assertFalse(Global.register(other, name, erl, 10_000), "the name is taken");
    box.close(); // global monitors the pid and drops the name
    long until = System.nanoTime() + 10_000_000_000L;
    while (Global.whereis(a, name, erl, 10_000) != null) {
      assertTrue(System.nanoTime() < until, "global kept the name of a dead mailbox");
      Thread.sleep(20);
    }
    assertTrue(Global.register(other, name, erl, 10_000));
    Global.unregister(a, name, erl, 10_000);
    assertEquals(null, Global.whereis(a, name, erl, 10_000));
    other.close();
  }

  @Test
  void javaToJava() throws Exception {
    for (String target : List.of(b.nodeName(), a.nodeName())) {
      assertEquals(integer(3), a.rpc(target, "calc", "add", List.of(integer(1), integer(2)), 10_000), target);
      assertEquals(integer(5), a.erpc(target, "calc", "add", List.of(integer(2), integer(3)), 10_000), target);
      assertEquals(parse("{badrpc, {'EXIT', {oops, [{calc, fail, 1, []}]}}}"),
          a.rpc(target, "calc", "fail", List.of(atom("oops")), 10_000), target);
      ErpcException e = assertThrows(ErpcException.class, () -> a.erpc(target, "calc", "fail", List.of(atom("oops")), 10_000));
      assertEquals(ErlangException.Kind.ERROR, e.kind());
      assertEquals(parse("{exception, oops, [{calc, fail, 1, []}]}"), e.erlangReason());
      e = assertThrows(ErpcException.class, () -> a.erpc(target, "calc", "quit", List.of(atom("bye")), 10_000));
      assertEquals(parse("{exception, bye}"), e.erlangReason());
      e = assertThrows(ErpcException.class, () -> a.erpc(target, "calc", "toss", List.of(atom("ball")), 10_000));
      assertEquals(ErlangException.Kind.THROW, e.kind());
      e = assertThrows(ErpcException.class, () -> a.erpc(target, "calc", "nope", List.of(), 10_000));
      assertEquals(parse("{exception, undef, [{calc, nope, [], []}]}"), e.erlangReason());
      e = assertThrows(ErpcException.class, () -> a.erpc(target, "calc", "sleep", List.of(integer(3_000)), 200));
      assertTrue(e.isTimeout(), e.toString());
      assertEquals(parse("{badrpc, timeout}"), a.rpc(target, "calc", "sleep", List.of(integer(3_000)), 200));
      assertEquals(atom(target), a.erpc(target, "erlang", "node", List.of(), 10_000), "built in");
    }
    Mailbox box = b.createMailbox("j2j_sink");
    try {
      b.registerFunction("sink", "put", 1, (self, args) -> {
        self.send("j2j_sink", args.get(0));
        return atom("ok");
      });
      a.cast(b.nodeName(), "sink", "put", List.of(atom("c1")));
      a.erpcCast(b.nodeName(), "sink", "put", List.of(atom("c2")));
      expect(box, m -> m.equals(atom("c1")), 10_000, "rpc cast Java to Java");
      expect(box, m -> m.equals(atom("c2")), 10_000, "erpc cast Java to Java");
    } finally {
      box.close();
    }
    assertEquals(tuple(atom("badrpc"), atom("nodedown")), a.rpc("nobody@" + ErlangPeer.shortHostName(), "calc", "add", List.of(), 3_000));
  }
}
