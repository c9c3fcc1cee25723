package io.ei4j.samples;

import io.ei4j.connect.DistFlag;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiMessage;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.io.IOException;
import java.math.BigInteger;
import java.util.Set;

/**
 * The server of Erlang's C-node tutorial, as the registered process {@code cnode}:
 * {@code {call, Pid, {foo, X}}} is answered with {@code Pid ! {cnode, X + 1}} and
 * {@code {call, Pid, {bar, Y}}} with {@code Pid ! {cnode, 2 * Y}}, for integers of any
 * size. Anything else, and anything sent to another name or to a pid, is logged and
 * ignored.
 *
 * <p>It also serves the two functions as {@code cnode:foo/1} and {@code cnode:bar/1} through
 * the registered name {@code rex}, as Erlang's {@code rpc} server takes calls: the C-node and
 * JInterface form {@code {Pid, {call, M, F, Args, GroupLeader}}} (what {@code erl_call -a},
 * {@code ei_rpc} and {@code OtpConnection.sendRPC} send) is answered with
 * {@code Pid ! {rex, Result}}, and {@code gen_server:call({rex, Node}, {call, M, F, Args, GL})}
 * (what {@code rpc:block_call} sends) with {@code Pid ! {Tag, Result}}. Any other function
 * is answered at once with {@code {badrpc, {'EXIT', {undef, [{M, F, Args, []}]}}}}, as rex
 * does. {@code rpc:call} and {@code erpc:call} (OTP 23 and later) send a spawn request for
 * {@code erpc:execute_call(Ref, M, F, Args)}: the node advertises {@code DFLAG_SPAWN}, answers
 * with a {@code SPAWN_REPLY} carrying a fresh pid, and the outcome comes back as that
 * process's exit reason ({@code {Ref, return, Value}} or {@code {Ref, error, Reason, Stack}})
 * through the monitor or link the request asked for.
 */
final class CNodeHandler implements Server.Handler {
  static final String NAME = "cnode";
  private static final ErlAtom CNODE = ErlAtom.of(NAME);
  private static final ErlAtom CALL = ErlAtom.of("call");
  private static final ErlAtom FOO = ErlAtom.of("foo");
  private static final ErlAtom BAR = ErlAtom.of("bar");
  private static final ErlAtom REX = ErlAtom.of("rex");
  private static final ErlAtom BLOCK_CALL = ErlAtom.of("block_call");
  private static final ErlAtom GEN_CALL = ErlAtom.of("$gen_call");

  private static final int SPAWN_REQUEST = 29;
  private static final int SPAWN_REPLY = 31;
  private static final int EXIT = 3;
  private static final int MONITOR_P_EXIT = 21;
  private static final ErlAtom ERPC = ErlAtom.of("erpc");
  private static final ErlAtom EXECUTE_CALL = ErlAtom.of("execute_call");
  private static final ErlAtom MONITOR = ErlAtom.of("monitor");
  private static final ErlAtom LINK = ErlAtom.of("link");
  private static final long REPLY_TIMEOUT_MILLIS = 5_000;

  /** {@link DistFlag#SPAWN}: this handler answers spawn requests. */
  @Override
  public Set<DistFlag> advertisedFlags() {
    return Set.of(DistFlag.SPAWN);
  }

  @Override
  public void handle(Server server, EiConnection c, EiMessage m) throws IOException {
    if (m instanceof EiMessage.Other o && spawnRequest(c, o.control(), o.payload())) {
      return;
    }
    if (m instanceof EiMessage.RegSend r && REX.equals(r.toName()) && rex(server, c, r.message())) {
      return;
    }
    if (m instanceof EiMessage.RegSend r && CNODE.equals(r.toName())
        && r.message() instanceof ErlTuple t && t.arity() == 3 && CALL.equals(t.get(0))
        && t.get(1) instanceof ErlPid pid
        && t.get(2) instanceof ErlTuple req && req.arity() == 2 && req.get(1) instanceof ErlInteger x) {
      BigInteger v = x.bigValue();
      if (FOO.equals(req.get(0))) {
        server.reply(c, pid, ErlTuple.of(CNODE, ErlInteger.of(v.add(BigInteger.ONE))));
        return;
      }
      if (BAR.equals(req.get(0))) {
        server.reply(c, pid, ErlTuple.of(CNODE, ErlInteger.of(v.shiftLeft(1))));
        return;
      }
    }
    server.ignore(c, m);
  }

  /**
   * {@code {29, ReqId, From, GroupLeader, {M, F, Arity}, Opts}} with the arguments as payload:
   * replies {@code {31, ReqId, From, Flags, Pid}}, then ends the process at once with the
   * call's outcome, sent as the exit of the monitor or link the request asked for. Only
   * {@code erpc:execute_call/4} of the two functions is served; anything else is refused
   * with {@code notsup} in the spawn reply. False when the message is not a spawn request.
   */
  private static boolean spawnRequest(EiConnection c, ErlTuple t, ErlTerm payload) throws IOException {
    if (t.arity() != 6 || !(t.get(0) instanceof ErlInteger op) || op.longValue() != SPAWN_REQUEST
        || !(t.get(2) instanceof ErlPid from) || !(t.get(4) instanceof ErlTuple mfa) || mfa.arity() != 3
        || !(t.get(5) instanceof ErlList opts) || !opts.isProper()) {
      return false;
    }
    ErlTerm reqId = t.get(1);
    if (!ERPC.equals(mfa.get(0)) || !EXECUTE_CALL.equals(mfa.get(1)) || !(payload instanceof ErlList args)
        || !args.isProper() || args.size() != 4 || !(args.get(1) instanceof ErlAtom mod)
        || !(args.get(2) instanceof ErlAtom fun) || !(args.get(3) instanceof ErlList a)) {
      c.sendControl(ErlTuple.of(ErlInteger.of(SPAWN_REPLY), reqId, from, ErlInteger.of(0), ErlAtom.of("notsup")), null,
          REPLY_TIMEOUT_MILLIS);
      return true;
    }
    boolean monitor = false;
    boolean link = false;
    for (ErlTerm o : opts.elements()) {
      monitor |= MONITOR.equals(o) || (o instanceof ErlTuple ot && ot.arity() == 2 && MONITOR.equals(ot.get(0)));
      link |= LINK.equals(o);
    }
    ErlPid pid = c.node().makePid();
    c.sendControl(ErlTuple.of(ErlInteger.of(SPAWN_REPLY), reqId, from, ErlInteger.of((link ? 1 : 0) | (monitor ? 2 : 0)), pid),
        null, REPLY_TIMEOUT_MILLIS);
    ErlTerm result = call(ErlTuple.of(CALL, mod, fun, a, ErlAtom.of("user")));
    ErlTerm res = args.get(0);
    ErlTerm exit = result instanceof ErlTuple r && r.arity() == 2 && ErlAtom.of("badrpc").equals(r.get(0))
        ? ErlTuple.of(res, ErlAtom.of("error"), ((ErlTuple) ((ErlTuple) r.get(1)).get(1)).get(0),
            ((ErlTuple) ((ErlTuple) r.get(1)).get(1)).get(1))
        : ErlTuple.of(res, ErlAtom.of("return"), result);
    if (monitor) {
      c.sendControl(ErlTuple.of(ErlInteger.of(MONITOR_P_EXIT), pid, from, reqId, exit), null, REPLY_TIMEOUT_MILLIS);
    }
    if (link) {
      c.sendControl(ErlTuple.of(ErlInteger.of(EXIT), pid, from, exit), null, REPLY_TIMEOUT_MILLIS);
    }
    return true;
  }

  /** Serves an rpc request to {@code rex}; false when the message is not one. */
  private static boolean rex(Server server, EiConnection c, ErlTerm msg) throws IOException {
    if (!(msg instanceof ErlTuple t)) {
      return false;
    }
    if (t.arity() == 2 && t.get(0) instanceof ErlPid pid && t.get(1) instanceof ErlTuple call) {
      ErlTerm result = call(call);
      if (result != null) {
        server.reply(c, pid, ErlTuple.of(REX, result));
        return true;
      }
    } else if (t.arity() == 3 && GEN_CALL.equals(t.get(0)) && t.get(1) instanceof ErlTuple from && from.arity() == 2
        && from.get(0) instanceof ErlPid pid && t.get(2) instanceof ErlTuple call) {
      ErlTerm result = call(call);
      if (result != null) {
        server.reply(c, pid, ErlTuple.of(from.get(1), result));
        return true;
      }
    }
    return false;
  }

  /** {@code {call | block_call, M, F, Args, GroupLeader}}: the rpc result, or null when malformed. */
  private static ErlTerm call(ErlTuple call) {
    if (call.arity() != 5 || !(CALL.equals(call.get(0)) || BLOCK_CALL.equals(call.get(0)))
        || !(call.get(1) instanceof ErlAtom mod) || !(call.get(2) instanceof ErlAtom fun)
        || !(call.get(3) instanceof ErlList args) || !args.isProper()) {
      return null;
    }
    if (CNODE.equals(mod) && args.size() == 1 && args.get(0) instanceof ErlInteger x) {
      if (FOO.equals(fun)) {
        return ErlInteger.of(x.bigValue().add(BigInteger.ONE));
      }
      if (BAR.equals(fun)) {
        return ErlInteger.of(x.bigValue().shiftLeft(1));
      }
    }
    ErlTerm reason = CNODE.equals(mod) && (FOO.equals(fun) || BAR.equals(fun)) && args.size() == 1
        ? ErlTuple.of(ErlAtom.of("badarith"), ErlList.of(ErlTuple.of(mod, fun, args, ErlList.NIL)))
        : ErlTuple.of(ErlAtom.of("undef"), ErlList.of(ErlTuple.of(mod, fun, args, ErlList.NIL)));
    return ErlTuple.of(ErlAtom.of("badrpc"), ErlTuple.of(ErlAtom.of("EXIT"), reason));
  }
}
