package io.ei4j.node;

import static io.ei4j.node.NodeTesting.expect;
import static io.ei4j.node.NodeTesting.tagged;
import static io.ei4j.term.Terms.atom;
import static io.ei4j.term.Terms.tuple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * A JInterface 1.13.1 node (the OtpErlang.jar that OTP ships, compiled against and run as
 * a child JVM) and an ei4j node: messages both ways by name and pid, and a link whose exit
 * reason reaches JInterface as {@code OtpErlangExit}.
 */
class JInterfaceInteropTest {
  private static final String COOKIE = "jinterface_cookie";

  private static final String PROGRAM = """
      import com.ericsson.otp.erlang.*;

      public class JiPeer {
        public static void main(String[] a) throws Exception {
          OtpNode node = new OtpNode(a[0], a[1]);
          OtpMbox box = node.createMbox("ji_box");
          box.send("ji_server", a[2], new OtpErlangTuple(new OtpErlangObject[] {box.self(), new OtpErlangAtom("hello")}));
          OtpErlangObject reply = box.receive(10000);
          System.out.println("REPLY " + reply);
          OtpErlangPid server = (OtpErlangPid) ((OtpErlangTuple) reply).elementAt(1);
          OtpErlangObject pushed = box.receive(10000);
          System.out.println("PUSHED " + pushed);
          box.link(server);
          box.send(server, new OtpErlangAtom("please_exit"));
          try {
            OtpErlangObject o = box.receive(10000);
            System.out.println("NO-EXIT " + o);
          } catch (OtpErlangExit e) {
            System.out.println("EXIT " + e.reason());
          }
          node.close();
        }
      }
      """;

  @Test
  void jinterfaceNodeTalksToEi4jNode() throws Exception {
    Path jar;
    try (var s = Files.list(ErlangPeer.libDir("jinterface").resolve("priv"))) {
      jar = s.filter(p -> p.getFileName().toString().equals("OtpErlang.jar")).findFirst()
          .orElseThrow(() -> new AssertionError("no OtpErlang.jar: install erlang-jinterface"));
    }
    Path dir = Files.createTempDirectory("ei4j-jinterface");
    Path src = dir.resolve("JiPeer.java");
    Files.writeString(src, PROGRAM);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertNotNull(javac, "the tests need a JDK (javax.tools compiler)");
    ByteArrayOutputStream diag = new ByteArrayOutputStream();
    int rc = javac.run(null, diag, diag, "-cp", jar.toString(), "-d", dir.toString(), src.toString());
    assertEquals(0, rc, "javac: " + diag.toString(StandardCharsets.UTF_8));

    ErlangPeer.ensureEpmd();
    try (Node node = NodeTesting.startNode(COOKIE)) {
      Mailbox server = node.createMailbox("ji_server");
      String jiName = ErlangPeer.uniqueName("ji") + "@" + ErlangPeer.shortHostName();
      Path java = Path.of(System.getProperty("java.home"), "bin", "java");
      Process p = new ProcessBuilder(List.of(java.toString(), "-cp", jar + ":" + dir, "JiPeer", jiName, COOKIE, node.nodeName()))
          .redirectErrorStream(true).start();
      try {
        ErlTuple hello = (ErlTuple) expect(server, m -> m instanceof ErlTuple t && t.arity() == 2, 20_000, "hello from JInterface");
        assertEquals(atom("hello"), hello.get(1));
        ErlPid jiPid = (ErlPid) hello.get(0);
        assertEquals(jiName, jiPid.node().name());
        server.send(jiPid, tuple(atom("world"), server.pid()));
        server.send("ji_box", jiName, atom("pushed_by_name"));
        assertEquals(atom("please_exit"), expect(server, m -> true, 10_000, "please_exit"));
        server.close(atom("bye"));
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the JInterface program did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(out.contains("REPLY {world,#Pid<" + node.nodeName() + "."), out);
        assertTrue(out.contains("PUSHED pushed_by_name"), out);
        assertTrue(out.contains("EXIT bye"), out);
        assertEquals(0, p.exitValue(), out);
      } finally {
        p.destroyForcibly();
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
