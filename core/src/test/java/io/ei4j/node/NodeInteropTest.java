package io.ei4j.node;

import static io.ei4j.node.NodeTesting.assertTagged;
import static io.ei4j.node.NodeTesting.expect;
import static io.ei4j.node.NodeTesting.rpc;
import static io.ei4j.node.NodeTesting.tagged;
import static io.ei4j.term.Terms.atom;
import static io.ei4j.term.Terms.integer;
import static io.ei4j.term.Terms.list;
import static io.ei4j.term.Terms.parse;
import static io.ei4j.term.Terms.tuple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Processes of a Java {@link Node} and of a real Erlang node treating each other as peers:
 * messages, links and exits, monitors, gen_server calls, rpc/erpc into Java, aliases.
 * One Erlang node and one Java node serve the whole class.
 */
class NodeInteropTest {
  private static final String COOKIE = "node_interop_cookie";
  private static NodeTesting.PeerAndNode peers;
  private static Node node;
  private static String erlName;
  private static String javaName;

  private Mailbox box;
  private Mailbox reports;

  @BeforeAll
  static void start() throws Exception {
    peers = NodeTesting.PeerAndNode.start(COOKIE);
    node = peers.node();
    erlName = peers.erl().nodeName();
    javaName = node.nodeName();
  }

  @AfterAll
  static void stop() {
    if (peers != null) {
      peers.close();
    }
  }

  @BeforeEach
  void boxes() {
    box = node.createMailbox();
    reports = node.createMailbox();
  }

  @AfterEach
  void closeBoxes() {
    box.close();
    reports.close();
  }

  private ErlTerm peer(String f, ErlTerm... args) throws Exception {
    return rpc(reports, erlName, "ei4j_node_peer", f, args);
  }

  private ErlPid victim() throws Exception {
    return assertInstanceOf(ErlPid.class, peer("victim"));
  }

  // ---- messages ----

  @Test
  void messagesBothWaysByPidAndName() throws Exception {
    Mailbox named = node.createMailbox("interop_named");
    try {
      box.send("echo", erlName, tuple(box.pid(), atom("hello")));
      assertEquals(tuple(atom("echo"), atom("hello")), expect(box, m -> true, 5_000, "echo reply"));

      assertEquals(atom("ok"), peer("send_to", tuple(atom("interop_named"), atom(javaName)), atom("by_name")));
      assertEquals(atom("by_name"), expect(named, m -> true, 5_000, "message by name"));
      assertEquals(atom("ok"), peer("send_to", box.pid(), atom("by_pid")));
      assertEquals(atom("by_pid"), expect(box, m -> true, 5_000, "message by pid"));

      // Unknown names and pids: dropped, as Erlang drops them; what follows still arrives.
      assertEquals(atom("ok"), peer("send_to", tuple(atom("nobody_here"), atom(javaName)), atom("lost")));
      Mailbox gone = node.createMailbox();
      gone.close();
      assertEquals(atom("ok"), peer("send_to", gone.pid(), atom("lost")));
      box.send(gone.pid(), atom("lost"));
      assertEquals(atom("ok"), peer("send_to", box.pid(), atom("after")));
      assertEquals(atom("after"), expect(box, m -> true, 5_000, "message after the lost ones"));
      assertEquals(0, box.queued());
    } finally {
      named.close();
    }
    assertNull(node.whereis("interop_named"), "a closed mailbox's name is free again");
  }

  @Test
  void selectiveReceiveKeepsOrderOfTheRest() throws Exception {
    for (int i = 1; i <= 3; i++) {
      assertEquals(atom("ok"), peer("send_to", box.pid(), tuple(atom("n"), integer(i))));
    }
    assertEquals(atom("ok"), peer("send_to", box.pid(), atom("wanted")));
    assertEquals(atom("wanted"), expect(box, m -> m.equals(atom("wanted")), 5_000, "wanted"));
    for (int i = 1; i <= 3; i++) {
      assertEquals(tuple(atom("n"), integer(i)), box.receive(1_000));
    }
    assertNull(box.receive(m -> true, 50));
  }

  // ---- rpc and erpc from Erlang into Java ----

  /**
   * A receiver whose predicate takes its time holds its mailbox's lock; the connection's
   * reader appends to that mailbox without the lock, so the messages behind it (here the
   * rex reply to another mailbox) still arrive at once.
   */
  @Test
  void aSlowSelectiveReceiveNeverHoldsUpTheConnection() throws Exception {
    ErlAtom block = atom("block");
    ErlAtom later = atom("later");
    CountDownLatch testing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicReference<Object> got = new AtomicReference<>();
    try (Mailbox slow = node.createMailbox()) {
      box.send(slow.pid(), block);
      Thread receiver = new Thread(() -> {
        try {
          got.set(slow.receive(m -> {
            if (block.equals(m)) {
              testing.countDown();
              try {
                release.await(20, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return false;
            }
            return later.equals(m);
          }, 30_000));
        } catch (Exception e) {
          got.set(e);
        }
      }, "slow-receiver");
      receiver.start();
      try {
        assertTrue(testing.await(10, TimeUnit.SECONDS), "the predicate never saw the first message");
        // Erlang sends `later` to the busy mailbox, then rex answers `box`: both on one connection.
        box.send("rex", erlName, tuple(box.pid(), tuple(atom("call"), atom("erlang"), atom("send"),
            list(slow.pid(), later), atom("user"))));
        ErlTerm reply = expect(box, t -> tagged(t, "rex"), 5_000, "the rex reply while another mailbox's receiver holds its lock");
        assertEquals(tuple(atom("rex"), later), reply);
        assertEquals(1, release.getCount(), "the predicate was still running");
      } finally {
        release.countDown();
        receiver.join(30_000);
      }
      assertEquals(later, got.get());
      assertEquals(block, slow.receive(0), "the message the predicate passed over stays queued");
    }
  }

  @Test
  void rpcAndErpcFromErlangReachJavaFunctions() throws Exception {
    node.registerFunction("calc", "add", 2, (self, args) -> integer(((ErlInteger) args.get(0)).longValue() + ((ErlInteger) args.get(1)).longValue()));
    node.registerFunction("calc", "fail", 1, (self, args) -> {
      throw ErlangException.error(args.get(0));
    });
    node.registerFunction("calc", "quit", 1, (self, args) -> {
      throw ErlangException.exit(args.get(0));
    });
    node.registerFunction("calc", "toss", 1, (self, args) -> {
      throw ErlangException.throwing(args.get(0));
    });
    node.registerFunction("calc", "bug", 0, (self, args) -> {
      throw new IllegalStateException("bad state");
    });
    ErlAtom java = atom(javaName);

    assertEquals(integer(42), peer("rpc_java", java, atom("calc"), atom("add"), list(integer(40), integer(2))));
    assertEquals(tuple(atom("ok"), integer(7)), peer("erpc_java", java, atom("calc"), atom("add"), list(integer(3), integer(4))));

    ErlTuple err = (ErlTuple) peer("erpc_java", java, atom("calc"), atom("fail"), list(atom("oops")));
    assertEquals(atom("error"), err.get(0), err.toString());
    ErlTuple exc = (ErlTuple) err.get(1);
    assertEquals(atom("exception"), exc.get(0));
    assertEquals(atom("oops"), exc.get(1));
    assertEquals(parse("{exit, {exception, bye}}"), peer("erpc_java", java, atom("calc"), atom("quit"), list(atom("bye"))));
    assertEquals(parse("{throw, ball}"), peer("erpc_java", java, atom("calc"), atom("toss"), list(atom("ball"))));
    assertEquals(parse("{error, {exception, undef, [{calc, nope, [1], []}]}}"),
        peer("erpc_java", java, atom("calc"), atom("nope"), list(integer(1))));
    assertEquals(parse("{error, {exception, undef, [{calc, add, [1], []}]}}"),
        peer("erpc_java", java, atom("calc"), atom("add"), list(integer(1))), "the arity is part of the name");

    ErlTuple bug = (ErlTuple) ((ErlTuple) peer("erpc_java", java, atom("calc"), atom("bug"), ErlList.NIL)).get(1);
    assertEquals(tuple(atom("java_exception"), atom("java.lang.IllegalStateException"), ErlBinary.of("bad state".getBytes())), bug.get(1));

    // rpc:call turns exceptions into badrpc, and returns a thrown value as a value.
    assertEquals(parse("{badrpc, {'EXIT', {undef, [{calc, nope, [], []}]}}}"), peer("rpc_java", java, atom("calc"), atom("nope"), ErlList.NIL));
    ErlTuple badrpc = (ErlTuple) peer("rpc_java", java, atom("calc"), atom("fail"), list(atom("oops")));
    assertEquals(atom("badrpc"), badrpc.get(0));
    assertEquals(atom("oops"), ((ErlTuple) ((ErlTuple) badrpc.get(1)).get(1)).get(0), badrpc.toString());
    assertEquals(parse("{badrpc, {'EXIT', bye}}"), peer("rpc_java", java, atom("calc"), atom("quit"), list(atom("bye"))));
    assertEquals(atom("ball"), peer("rpc_java", java, atom("calc"), atom("toss"), list(atom("ball"))));

    // spawn(Node, M, F, A): a process that exits normal, or with undef.
    assertEquals(parse("{down, normal}"), peer("spawn_java", java, atom("calc"), atom("add"), list(integer(1), integer(2))));
    assertEquals(parse("{down, {undef, [{calc, nope, [], []}]}}"), peer("spawn_java", java, atom("calc"), atom("nope"), ErlList.NIL));

    // spawn_link(Node, M, F, A): the link carries the exit reason back.
    assertEquals(parse("{exit, normal}"), peer("spawn_link_java", java, atom("calc"), atom("add"), list(integer(1), integer(2))));
    assertEquals(parse("{exit, bye}"), peer("spawn_link_java", java, atom("calc"), atom("quit"), list(atom("bye"))));

    node.unregisterFunction("calc", "add", 2);
    assertEquals(parse("{error, {exception, undef, [{calc, add, [1, 2], []}]}}"),
        peer("erpc_java", java, atom("calc"), atom("add"), list(integer(1), integer(2))));
  }

  @Test
  void aJavaFunctionRunsAsAProcessThatCanReceive() throws Exception {
    AtomicReference<ErlPid> seen = new AtomicReference<>();
    node.registerFunction("proc", "relay", 1, (self, args) -> {
      seen.set(self.pid());
      box.send(box.pid(), tuple(atom("running"), self.pid()));
      return self.receive(5_000);
    });
    Thread t = new Thread(() -> {
      try {
        ErlTuple running = (ErlTuple) expect(box, m -> tagged(m, "running"), 5_000, "running");
        reports.send((ErlPid) running.get(1), atom("relayed"));
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    t.start();
    assertEquals(tuple(atom("ok"), atom("relayed")), peer("erpc_java", atom(javaName), atom("proc"), atom("relay"), list(atom("x"))));
    t.join(5_000);
    assertFalse(seen.get() == null);
  }

  @Test
  void spawnRequestsBeyondTheThreadLimitGetSystemLimit() throws Exception {
    try (Node small = Node.builder(ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName()).cookie(COOKIE)
        .transport(io.ei4j.transport.tcp.TcpTransport.create()).listen(new java.net.InetSocketAddress(0)).maxFunctionThreads(1).build()) {
      java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
      small.registerFunction("slow", "wait", 0, (self, args) -> {
        started.countDown();
        release.await(10, java.util.concurrent.TimeUnit.SECONDS);
        return atom("waited");
      });
      Mailbox other = node.createMailbox();
      try {
        other.send("rex", erlName, tuple(other.pid(), tuple(atom("call"), atom("ei4j_node_peer"), atom("erpc_java"),
            list(atom(small.nodeName()), atom("slow"), atom("wait"), ErlList.NIL), atom("user"))));
        assertTrue(started.await(10, java.util.concurrent.TimeUnit.SECONDS), "the first call never started");
        assertEquals(parse("{error, {erpc, system_limit}}"), peer("erpc_java", atom(small.nodeName()), atom("slow"), atom("wait"), ErlList.NIL));
        release.countDown();
        assertEquals(tuple(NodeTesting.REX, tuple(atom("ok"), atom("waited"))), expect(other, m -> true, 5_000, "the first call"));
      } finally {
        release.countDown();
        other.close();
      }
    }
  }

  // ---- links and exits ----

  @Test
  void javaLinksToErlangProcessAndTrapsItsExit() throws Exception {
    box.trapExits(true);
    ErlPid v = victim();
    box.link(v);
    box.send(v, tuple(atom("die"), atom("boom")));
    assertEquals(tuple(atom("EXIT"), v, atom("boom")), expect(box, m -> tagged(m, "EXIT"), 5_000, "EXIT"));

    // A dead pid: the link comes back as noproc.
    box.link(v);
    assertEquals(tuple(atom("EXIT"), v, atom("noproc")), expect(box, m -> tagged(m, "EXIT"), 5_000, "EXIT noproc"));
  }

  @Test
  void untrappedExitKillsTheJavaMailboxButNormalDoesNot() throws Exception {
    ErlPid calm = victim();
    box.link(calm);
    box.send(calm, tuple(atom("die"), atom("normal")));
    ErlPid v = victim();
    Mailbox other = node.createMailbox();
    other.link(v);
    other.send(v, tuple(atom("die"), atom("boom")));
    ExitException e = assertThrows(ExitException.class, () -> other.receive(5_000));
    assertEquals(atom("boom"), e.reason());
    assertEquals(v, e.from());
    assertTrue(other.isClosed());
    assertNull(box.receive(200), "an exit with reason normal is ignored without trap_exit");
    assertFalse(box.isClosed());
  }

  @Test
  void unlinkStopsExitSignals() throws Exception {
    box.trapExits(true);
    ErlPid v = victim();
    box.link(v);
    box.unlink(v);
    box.send(v, tuple(atom("die"), atom("boom")));
    // A message sent after the exit from the same node arrives; the EXIT does not.
    assertEquals(atom("ok"), peer("send_to", box.pid(), atom("marker")));
    assertEquals(atom("marker"), expect(box, m -> true, 5_000, "marker"));
    assertNull(box.receive(200));
  }

  @Test
  void erlangLinksToJavaAndSeesItsExitReason() throws Exception {
    ErlPid watcher = (ErlPid) peer("link_to", box.pid(), reports.pid());
    box.close(atom("bye"));
    assertEquals(tuple(atom("exit"), watcher, atom("bye")), expect(reports, m -> tagged(m, "exit"), 5_000, "EXIT at Erlang"));
  }

  @Test
  void erlangUnlinkFromJavaStopsExitSignals() throws Exception {
    ErlPid p = (ErlPid) peer("link_unlink", box.pid(), reports.pid());
    box.close(atom("after_unlink"));
    assertEquals(tuple(atom("no_exit"), p), expect(reports, m -> tagged(m, "no_exit") || tagged(m, "exit"), 5_000, "no EXIT after unlink"));
  }

  @Test
  void erlangExit2ReachesJava() throws Exception {
    box.trapExits(true);
    assertEquals(atom("true"), peer("exit_to", box.pid(), atom("foo")));
    ErlTuple ex = (ErlTuple) expect(box, m -> tagged(m, "EXIT"), 5_000, "trapped exit/2");
    assertEquals(atom("foo"), ex.get(2));
    assertInstanceOf(ErlPid.class, ex.get(1));

    ErlPid watcher = (ErlPid) peer("link_to", box.pid(), reports.pid());
    assertEquals(atom("true"), peer("exit_to", box.pid(), atom("kill")));
    ExitException e = assertThrows(ExitException.class, () -> box.receive(5_000));
    assertEquals(atom("killed"), e.reason(), "kill is untrappable and becomes killed");
    assertEquals(tuple(atom("exit"), watcher, atom("killed")), expect(reports, m -> tagged(m, "exit"), 5_000, "linked Erlang process told"));

    Mailbox plain = node.createMailbox();
    assertEquals(atom("true"), peer("exit_to", plain.pid(), atom("normal")));
    assertEquals(atom("ok"), peer("send_to", plain.pid(), atom("still_here")));
    assertEquals(atom("still_here"), expect(plain, m -> true, 5_000, "message after exit(Pid, normal)"));
    assertEquals(atom("true"), peer("exit_to", plain.pid(), atom("shutdown")));
    assertEquals(atom("shutdown"), assertThrows(ExitException.class, () -> plain.receive(5_000)).reason());
  }

  @Test
  void javaExit2KillsErlangProcess() throws Exception {
    ErlPid v = victim();
    ErlRef ref = box.monitor(v);
    box.exit(v, atom("kill"));
    assertEquals(tuple(atom("DOWN"), ref, atom("process"), v, atom("killed")), expect(box, m -> tagged(m, "DOWN"), 5_000, "DOWN"));
  }

  @Test
  void linksBetweenLocalMailboxes() throws Exception {
    Mailbox a = node.createMailbox();
    box.trapExits(true);
    box.link(a.pid());
    a.close(atom("local_reason"));
    assertEquals(tuple(atom("EXIT"), a.pid(), atom("local_reason")), expect(box, m -> tagged(m, "EXIT"), 1_000, "local EXIT"));
    ErlRef ref = box.monitor(a.pid());
    assertEquals(tuple(atom("DOWN"), ref, atom("process"), a.pid(), atom("noproc")), expect(box, m -> tagged(m, "DOWN"), 1_000, "local noproc"));
  }

  // ---- monitors ----

  @Test
  void erlangMonitorsJavaByPidAndByName() throws Exception {
    ErlPid w = (ErlPid) peer("watch", box.pid(), reports.pid());
    box.close(atom("gone"));
    assertEquals(tuple(atom("down"), w, box.pid(), atom("gone")), expect(reports, m -> tagged(m, "down"), 5_000, "DOWN by pid"));

    Mailbox named = node.createMailbox("watched_by_name");
    ErlTuple byName = tuple(atom("watched_by_name"), atom(javaName));
    ErlPid w2 = (ErlPid) peer("watch", byName, reports.pid());
    named.close();
    assertEquals(tuple(atom("down"), w2, byName, atom("normal")), expect(reports, m -> tagged(m, "down"), 5_000, "DOWN by name"));

    ErlTuple nobody = tuple(atom("nobody_by_that_name"), atom(javaName));
    ErlPid w3 = (ErlPid) peer("watch", nobody, reports.pid());
    assertEquals(tuple(atom("down"), w3, nobody, atom("noproc")), expect(reports, m -> tagged(m, "down"), 5_000, "DOWN noproc"));
  }

  @Test
  void javaMonitorsErlangByPidAndByName() throws Exception {
    ErlPid v = victim();
    ErlRef ref = box.monitor(v);
    box.send(v, tuple(atom("die"), atom("bye")));
    assertEquals(tuple(atom("DOWN"), ref, atom("process"), v, atom("bye")), expect(box, m -> tagged(m, "DOWN"), 5_000, "DOWN"));

    ErlRef r2 = box.monitor("no_such_server", erlName);
    assertEquals(tuple(atom("DOWN"), r2, atom("process"), tuple(atom("no_such_server"), atom(erlName)), atom("noproc")),
        expect(box, m -> tagged(m, "DOWN"), 5_000, "DOWN noproc by name"));

    ErlPid gs = (ErlPid) peer("rpc_java", atom(erlName), atom("ei4j_node_gs"), atom("start"), list(atom("monitored_gs")));
    ErlRef r3 = box.monitor("monitored_gs", erlName);
    box.exit(gs, atom("kill"));
    assertEquals(tuple(atom("DOWN"), r3, atom("process"), tuple(atom("monitored_gs"), atom(erlName)), atom("killed")),
        expect(box, m -> tagged(m, "DOWN"), 5_000, "DOWN by name"));

    ErlPid v2 = victim();
    ErlRef r4 = box.monitor(v2);
    box.demonitor(r4);
    box.send(v2, tuple(atom("die"), atom("bye")));
    assertEquals(atom("ok"), peer("send_to", box.pid(), atom("marker")));
    assertEquals(atom("marker"), expect(box, m -> true, 5_000, "marker"));
    assertNull(box.receive(200), "no DOWN after demonitor");
  }

  // ---- gen_server ----

  @Test
  void javaCallsErlangGenServer() throws Exception {
    ErlPid gs = (ErlPid) peer("rpc_java", atom(erlName), atom("ei4j_node_gs"), atom("start"), list(atom("counter_gs")));
    assertEquals(integer(5), GenServer.call(box, "counter_gs", erlName, tuple(atom("add"), integer(5)), 5_000));
    GenServer.cast(box, gs, tuple(atom("add"), integer(1)));
    assertEquals(integer(6), GenServer.call(box, gs, atom("get"), 5_000));

    CallException timeout = assertThrows(CallException.class,
        () -> GenServer.call(box, gs, tuple(atom("sleep"), integer(400)), 50));
    assertTrue(timeout.isTimeout());
    assertNull(box.receive(800), "a late reply goes to a deactivated alias and is dropped");

    CallException crash = assertThrows(CallException.class, () -> GenServer.call(box, gs, atom("crash"), 5_000));
    assertEquals(atom("crashed_on_purpose"), crash.reason());
    CallException noproc = assertThrows(CallException.class, () -> GenServer.call(box, "counter_gs", erlName, atom("get"), 5_000));
    assertEquals(atom("noproc"), noproc.reason());
    assertEquals(0, box.queued());
  }

  @Test
  void erlangCallsJavaGenServer() throws Exception {
    Mailbox server = node.createMailbox("java_gs");
    Thread loop = new Thread(() -> {
      try {
        while (true) {
          ErlTerm m = server.receive();
          GenServer.Call call = GenServer.Call.of(m).orElseThrow();
          if (call.request().equals(atom("stop"))) {
            server.close(atom("stopped"));
            return;
          }
          call.reply(server, tuple(atom("got"), call.request()));
        }
      } catch (ExitException | InterruptedException e) {
        // closed
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }, "java-gs");
    loop.start();
    try {
      assertEquals(tuple(atom("ok"), tuple(atom("got"), atom("hello"))), peer("gen_call", tuple(atom("java_gs"), atom(javaName)), atom("hello")));
      assertEquals(tuple(atom("ok"), tuple(atom("got"), integer(2))), peer("gen_call", server.pid(), integer(2)));
      ErlTuple stopped = (ErlTuple) peer("gen_call", server.pid(), atom("stop"));
      assertEquals(atom("exit"), stopped.get(0));
      assertEquals(atom("stopped"), ((ErlTuple) stopped.get(1)).get(0), stopped.toString());
      ErlTuple noproc = (ErlTuple) peer("gen_call", tuple(atom("java_gs"), atom(javaName)), atom("again"));
      assertEquals(atom("noproc"), ((ErlTuple) noproc.get(1)).get(0), noproc.toString());
    } finally {
      server.close();
      loop.join(5_000);
    }
  }

  @Test
  void callsToAnUnreachableNodeFailWithNoconnection() throws Exception {
    String nowhere = ErlangPeer.uniqueName("nowhere") + "@" + ErlangPeer.shortHostName();
    CallException e = assertThrows(CallException.class, () -> GenServer.call(box, "any", nowhere, atom("hi"), 5_000));
    assertEquals(atom("noconnection"), e.reason());
    assertEquals(0, box.queued());
    assertThrows(java.io.IOException.class, () -> box.send("any", nowhere, atom("hi")), "a send to an unreachable node throws");
  }

  // ---- isolation ----

  @Test
  void aSlowMailboxOrFunctionStallsNothingElse() throws Exception {
    // A mailbox nobody reads takes a flood while another mailbox keeps talking.
    Mailbox idle = node.createMailbox();
    try {
      assertEquals(atom("ok"), peer("flood", idle.pid(), integer(20_000)));
      for (int i = 0; i < 20; i++) {
        box.send("echo", erlName, tuple(box.pid(), integer(i)));
        assertEquals(tuple(atom("echo"), integer(i)), expect(box, m -> true, 2_000, "echo " + i));
      }
      long deadline = System.currentTimeMillis() + 10_000;
      while (idle.queued() < 20_000 && System.currentTimeMillis() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(20_000, idle.queued());
      assertEquals(tuple(atom("flood"), integer(1)), idle.receive(0));
    } finally {
      idle.close();
    }

    // A Java function that blocks does not hold up another call.
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    node.registerFunction("slow", "wait", 0, (self, args) -> {
      release.await(10, java.util.concurrent.TimeUnit.SECONDS);
      return atom("waited");
    });
    node.registerFunction("slow", "quick", 0, (self, args) -> atom("quick"));
    Mailbox other = node.createMailbox();
    try {
      other.send("rex", erlName, tuple(other.pid(), tuple(atom("call"), atom("ei4j_node_peer"), atom("erpc_java"),
          list(atom(javaName), atom("slow"), atom("wait"), ErlList.NIL), atom("user"))));
      assertEquals(tuple(atom("ok"), atom("quick")), peer("erpc_java", atom(javaName), atom("slow"), atom("quick"), ErlList.NIL));
      assertNull(other.receive(0), "the slow call is still running");
      release.countDown();
      assertEquals(tuple(NodeTesting.REX, tuple(atom("ok"), atom("waited"))), expect(other, m -> true, 5_000, "slow reply"));
    } finally {
      other.close();
    }
  }

  // ---- aliases ----

  @Test
  void aliasesBothWays() throws Exception {
    Thread replier = new Thread(() -> {
      try {
        ErlTuple req = (ErlTuple) expect(box, m -> tagged(m, "alias_req"), 5_000, "alias request");
        box.sendAlias((ErlRef) req.get(1), tuple(atom("alias_reply"), req.get(2)));
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    replier.start();
    assertEquals(tuple(atom("ok"), atom("payload")), peer("alias_roundtrip", box.pid(), atom("payload")));
    replier.join(5_000);

    ErlRef alias = reports.createAlias();
    assertEquals(atom("ok"), peer("send_to", alias, atom("via_alias")));
    assertEquals(atom("via_alias"), expect(reports, m -> m.equals(atom("via_alias")), 5_000, "message to alias"));
    assertTrue(reports.deactivateAlias(alias));
    assertEquals(atom("ok"), peer("send_to", alias, atom("dropped")));
    assertEquals(atom("ok"), peer("send_to", reports.pid(), atom("marker")));
    assertEquals(atom("marker"), expect(reports, m -> true, 5_000, "marker"));
    assertNull(reports.receive(100));
  }
}
