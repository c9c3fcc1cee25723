package io.ei4j.node;

import static io.ei4j.node.NodeTesting.expect;
import static io.ei4j.term.Terms.atom;
import static io.ei4j.term.Terms.tuple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * JInterface 1.13.1 advertises no {@code DFLAG_DIST_MONITOR} and closes the connection on
 * {@code MONITOR_P}: monitors of its processes stay local (the connection and the traffic
 * on it survive) and fire {@code 'DOWN'} with {@code noconnection} when the node goes, as on
 * Erlang; erpc to it fails with {@code notsup} (no {@code DFLAG_SPAWN}).
 */
class JInterfaceCapabilitiesTest {
  private static final String COOKIE = "ji_caps_cookie";

  private static final String PROGRAM = """
      import com.ericsson.otp.erlang.*;

      public class JiMon {
        public static void main(String[] a) throws Exception {
          OtpNode node = new OtpNode(a[0], a[1]);
          OtpMbox box = node.createMbox("ji_mon");
          box.send("ji_ctl", a[2], new OtpErlangTuple(new OtpErlangObject[] {box.self(), new OtpErlangAtom("ready")}));
          for (int i = 0; i < 2; i++) {
            OtpErlangObject m = box.receive(30000);
            System.out.println("GOT " + m);
            if (m instanceof OtpErlangTuple t && t.arity() == 2) {
              box.send((OtpErlangPid) t.elementAt(1), new OtpErlangAtom("pong"));
            } else {
              break;
            }
          }
          node.close();
          System.exit(0);
        }
      }
      """;

  @Test
  void monitorsOfJInterfaceProcessesStayLocalAndFireOnDisconnect() throws Exception {
    Path jar = RexInteropTest.jinterfaceJar();
    Path dir = RexInteropTest.compileJava(jar, "JiMon", PROGRAM);
    ErlangPeer.ensureEpmd();
    try (Node node = NodeTesting.startNode(COOKIE)) {
      Mailbox ctl = node.createMailbox("ji_ctl");
      String jiName = ErlangPeer.uniqueName("jimon") + "@" + ErlangPeer.shortHostName();
      Path java = Path.of(System.getProperty("java.home"), "bin", "java");
      Process p = new ProcessBuilder(List.of(java.toString(), "-cp", jar + ":" + dir, "JiMon", jiName, COOKIE, node.nodeName()))
          .redirectErrorStream(true).start();
      try {
        ErlTuple ready = (ErlTuple) expect(ctl, m -> m instanceof ErlTuple t && t.arity() == 2, 30_000, "ready from JInterface");
        ErlPid jiPid = (ErlPid) ready.get(0);
        ErlRef byPid = ctl.monitor(jiPid);
        ErlRef byName = ctl.monitor("ji_mon", jiName);
        ctl.send(jiPid, tuple(atom("ping"), ctl.pid()));
        assertEquals(atom("pong"), expect(ctl, m -> m.equals(atom("pong")), 10_000, "pong: the connection survived the monitors"));
        assertNull(ctl.receive(m -> NodeTesting.tagged(m, "DOWN"), 300), "no DOWN while the process lives");
        ErpcException e = assertThrows(ErpcException.class, () -> node.erpc(jiName, "erlang", "node", List.of(), 5_000));
        assertEquals(atom("notsup"), e.reason());
        ctl.demonitor(byName); // no DEMONITOR_P either: the connection stays up
        ctl.send(jiPid, tuple(atom("ping"), ctl.pid()));
        assertEquals(atom("pong"), expect(ctl, m -> m.equals(atom("pong")), 10_000, "second pong"));
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the JInterface program did not finish");
        ErlTerm down = expect(ctl, m -> NodeTesting.tagged(m, "DOWN"), 15_000, "DOWN when the JInterface node went");
        assertEquals(tuple(atom("DOWN"), byPid, atom("process"), jiPid, atom("noconnection")), down);
        assertNull(ctl.receive(m -> NodeTesting.tagged(m, "DOWN"), 300), "the removed monitor stays quiet");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
      } finally {
        p.destroyForcibly();
      }
    }
  }
}
