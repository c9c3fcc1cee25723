package io.ei4j.node;

import io.ei4j.internal.dist.ControlMessages;
import io.ei4j.connect.EiConnection;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;

/**
 * Calls from a {@link Node} to functions on other nodes (and on itself): {@link Node#rpc}
 * through the peer's {@code rex}, {@link Node#erpc} through a spawn request as
 * {@code erpc:call} makes it, and their casts. Each call runs from a mailbox of its own,
 * made for the call and closed after it, so that late replies have nowhere to land.
 */
final class RemoteCalls {
  static final ErlAtom SPAWN_REPLY = ErlAtom.of("spawn_reply");
  static final ErlAtom OK = ErlAtom.of("ok");
  static final ErlAtom ERROR = ErlAtom.of("error");
  private static final ErlAtom USER = ErlAtom.of("user");
  private static final ErlAtom NODEDOWN = ErlAtom.of("nodedown");
  private static final ErlAtom TIMEOUT = ErlAtom.of("timeout");
  private static final ErlAtom NOTSUP = ErlAtom.of("notsup");
  private static final ErlAtom SYSTEM_LIMIT = ErlAtom.of("system_limit");
  private static final ErlAtom KILL = ErlAtom.of("kill");
  private static final ErlAtom ERPC_ATOM = ErlAtom.of("erpc");
  private static final ErlTuple EXECUTE_CALL_4 = ErlTuple.of(RemoteFunctions.ERPC, RemoteFunctions.EXECUTE_CALL, ErlInteger.of(4));
  private static final ErlTuple EXECUTE_CAST_3 = ErlTuple.of(RemoteFunctions.ERPC, RemoteFunctions.EXECUTE_CAST, ErlInteger.of(3));

  private RemoteCalls() {}

  // ---- rpc (rex) ----

  /** See {@link Node#rpc}. */
  static ErlTerm rpc(Node node, String peer, String m, String f, List<ErlTerm> args, long timeoutMillis)
      throws InterruptedException {
    ErlTuple request = ErlTuple.of(RexServer.CALL, ErlAtom.of(m), ErlAtom.of(f), ErlList.of(args), USER);
    Mailbox self = node.createMailbox();
    try {
      return GenServer.call(self, RexServer.NAME, peer, request, timeoutMillis);
    } catch (CallException e) {
      if (e.isTimeout()) {
        return ErlTuple.of(RexServer.BADRPC, TIMEOUT);
      }
      if (Mailbox.NOCONNECTION.equals(e.reason())) {
        return ErlTuple.of(RexServer.BADRPC, NODEDOWN);
      }
      return RexServer.badrpc(e.reason());
    } catch (IOException e) {
      return ErlTuple.of(RexServer.BADRPC, NODEDOWN);
    } catch (ExitException e) {
      return RexServer.badrpc(e.reason()); // the node closed under the call
    } finally {
      self.close();
    }
  }

  /** See {@link Node#cast}: {@code gen_server:cast({rex, Peer}, {cast, M, F, A, user})}. */
  static void cast(Node node, String peer, String m, String f, List<ErlTerm> args) throws IOException {
    ErlTuple request = ErlTuple.of(RexServer.CAST, ErlAtom.of(m), ErlAtom.of(f), ErlList.of(args), USER);
    Mailbox self = node.createMailbox();
    try {
      GenServer.cast(self, RexServer.NAME, peer, request);
    } finally {
      self.close();
    }
  }

  // ---- erpc (spawn requests) ----

  /** See {@link Node#erpc}. */
  static ErlTerm erpc(Node node, String peer, String m, String f, List<ErlTerm> args, long timeoutMillis)
      throws ErpcException, InterruptedException {
    String what = "erpc:call(" + peer + ", " + m + ", " + f + ", " + args.size() + " args)";
    ErlAtom mod = ErlAtom.of(m);
    ErlAtom fun = ErlAtom.of(f);
    ErlList a = ErlList.of(args);
    long deadline = timeoutMillis < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutMillis * 1_000_000L;
    Mailbox self = node.createMailbox();
    try {
      ErlRef res = node.makeRef();
      ErlRef reqId = node.makeRef();
      if (peer.equals(node.nodeName())) {
        return local(node, self, res, reqId, mod, fun, a, deadline, what);
      }
      EiConnection c;
      try {
        c = node.connection(peer);
      } catch (IOException | IllegalStateException e) {
        throw erpcFailure(Mailbox.NOCONNECTION, what);
      }
      if (!PeerCapabilities.of(c).spawn()) {
        throw erpcFailure(NOTSUP, what);
      }
      // The monitor the spawn request asks for, under the request's id: its 'DOWN' brings
      // the outcome, and a lost connection turns it into noconnection.
      self.signalState().monitoring.put(reqId, new ProcessSignals.Monitoring(ErlAtom.UNDEFINED, peer, ErlAtom.UNDEFINED));
      ErlTuple control = ErlTuple.of(ErlInteger.of(ControlMessages.SPAWN_REQUEST), reqId, self.pid(), groupLeader(node, self),
          EXECUTE_CALL_4, ErlList.of(RemoteFunctions.MONITOR));
      try {
        node.outgoing().sendControl(c, control, ErlList.of(res, mod, fun, a), Math.max(1, remaining(deadline)));
      } catch (IOException e) {
        self.signalState().monitoring.remove(reqId);
        throw erpcFailure(Mailbox.NOCONNECTION, what);
      }
      return await(node, self, res, reqId, deadline, what);
    } finally {
      self.close();
    }
  }

  private static ErlTerm await(Node node, Mailbox self, ErlRef res, ErlRef reqId, long deadline, String what)
      throws ErpcException, InterruptedException {
    ErlPid pid = null;
    while (true) {
      long left = remaining(deadline);
      ErlTerm msg;
      try {
        msg = left <= 0 ? null : self.receive(x -> isReply(x, reqId), left == Long.MAX_VALUE ? -1 : left);
      } catch (ExitException e) {
        throw erpcFailure(Mailbox.NOCONNECTION, what);
      }
      if (msg == null) {
        ProcessSignals.Monitoring mon = self.signalState().monitoring.remove(reqId);
        if (pid == null && mon != null && !node.isLocal(ErlAtom.of(mon.nodeName()))) {
          // no spawn reply yet: as erpc, abandon the request, so a process it starts is ended
          node.signals().abandonSpawn(reqId, self, mon.nodeName());
        }
        if (pid != null && mon != null) {
          node.signals().demonitor(self, reqId, mon);
          try {
            node.signals().exit2(self.pid(), pid, KILL); // as erpc does with a call that timed out
          } catch (IOException e) {
            // the connection is gone, and the process with it
          }
        }
        throw erpcFailure(TIMEOUT, what);
      }
      ErlTuple t = (ErlTuple) msg;
      if (SPAWN_REPLY.equals(t.get(0))) {
        if (OK.equals(t.get(2)) && t.get(3) instanceof ErlPid p) {
          pid = p;
          self.signalState().monitoring.replace(reqId, new ProcessSignals.Monitoring(p, p.node().name(), p));
          continue;
        }
        self.signalState().monitoring.remove(reqId);
        throw erpcFailure(t.get(3), what);
      }
      return outcome(res, t.get(4), what);
    }
  }

  /** erpc to this very node: the call runs on a worker as a process of its own. */
  private static ErlTerm local(Node node, Mailbox self, ErlRef res, ErlRef reqId, ErlAtom mod, ErlAtom fun, ErlList a,
      long deadline, String what) throws ErpcException, InterruptedException {
    Mailbox worker = node.createMailbox();
    self.signalState().monitoring.put(reqId, new ProcessSignals.Monitoring(worker.pid(), node.nodeName(), worker.pid()));
    worker.signalState().watchers.put(reqId, new ProcessSignals.Watcher(self.pid(), worker.pid()));
    try {
      node.functions().execute(() -> worker.close(node.functions().executeCall(worker, res, mod, fun, a)));
    } catch (RejectedExecutionException full) {
      worker.signalState().watchers.remove(reqId);
      self.signalState().monitoring.remove(reqId);
      worker.close();
      throw erpcFailure(SYSTEM_LIMIT, what);
    }
    return await(node, self, res, reqId, deadline, what);
  }

  /** Fire and forget, as {@code erpc:cast/4}; the spawn reply goes to {@code rex}, which drops it. */
  static void erpcCast(Node node, String peer, String m, String f, List<ErlTerm> args) throws IOException {
    ErlAtom mod = ErlAtom.of(m);
    ErlAtom fun = ErlAtom.of(f);
    ErlList a = ErlList.of(args);
    if (peer.equals(node.nodeName())) {
      Mailbox worker = node.createMailbox();
      try {
        node.functions().execute(() -> worker.close(node.functions().plainRun(worker, mod, fun, a)));
      } catch (RejectedExecutionException full) {
        worker.close(); // Erlang drops a cast whose spawn fails
      }
      return;
    }
    EiConnection c = node.connection(peer);
    if (!PeerCapabilities.of(c).spawn()) {
      throw new IOException(peer + " does not take spawn requests (no DFLAG_SPAWN): erpc cast not sent");
    }
    ErlPid from = groupLeader(node, null);
    if (from == null) {
      throw new IOException("node " + node.nodeName() + " is closed");
    }
    node.outgoing().sendControl(c, ErlTuple.of(ErlInteger.of(ControlMessages.SPAWN_REQUEST), node.makeRef(), from, from, EXECUTE_CAST_3,
        ErlList.NIL), ErlList.of(mod, fun, a), node.outgoing().sendTimeoutMillis());
  }

  /**
   * The group leader given to processes spawned for this node: its {@code rex}, which
   * answers their I/O requests (output is logged, input is refused), so that a remote
   * function that prints does not hang waiting for an {@code io_reply}.
   */
  private static ErlPid groupLeader(Node node, Mailbox fallback) {
    Mailbox rex = node.whereis(RexServer.NAME);
    return rex != null ? rex.pid() : fallback == null ? null : fallback.pid();
  }

  private static boolean isReply(ErlTerm x, ErlRef reqId) {
    return x instanceof ErlTuple t && ((t.arity() == 4 && SPAWN_REPLY.equals(t.get(0)) && reqId.equals(t.get(1)))
        || (t.arity() == 5 && Mailbox.DOWN.equals(t.get(0)) && reqId.equals(t.get(1))));
  }

  /** What {@code erpc:call} makes of the {@code 'DOWN'} reason of the process that ran the call. */
  private static ErlTerm outcome(ErlRef res, ErlTerm reason, String what) throws ErpcException {
    if (reason instanceof ErlTuple t && t.arity() >= 3 && res.equals(t.get(0))) {
      ErlTerm kind = t.get(1);
      if (RemoteFunctions.RETURN.equals(kind) && t.arity() == 3) {
        return t.get(2);
      }
      if (ErlangException.Kind.THROW.atom().equals(kind) && t.arity() == 3) {
        throw new ErpcException(ErpcException.Failure.RAISED, ErlangException.Kind.THROW, t.get(2), null, what);
      }
      if (ErlangException.Kind.EXIT.atom().equals(kind) && t.arity() == 3) {
        throw new ErpcException(ErpcException.Failure.RAISED, ErlangException.Kind.EXIT, t.get(2), null, what);
      }
      if (ErlangException.Kind.ERROR.atom().equals(kind) && t.arity() == 4) {
        ErlList stack = t.get(3) instanceof ErlList l ? l : ErlList.NIL;
        throw new ErpcException(ErpcException.Failure.RAISED, ErlangException.Kind.ERROR, t.get(2), stack, what);
      }
      if (ErlangException.Kind.ERROR.atom().equals(kind) && t.arity() == 3
          && t.get(2) instanceof ErlTuple e && e.arity() == 2 && ERPC_ATOM.equals(e.get(0))) {
        throw erpcFailure(e.get(1), what);
      }
    }
    if (Mailbox.NOCONNECTION.equals(reason)) {
      throw erpcFailure(Mailbox.NOCONNECTION, what);
    }
    throw new ErpcException(ErpcException.Failure.SIGNAL, ErlangException.Kind.EXIT, reason, null, what);
  }

  private static ErpcException erpcFailure(ErlTerm reason, String what) {
    return new ErpcException(ErpcException.Failure.ERPC, ErlangException.Kind.ERROR, reason, null, what);
  }

  private static long remaining(long deadline) {
    if (deadline == Long.MAX_VALUE) {
      return Long.MAX_VALUE;
    }
    return Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
  }
}
