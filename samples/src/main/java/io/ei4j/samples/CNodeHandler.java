package io.ei4j.samples;

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
 * does. ({@code rpc:call} and {@code erpc:call} of OTP 23 and later use spawn requests, which
 * a bare {@code EiNode} does not take: run the functions on an {@code io.ei4j.node.Node} for
 * those.)
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

  @Override
  public void handle(Server server, EiConnection c, EiMessage m) throws IOException {
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
