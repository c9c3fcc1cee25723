package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control messages a real Erlang process sends to a Java pid, received as typed
 * {@link EiMessage}s: LINK, UNLINK_ID (acknowledged), EXIT2 and EXIT (payload forms),
 * GROUP_LEADER, MONITOR_P and DEMONITOR_P; and the uniqueness of made pids and refs.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ErlangSignalsTest {
  private static final String COOKIE = "ei4j_signals";
  private static final String MODULE = """
      -module(ei4j_ctl).
      -export([start/0]).
      start() -> register(ctl, spawn(fun loop/0)), io:format("ready~n").
      loop() ->
          receive
              {run, J} ->
                  link(J),
                  unlink(J),
                  exit(J, bye),
                  group_leader(self(), J),
                  M = erlang:monitor(process, J),
                  Me = self(),
                  spawn(fun() -> link(J), Me ! linked, exit(done) end),
                  receive linked -> ok end,
                  erlang:demonitor(M),
                  J ! finished,
                  loop()
          end.
      """;

  @Test
  void erlangSignalsArriveAsTypedMessages(@TempDir Path dir) throws IOException {
    Path ebin = ErlangPeer.compile(dir, "ei4j_ctl", MODULE);
    try (ErlangPeer peer = ErlangPeer.builder().sname(ErlangPeer.uniqueName("sig")).cookie(COOKIE)
            .codePath(ebin).eval("ei4j_ctl:start()").readyLine("^ready").start();
         EiNode node = EiNode.builder(ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName())
            .cookie(COOKIE).transport(TcpTransport.create())
            // OTP 25 sends MONITOR_P only to nodes that also have DIST_MONITOR_NAME.
            .advertise(DistFlag.DIST_MONITOR_NAME).build();
         EiConnection c = node.connect(peer.nodeName(), 10_000)) {
      ErlPid j = c.self();
      c.regSend(j, "ctl", ErlTuple.of(ErlAtom.of("run"), j));

      EiMessage.Link link = assertInstanceOf(EiMessage.Link.class, c.receive(10_000));
      ErlPid ctl = link.from();
      assertEquals(j, link.to());
      EiMessage.Unlink unlink = assertInstanceOf(EiMessage.Unlink.class, c.receive(10_000));
      assertEquals(ctl, unlink.from());
      assertNotEquals(0, unlink.id(), "OTP 25 unlinks with UNLINK_ID");
      EiMessage.Exit2 exit2 = assertInstanceOf(EiMessage.Exit2.class, c.receive(10_000));
      assertEquals(ErlAtom.of("bye"), exit2.reason());
      assertEquals(j, exit2.to());
      EiMessage.GroupLeader gl = assertInstanceOf(EiMessage.GroupLeader.class, c.receive(10_000));
      assertEquals(ctl, gl.from());
      EiMessage.Monitor mon = assertInstanceOf(EiMessage.Monitor.class, c.receive(10_000));
      assertEquals(j, mon.toProc());
      assertEquals(ctl, mon.from());
      EiMessage.Link link2 = assertInstanceOf(EiMessage.Link.class, c.receive(10_000));
      // The exit comes from the spawned process, the demonitor and the message from ctl:
      // Erlang orders signals per sender only, so the exit may come anywhere among them.
      List<EiMessage> rest = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        rest.add(c.receive(10_000));
      }
      List<EiMessage> exits = rest.stream().filter(m -> m instanceof EiMessage.Exit).toList();
      assertEquals(1, exits.size(), "one EXIT among " + rest);
      EiMessage.Exit exit = (EiMessage.Exit) exits.get(0);
      rest.remove(exit);
      EiMessage.Demonitor demon = assertInstanceOf(EiMessage.Demonitor.class, rest.get(0));
      assertEquals(mon.ref(), demon.ref());
      assertEquals(link2.from(), exit.from());
      assertEquals(ErlAtom.of("done"), exit.reason());
      EiMessage.Send fin = assertInstanceOf(EiMessage.Send.class, rest.get(1));
      assertEquals(ErlAtom.of("finished"), fin.message());
      assertTrue(c.isOpen());
    }
  }

  @Test
  void madePidsAndRefsAreUniqueAndCarryTheNode() throws IOException {
    try (EiNode node = EiNode.builder("unique@localhost").cookie("c").transport(TcpTransport.create()).creation(77).build()) {
      Set<ErlPid> pids = new HashSet<>();
      Set<ErlRef> refs = new HashSet<>();
      for (int i = 0; i < 100_000; i++) {
        ErlPid p = node.makePid();
        ErlRef r = node.makeRef();
        assertTrue(pids.add(p), "duplicate pid " + p);
        assertTrue(refs.add(r), "duplicate ref " + r);
      }
      ErlPid p = node.makePid();
      assertEquals(ErlAtom.of("unique@localhost"), p.node());
      assertEquals(77, p.creation());
      ErlRef r = node.makeRef();
      assertEquals(ErlAtom.of("unique@localhost"), r.node());
      assertEquals(77, r.creation());
      assertEquals(3, r.ids().length);
    }
  }
}
