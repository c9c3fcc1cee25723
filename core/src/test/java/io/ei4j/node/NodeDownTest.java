package io.ei4j.node;

import static io.ei4j.node.NodeTesting.expect;
import static io.ei4j.node.NodeTesting.rpc;
import static io.ei4j.node.NodeTesting.tagged;
import static io.ei4j.term.Terms.atom;
import static io.ei4j.term.Terms.tuple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.testkit.ErlangPeer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What links and monitors do when either side's node goes away: {@code noconnection}. */
class NodeDownTest {
  private static final String COOKIE = "node_down_cookie";
  private static Path ebin;

  @BeforeAll
  static void compile() throws IOException {
    ebin = NodeTesting.compileModules();
  }

  @Test
  void killingTheErlangNodeFiresNoconnection() throws Exception {
    try (ErlangPeer erl = NodeTesting.startPeer(ebin, COOKIE); Node node = NodeTesting.startNode(COOKIE)) {
      BlockingQueue<String> events = new LinkedBlockingQueue<>();
      node.addNodeListener(new NodeListener() {
        @Override
        public void nodeUp(String n) {
          events.add("up " + n);
        }

        @Override
        public void nodeDown(String n, String reason) {
          events.add("down " + n);
        }
      });
      Mailbox ctl = node.createMailbox();
      Mailbox trapper = node.createMailbox();
      trapper.trapExits(true);
      Mailbox plain = node.createMailbox();
      ErlPid v1 = (ErlPid) rpc(ctl, erl.nodeName(), "ei4j_node_peer", "victim");
      ErlPid v2 = (ErlPid) rpc(ctl, erl.nodeName(), "ei4j_node_peer", "victim");
      assertEquals("up " + erl.nodeName(), events.poll(5, TimeUnit.SECONDS));
      trapper.link(v1);
      plain.link(v2);
      ErlRef byPid = trapper.monitor(v2);
      ErlRef byName = trapper.monitor("echo", erl.nodeName());
      // A round trip makes sure the LINK and MONITOR_P signals have arrived.
      assertEquals(atom("ok"), rpc(ctl, erl.nodeName(), "ei4j_node_peer", "send_to", ctl.pid(), atom("sync")));

      erl.signal("KILL");

      assertEquals(tuple(atom("EXIT"), v1, atom("noconnection")), expect(trapper, m -> tagged(m, "EXIT"), 10_000, "EXIT noconnection"));
      assertEquals(tuple(atom("DOWN"), byPid, atom("process"), v2, atom("noconnection")),
          expect(trapper, m -> tagged(m, "DOWN") && m.equals(tuple(atom("DOWN"), byPid, atom("process"), v2, atom("noconnection"))), 10_000, "DOWN by pid"));
      assertEquals(tuple(atom("DOWN"), byName, atom("process"), tuple(atom("echo"), atom(erl.nodeName())), atom("noconnection")),
          expect(trapper, m -> tagged(m, "DOWN"), 10_000, "DOWN by name"));
      ExitException e = assertThrows(ExitException.class, () -> plain.receive(10_000));
      assertEquals(atom("noconnection"), e.reason());
      assertEquals("down " + erl.nodeName(), events.poll(10, TimeUnit.SECONDS));
      assertFalse(node.connectedNodes().contains(erl.nodeName()));

      // The caller learns that the node is unreachable.
      assertThrows(IOException.class, () -> ctl.send(v1, atom("anyone")));
      ErlRef late = trapper.monitor(v1);
      assertEquals(tuple(atom("DOWN"), late, atom("process"), v1, atom("noconnection")), expect(trapper, m -> tagged(m, "DOWN"), 10_000, "DOWN for an unreachable node"));
    }
  }

  @Test
  void aRestartedErlangNodeIsReachedAgainAndItsOldPidsAreGone() throws Exception {
    String name = ErlangPeer.uniqueName("erl");
    try (Node node = NodeTesting.startNode(COOKIE)) {
      Mailbox ctl = node.createMailbox();
      ErlPid old;
      String full;
      try (ErlangPeer first = ErlangPeer.builder().sname(name).cookie(COOKIE).codePath(ebin)
          .eval("ei4j_node_peer:start()").readyLine("^ready").start()) {
        full = first.nodeName();
        old = (ErlPid) rpc(ctl, full, "ei4j_node_peer", "victim");
        first.signal("KILL");
        first.awaitExit(Duration.ofSeconds(10));
      }
      try (ErlangPeer second = ErlangPeer.builder().sname(name).cookie(COOKIE).codePath(ebin)
          .eval("ei4j_node_peer:start()").readyLine("^ready").start()) {
        assertEquals(full, second.nodeName());
        ErlPid fresh = (ErlPid) rpc(ctl, full, "ei4j_node_peer", "victim");
        assertFalse(fresh.equals(old));
        ErlRef ref = ctl.monitor(old);
        assertEquals(tuple(atom("DOWN"), ref, atom("process"), old, atom("noproc")), expect(ctl, m -> tagged(m, "DOWN"), 5_000, "noproc for the old incarnation's pid"));
        ctl.send("echo", full, tuple(ctl.pid(), atom("again")));
        assertEquals(tuple(atom("echo"), atom("again")), expect(ctl, m -> tagged(m, "echo"), 5_000, "echo from the new node"));
      }
    }
  }

  @Test
  void closingTheJavaNodeFiresNoconnectionInErlang() throws Exception {
    try (ErlangPeer erl = NodeTesting.startPeer(ebin, COOKIE); Node stays = NodeTesting.startNode(COOKIE)) {
      Node goes = NodeTesting.startNode(COOKIE);
      try {
        Mailbox ctl = stays.createMailbox();
        Mailbox target = goes.createMailbox("doomed");
        // Make the Erlang node know the doomed node, then watch and link from Erlang.
        assertEquals(atom("ok"), rpc(ctl, erl.nodeName(), "ei4j_node_peer", "send_to", target.pid(), atom("hello")));
        assertEquals(atom("hello"), expect(target, m -> true, 5_000, "hello"));
        rpc(ctl, erl.nodeName(), "ei4j_node_peer", "watch", target.pid(), atom("nobody"));
        rpc(ctl, erl.nodeName(), "ei4j_node_peer", "link_to", target.pid(), atom("nobody"));
        rpc(ctl, erl.nodeName(), "ei4j_node_peer", "watch", tuple(atom("doomed"), atom(goes.nodeName())), atom("nobody"));
      } finally {
        goes.close();
      }
      erl.awaitLine("^DOWN <.*> noconnection$", Duration.ofSeconds(10));
      erl.awaitLine("^EXIT <.*> noconnection$", Duration.ofSeconds(10));
      erl.awaitLine("^DOWN \\{doomed,.*\\} noconnection$", Duration.ofSeconds(10));
      assertTrue(goes.isClosed());
    }
  }
}
