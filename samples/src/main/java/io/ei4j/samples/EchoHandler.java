package io.ei4j.samples;

import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiMessage;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTuple;
import java.io.IOException;

/**
 * The registered process {@code echo}: {@code {Pid, Term}} is answered with
 * {@code Pid ! {echo, Term}}, whatever {@code Term} is. Anything else is logged and
 * ignored.
 */
final class EchoHandler implements Server.Handler {
  static final String NAME = "echo";
  private static final ErlAtom ECHO = ErlAtom.of(NAME);

  @Override
  public void handle(Server server, EiConnection c, EiMessage m) throws IOException {
    if (m instanceof EiMessage.RegSend r && ECHO.equals(r.toName())
        && r.message() instanceof ErlTuple t && t.arity() == 2 && t.get(0) instanceof ErlPid pid) {
      server.reply(c, pid, ErlTuple.of(ECHO, t.get(1)));
      return;
    }
    server.ignore(c, m);
  }
}
