package io.ei4j.samples;

import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiMessage;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTuple;
import java.io.IOException;
import java.math.BigInteger;

/**
 * The server of Erlang's C-node tutorial, as the registered process {@code cnode}:
 * {@code {call, Pid, {foo, X}}} is answered with {@code Pid ! {cnode, X + 1}} and
 * {@code {call, Pid, {bar, Y}}} with {@code Pid ! {cnode, 2 * Y}}, for integers of any
 * size. Anything else, and anything sent to another name or to a pid, is logged and
 * ignored.
 */
final class CNodeHandler implements Server.Handler {
  static final String NAME = "cnode";
  private static final ErlAtom CNODE = ErlAtom.of(NAME);
  private static final ErlAtom CALL = ErlAtom.of("call");
  private static final ErlAtom FOO = ErlAtom.of("foo");
  private static final ErlAtom BAR = ErlAtom.of("bar");

  @Override
  public void handle(Server server, EiConnection c, EiMessage m) throws IOException {
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
}
