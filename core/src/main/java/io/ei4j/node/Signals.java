package io.ei4j.node;

import io.ei4j.connect.EiConnection;
import io.ei4j.internal.dist.ControlMessages;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Links, exit signals and monitors, both ways: what a {@link Mailbox} asks for (link,
 * unlink, {@code exit/2}, monitor, demonitor), what a peer's control messages ask of the
 * node's mailboxes, what a dying mailbox tells its links and monitors, and the
 * {@code noconnection} fan-out when a node is lost. It is the only writer of each mailbox's
 * {@link ProcessSignals} links and monitors. Signals to remote processes go out through
 * {@link Outgoing}; see {@code CONCURRENCY.md}, "Exit signals", for the order and threads.
 */
final class Signals {
  static final ErlAtom NET_KERNEL = ErlAtom.of("net_kernel");
  private static final ErlAtom ABANDONED = ErlAtom.of("abandoned");

  private final Node node;
  private final ProcessTable table;
  private final Outgoing out;
  private final AtomicLong unlinkIds = new AtomicLong();
  /**
   * Spawn requests given up before their reply ({@link #abandonSpawn}), by request id; an
   * entry goes when its reply arrives or its peer's connection is lost.
   */
  private final Map<ErlRef, Abandoned> abandoned = new ConcurrentHashMap<>();

  /** An abandoned spawn request: who asked, and which node runs it. */
  private record Abandoned(ErlPid caller, String peer) {}

  Signals(Node node, ProcessTable table, Outgoing out) {
    this.node = node;
    this.table = table;
    this.out = out;
  }

  // ---- asked by a mailbox ----

  void link(Mailbox from, ErlPid to) {
    from.signalState().links.add(to);
    if (node.isLocal(to.node())) {
      Mailbox m = table.byPid(to);
      if (m == null || !linkArrived(from.pid(), m)) {
        from.signalState().links.remove(to);
        from.exitSignal(to, Mailbox.NOPROC, true);
      }
      return;
    }
    if (!out.signal(to.node().name(), ErlTuple.of(ErlInteger.of(ControlMessages.LINK), from.pid(), to), true)) {
      from.signalState().links.remove(to);
      from.exitSignal(to, Mailbox.NOCONNECTION, true);
    }
  }

  /**
   * Records a link from {@code from} on {@code to}; false when {@code to} is dead, also when
   * it died while the link was being added and its exit did not see the link.
   */
  private static boolean linkArrived(ErlPid from, Mailbox to) {
    if (to.isClosed()) {
      return false;
    }
    to.signalState().links.add(from);
    return !to.isClosed() || !to.signalState().links.remove(from);
  }

  void unlink(Mailbox from, ErlPid to) {
    if (!from.signalState().links.remove(to)) {
      return;
    }
    if (node.isLocal(to.node())) {
      Mailbox m = table.byPid(to);
      if (m != null) {
        m.signalState().links.remove(from.pid());
      }
      return;
    }
    EiConnection c = node.existingConnection(to.node().name());
    if (c == null || !c.isOpen()) {
      return;
    }
    ErlTuple control = PeerCapabilities.of(c).unlinkId()
        ? ErlTuple.of(ErlInteger.of(ControlMessages.UNLINK_ID), ErlInteger.of(unlinkIds.incrementAndGet()), from.pid(), to)
        : ErlTuple.of(ErlInteger.of(ControlMessages.UNLINK), from.pid(), to);
    out.signal(to.node().name(), control, false);
  }

  void exit2(ErlPid from, ErlPid to, ErlTerm reason) throws IOException {
    if (node.isLocal(to.node())) {
      Mailbox m = table.byPid(to);
      if (m != null) {
        m.exitSignal(from, reason, false);
      }
      return;
    }
    out.sendControl(node.connection(to.node().name()), ErlTuple.of(ErlInteger.of(ControlMessages.EXIT2), from, to, reason), null,
        out.sendTimeoutMillis());
  }

  ErlRef monitor(Mailbox from, ErlTerm target, String targetNode, ErlTerm downObject) {
    ErlRef ref = node.makeRef();
    ProcessSignals.Monitoring mon = new ProcessSignals.Monitoring(target, targetNode, downObject);
    from.signalState().monitoring.put(ref, mon);
    if (targetNode.equals(node.nodeName())) {
      Mailbox m = table.byTarget(target);
      if (m == null || !watch(m, ref, from.pid(), target)) {
        if (from.signalState().monitoring.remove(ref, mon)) {
          from.deliverSignal(ErlTuple.of(Mailbox.DOWN, ref, Mailbox.PROCESS, downObject, Mailbox.NOPROC));
        }
      }
      return ref;
    }
    // A peer that cannot take MONITOR_P gets none (PeerCapabilities): the monitor stays local
    // and fires noconnection when the connection goes (connectionLost), as on Erlang.
    EiConnection c;
    try {
      c = node.connection(targetNode);
    } catch (IOException | RuntimeException e) {
      c = null;
    }
    boolean kept = c != null && c.isOpen() && (!PeerCapabilities.of(c).remoteMonitor(target instanceof ErlAtom)
        || out.signal(targetNode, ErlTuple.of(ErlInteger.of(ControlMessages.MONITOR_P), from.pid(), target, ref), false));
    if (!kept) {
      if (from.signalState().monitoring.remove(ref, mon)) {
        from.deliverSignal(ErlTuple.of(Mailbox.DOWN, ref, Mailbox.PROCESS, downObject, Mailbox.NOCONNECTION));
      }
    }
    return ref;
  }

  private static boolean watch(Mailbox target, ErlRef ref, ErlPid watcher, ErlTerm toProc) {
    if (target.isClosed()) {
      return false;
    }
    target.signalState().watchers.put(ref, new ProcessSignals.Watcher(watcher, toProc));
    // closed in between: its exit already sent DOWNs to the watchers it saw; this one too
    return !target.isClosed() || target.signalState().watchers.remove(ref) == null;
  }

  /** Removes the monitor {@code ref} of {@code from}, if it holds one, and tells its target. */
  void demonitor(Mailbox from, ErlRef ref) {
    ProcessSignals.Monitoring mon = from.signalState().monitoring.remove(ref);
    if (mon != null) {
      demonitor(from, ref, mon);
    }
  }

  void demonitor(Mailbox from, ErlRef ref, ProcessSignals.Monitoring mon) {
    if (mon.nodeName().equals(node.nodeName())) {
      Mailbox m = table.byTarget(mon.target());
      if (m != null) {
        m.signalState().watchers.remove(ref);
      }
      return;
    }
    EiConnection c = node.existingConnection(mon.nodeName());
    if (c != null && PeerCapabilities.of(c).remoteMonitor(mon.target() instanceof ErlAtom)) {
      out.signal(mon.nodeName(), ErlTuple.of(ErlInteger.of(ControlMessages.DEMONITOR_P), from.pid(), mon.target(), ref), false);
    }
  }

  /** A process this node spawned for a peer starts linked to {@code from} ({@code SPAWN_REQUEST} option {@code link}). */
  void linkAtSpawn(Mailbox self, ErlPid from) {
    self.signalState().links.add(from);
  }

  /** A process this node spawned for a peer starts monitored by {@code from} under {@code ref} (option {@code monitor}). */
  void monitorAtSpawn(Mailbox self, ErlRef ref, ErlPid from) {
    self.signalState().watchers.put(ref, new ProcessSignals.Watcher(from, self.pid()));
  }

  // ---- a mailbox died ----

  /** A mailbox died: unregister it, then signal its links and monitors. */
  void exited(Mailbox m, ErlTerm reason) {
    table.remove(m);
    if (node.isClosed()) {
      return;
    }
    ProcessSignals state = m.signalState();
    for (ErlPid p : state.links) {
      state.links.remove(p);
      if (node.isLocal(p.node())) {
        Mailbox other = table.byPid(p);
        if (other != null && other.signalState().links.remove(m.pid())) {
          other.exitSignal(m.pid(), reason, true);
        }
      } else {
        out.signal(p.node().name(), ErlTuple.of(ErlInteger.of(ControlMessages.EXIT), m.pid(), p, reason), false);
      }
    }
    state.watchers.forEach((ref, w) -> {
      if (state.watchers.remove(ref) == null) {
        return;
      }
      if (node.isLocal(w.watcher().node())) {
        Mailbox other = table.byPid(w.watcher());
        if (other != null) {
          ProcessSignals.Monitoring mon = other.signalState().monitoring.remove(ref);
          if (mon != null) {
            other.deliverSignal(ErlTuple.of(Mailbox.DOWN, ref, Mailbox.PROCESS, mon.downObject(), reason));
          }
        }
      } else {
        out.signal(w.watcher().node().name(),
            ErlTuple.of(ErlInteger.of(ControlMessages.MONITOR_P_EXIT), w.toProc(), w.watcher(), ref, reason), false);
      }
    });
    state.monitoring.forEach((ref, mon) -> {
      if (state.monitoring.remove(ref) != null) {
        demonitor(m, ref, mon);
      }
    });
  }

  // ---- a node was lost ----

  /** The connection to {@code peer} went down: noconnection to every link and monitor that involves it. */
  /**
   * As {@code erlang:spawn_request_abandon/1}, for a spawn request {@code caller} sent to
   * {@code peer} and no longer waits for: should the spawn succeed, the new process is sent
   * an exit signal with reason {@code abandoned}, when the reply arrives
   * ({@link #spawnReplyArrived}) or, if it has just arrived, now.
   *
   * @return true when the reply had arrived already (then the caller may still find its
   *     outcome in the mailbox, but the process is being told to exit)
   */
  boolean abandonSpawn(ErlRef reqId, Mailbox caller, String peer) throws InterruptedException {
    ErlTerm arrived;
    synchronized (abandoned) {
      try {
        arrived = caller.receive(x -> x instanceof ErlTuple t && t.arity() == 4 && RemoteCalls.SPAWN_REPLY.equals(t.get(0))
            && reqId.equals(t.get(1)), 0);
      } catch (ExitException e) {
        arrived = null; // the caller was killed meanwhile: it no longer cares either way
      }
      if (arrived == null) {
        abandoned.put(reqId, new Abandoned(caller.pid(), peer));
        return false;
      }
    }
    if (((ErlTuple) arrived).get(3) instanceof ErlPid started) {
      try {
        exit2(caller.pid(), started, ABANDONED);
      } catch (IOException e) {
        // the connection is gone, and the process with it
      }
    }
    return true;
  }

  /**
   * {@code SPAWN_REPLY}, {@code {31, ReqId, To, Flags, Result}}: to the caller as
   * {@code {spawn_reply, ReqId, ok | error, Result}}; for a request the caller abandoned,
   * a process it started is told to exit with reason {@code abandoned} instead.
   */
  void spawnReplyArrived(EiConnection c, ErlTuple reply) {
    if (reply.arity() != 5 || !(reply.get(1) instanceof ErlRef reqId) || !(reply.get(2) instanceof ErlPid to)) {
      return;
    }
    ErlTerm result = reply.get(4);
    synchronized (abandoned) {
      if (abandoned.remove(reqId) == null) {
        Mailbox m = table.byPid(to);
        if (m != null) {
          m.deliverSignal(ErlTuple.of(RemoteCalls.SPAWN_REPLY, reqId, result instanceof ErlPid ? RemoteCalls.OK : RemoteCalls.ERROR,
              result));
        }
        return;
      }
    }
    if (result instanceof ErlPid started) {
      out.answer(c, ErlTuple.of(ErlInteger.of(ControlMessages.EXIT2), to, started, ABANDONED));
    }
  }

  void connectionLost(String peer) {
    abandoned.values().removeIf(a -> a.peer().equals(peer));
    ErlAtom peerAtom = ErlAtom.of(peer);
    for (Mailbox m : table.all()) {
      ProcessSignals state = m.signalState();
      for (ErlPid p : state.links) {
        if (p.node().equals(peerAtom) && state.links.remove(p)) {
          m.exitSignal(p, Mailbox.NOCONNECTION, true);
        }
      }
      state.monitoring.forEach((ref, mon) -> {
        if (peer.equals(mon.nodeName()) && state.monitoring.remove(ref, mon)) {
          m.deliverSignal(ErlTuple.of(Mailbox.DOWN, ref, Mailbox.PROCESS, mon.downObject(), Mailbox.NOCONNECTION));
        }
      });
      state.watchers.values().removeIf(w -> w.watcher().node().equals(peerAtom));
    }
  }

  // ---- asked by a peer (on the thread that read the control message) ----

  void linkArrived(EiConnection c, ErlPid from, ErlPid to) {
    Mailbox m = table.byPid(to);
    if (m == null || !linkArrived(from, m)) {
      out.answer(c, ErlTuple.of(ErlInteger.of(ControlMessages.EXIT), to, from, Mailbox.NOPROC));
    }
  }

  void unlinkArrived(ErlPid from, ErlPid to) {
    Mailbox m = table.byPid(to);
    if (m != null) {
      m.signalState().links.remove(from);
    }
  }

  /** {@code EXIT}: a linked process died. */
  void exitArrived(ErlPid from, ErlPid to, ErlTerm reason) {
    Mailbox m = table.byPid(to);
    if (m != null && m.signalState().links.remove(from)) {
      m.exitSignal(from, reason, true);
    }
  }

  /** {@code EXIT2}: {@code exit(To, Reason)}. */
  void exit2Arrived(ErlPid from, ErlPid to, ErlTerm reason) {
    Mailbox m = table.byPid(to);
    if (m != null) {
      m.exitSignal(from, reason, false);
    }
  }

  void monitorArrived(EiConnection c, ErlPid from, ErlTerm toProc, ErlRef ref) {
    Mailbox m = table.byTarget(toProc);
    if (m == null && NET_KERNEL.equals(toProc)) {
      // net_adm:ping/1 monitors {net_kernel, Node} before it asks is_auth, which the
      // connection answers itself: that net_kernel lives as long as the connection, so
      // the monitor stands (a noproc would make the ping fail with pang).
      return;
    }
    if (m == null || !watch(m, ref, from, toProc)) {
      out.answer(c, ErlTuple.of(ErlInteger.of(ControlMessages.MONITOR_P_EXIT), toProc, from, ref, Mailbox.NOPROC));
    }
  }

  void demonitorArrived(ErlTerm toProc, ErlRef ref) {
    Mailbox m = table.byTarget(toProc);
    if (m != null) {
      m.signalState().watchers.remove(ref);
    }
  }

  /** {@code MONITOR_P_EXIT}: a process this node's mailbox monitors died. */
  void monitorExitArrived(ErlPid to, ErlRef ref, ErlTerm reason) {
    Mailbox m = table.byPid(to);
    if (m != null) {
      ProcessSignals.Monitoring mon = m.signalState().monitoring.remove(ref);
      if (mon != null) {
        m.deliverSignal(ErlTuple.of(Mailbox.DOWN, ref, Mailbox.PROCESS, mon.downObject(), reason));
      }
    }
  }
}
