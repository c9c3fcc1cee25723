package io.ei4j.node;

import static io.ei4j.node.NodeTesting.expect;
import static io.ei4j.node.NodeTesting.rpc;
import static io.ei4j.term.Terms.atom;
import static io.ei4j.term.Terms.integer;
import static io.ei4j.term.Terms.list;
import static io.ei4j.term.Terms.tuple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlExportFun;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The node's {@code rex} server against callers nobody here wrote: Erlang's
 * {@code gen_server:call({rex, Node}, ...)}, {@code rpc:block_call}, {@code rpc:cast},
 * {@code erpc:call} of an export fun, OTP's {@code erl_call -a}, C {@code ei_rpc} from
 * {@code libei.a}, and JInterface's {@code OtpConnection.sendRPC}/{@code receiveRPC}.
 */
class RexInteropTest {
  private static final String COOKIE = "rex_cookie";
  private static NodeTesting.PeerAndNode both;
  private static Node node;
  private static String erlName;
  private static Mailbox box;
  private static Mailbox sink;

  @BeforeAll
  static void start() throws Exception {
    both = NodeTesting.PeerAndNode.start(COOKIE);
    node = both.node();
    erlName = both.erl().nodeName();
    box = node.createMailbox();
    sink = node.createMailbox("rex_sink");
    node.registerFunction("calc", "add", 2, (self, a) ->
        ErlInteger.of(((ErlInteger) a.get(0)).longValue() + ((ErlInteger) a.get(1)).longValue()));
    node.registerFunction("calc", "fail", 1, (self, a) -> {
      throw ErlangException.error(a.get(0));
    });
    node.registerFunction("calc", "quit", 1, (self, a) -> {
      throw ErlangException.exit(a.get(0));
    });
    node.registerFunction("calc", "toss", 1, (self, a) -> {
      throw ErlangException.throwing(a.get(0));
    });
    node.registerFunction("calc", "note", 1, (self, a) -> {
      self.send("rex_sink", a.get(0));
      return atom("ok");
    });
  }

  @AfterAll
  static void stop() {
    if (both != null) {
      both.close();
    }
  }

  private static ErlTerm parse(String s) {
    return io.ei4j.term.Terms.parse(s);
  }

  private static ErlTerm rexCall(String m, String f, ErlTerm args) throws Exception {
    return rpc(box, erlName, "gen_server", "call",
        tuple(atom("rex"), atom(node.nodeName())), tuple(atom("call"), atom(m), atom(f), args, atom("user")), integer(10_000));
  }

  @Test
  void erlangGenServerCallsToRexRunJavaFunctions() throws Exception {
    assertEquals(integer(7), rexCall("calc", "add", list(integer(3), integer(4))));
    assertEquals(parse("{badrpc, {'EXIT', {undef, [{calc, nope, [1], []}]}}}"), rexCall("calc", "nope", list(integer(1))));
    assertEquals(parse("{badrpc, {'EXIT', bye}}"), rexCall("calc", "quit", list(atom("bye"))));
    assertEquals(atom("ball"), rexCall("calc", "toss", list(atom("ball"))), "rpc returns a thrown value as is");
    assertEquals(parse("{badrpc, {'EXIT', {oops, [{calc, fail, 1, []}]}}}"), rexCall("calc", "fail", list(atom("oops"))));
    assertEquals(integer(9), rpc(box, erlName, "rpc", "block_call", atom(node.nodeName()), atom("calc"), atom("add"),
        list(integer(4), integer(5))));
    // erlang:apply/2 of an export fun (erpc:call(Node, Fun)) and the built-in erlang:node/0
    ErlExportFun nodeFun = ErlExportFun.of(atom("erlang"), atom("node"), 0);
    assertEquals(atom(node.nodeName()), rpc(box, erlName, "erpc", "call", atom(node.nodeName()), nodeFun));
    assertEquals(integer(3), rpc(box, erlName, "erpc", "call", atom(node.nodeName()),
        atom("erlang"), atom("apply"), list(ErlExportFun.of(atom("calc"), atom("add"), 2), list(integer(1), integer(2)))));
    assertEquals(atom(node.nodeName()), rpc(box, erlName, "rpc", "call", atom(node.nodeName()), atom("erlang"), atom("node"), ErlList.NIL));
  }

  @Test
  void anExportFunAppliedToTheWrongNumberOfArgumentsIsBadarityAsInErlang() throws Exception {
    ErlExportFun wrongArity = ErlExportFun.of(atom("erlang"), atom("node"), 1);
    // erpc:call(Node, Fun) checks the arity of Fun itself; erlang:apply/2 does not
    ErlTerm fromErlang = rpc(box, erlName, "erpc", "call", atom(erlName), atom("erlang"), atom("apply"),
        list(wrongArity, ErlList.NIL));
    ErlTerm fromJava = rpc(box, erlName, "erpc", "call", atom(node.nodeName()), atom("erlang"), atom("apply"),
        list(wrongArity, ErlList.NIL));
    ErlTerm expected = tuple(atom("badarity"), tuple(wrongArity, ErlList.NIL));
    assertEquals(expected, erpcErrorReason(fromErlang), "Erlang's own answer: " + fromErlang);
    assertEquals(expected, erpcErrorReason(fromJava), "the Java node's answer: " + fromJava);
  }

  /** The reason of {@code {badrpc, {'EXIT', {{exception, Reason, Stack}, Trace}}}}: an erpc:call that raised an error, run by rpc. */
  private static ErlTerm erpcErrorReason(ErlTerm rpcResult) {
    ErlTerm exit = ((ErlTuple) rpcResult).get(1);
    ErlTerm exception = ((ErlTuple) ((ErlTuple) exit).get(1)).get(0);
    assertEquals(atom("exception"), ((ErlTuple) exception).get(0), String.valueOf(rpcResult));
    return ((ErlTuple) exception).get(1);
  }

  @Test
  void erlangRpcCastReachesAJavaFunction() throws Exception {
    assertEquals(atom("true"), rpc(box, erlName, "rpc", "cast", atom(node.nodeName()), atom("calc"), atom("note"), list(atom("cast_me"))));
    assertEquals(atom("cast_me"), expect(sink, m -> m.equals(atom("cast_me")), 10_000, "the cast's effect"));
  }

  @Test
  void erlCallDashA() throws Exception {
    Path erlCall = ErlangPeer.libDir("erl_interface").resolve("bin").resolve("erl_call");
    String alive = node.nodeName().substring(0, node.nodeName().indexOf('@'));
    String out = ErlangPeer.run(List.of(erlCall.toString(), "-sname", alive, "-c", COOKIE, "-a", "calc add [3,4]"));
    assertEquals("7", out.strip());
    String undef = ErlangPeer.run(List.of(erlCall.toString(), "-sname", alive, "-c", COOKIE, "-a", "calc nope [1]"));
    // erl_call prints with ei_print_term, which shows [1] as a string
    assertEquals("{badrpc, {'EXIT', {undef, [{calc, nope, \"\\x1\", []}]}}}", undef.strip(), "answered at once, not a hang");
  }

  private static final String C_SOURCE = """
      #include <stdio.h>
      #include "ei.h"

      int main(int argc, char **argv) {
          ei_cnode ec;
          ei_init();
          if (ei_connect_init(&ec, argv[1], argv[2], 7) < 0) { fprintf(stderr, "FAIL init\\n"); return 1; }
          int fd = ei_connect_tmo(&ec, argv[3], 10000);
          if (fd < 0) { fprintf(stderr, "FAIL connect %d\\n", erl_errno); return 1; }
          ei_x_buff args, reply;
          ei_x_new(&args);
          ei_x_encode_list_header(&args, 2);
          ei_x_encode_long(&args, 20);
          ei_x_encode_long(&args, 22);
          ei_x_encode_empty_list(&args);
          ei_x_new(&reply);
          if (ei_rpc(&ec, fd, "calc", "add", args.buff, args.index, &reply) < 0) { fprintf(stderr, "FAIL rpc\\n"); return 1; }
          int idx = 0, ver;
          ei_decode_version(reply.buff, &idx, &ver);
          char *s = NULL;
          if (ei_s_print_term(&s, reply.buff, &idx) < 0) { fprintf(stderr, "FAIL print\\n"); return 1; }
          printf("RESULT %s\\n", s);
          fflush(stdout);
          return 0;
      }
      """;

  @Test
  void cEiRpc() throws Exception {
    Path dir = Files.createTempDirectory("ei4j-rex-c");
    Path src = dir.resolve("rpc.c");
    Path bin = dir.resolve("rpc");
    Files.writeString(src, C_SOURCE);
    Path ei = ErlangPeer.libDir("erl_interface");
    ErlangPeer.run(List.of(ErlangPeer.executable("gcc").toString(), "-O1", "-D_REENTRANT", "-o", bin.toString(), src.toString(),
        "-I" + ei.resolve("include"), "-L" + ei.resolve("lib"), "-lei", "-lpthread"));
    String out = ErlangPeer.run(List.of(bin.toString(), ErlangPeer.uniqueName("c"), COOKIE, node.nodeName()));
    assertTrue(out.contains("RESULT 42"), out);
  }

  private static final String JI_PROGRAM = """
      import com.ericsson.otp.erlang.*;

      public class JiRpc {
        public static void main(String[] a) throws Exception {
          OtpSelf self = new OtpSelf(a[0], a[1]);
          OtpConnection c = self.connect(new OtpPeer(a[2]));
          c.sendRPC("calc", "add", new OtpErlangObject[] {new OtpErlangLong(40), new OtpErlangLong(2)});
          System.out.println("RPC " + c.receiveRPC());
          c.sendRPC("calc", "nope", new OtpErlangObject[] {});
          System.out.println("UNDEF " + c.receiveRPC());
          c.close();
        }
      }
      """;

  @Test
  void jinterfaceSendRpc() throws Exception {
    Path jar = jinterfaceJar();
    Path dir = compileJava(jar, "JiRpc", JI_PROGRAM);
    String jiName = ErlangPeer.uniqueName("ji") + "@" + ErlangPeer.shortHostName();
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p = new ProcessBuilder(List.of(java.toString(), "-cp", jar + ":" + dir, "JiRpc", jiName, COOKIE, node.nodeName()))
        .redirectErrorStream(true).start();
    try {
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the JInterface program did not finish");
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, p.exitValue(), out);
      assertTrue(out.contains("RPC 42"), out);
      assertTrue(out.contains("UNDEF {badrpc,{'EXIT',{undef,[{calc,nope,[],[]}]}}}"), out);
    } finally {
      p.destroyForcibly();
    }
  }

  static Path jinterfaceJar() throws Exception {
    try (var s = Files.list(ErlangPeer.libDir("jinterface").resolve("priv"))) {
      return s.filter(p -> p.getFileName().toString().equals("OtpErlang.jar")).findFirst()
          .orElseThrow(() -> new AssertionError("no OtpErlang.jar: install erlang-jinterface"));
    }
  }

  static Path compileJava(Path jar, String className, String source) throws Exception {
    Path dir = Files.createTempDirectory("ei4j-jinterface");
    Path src = dir.resolve(className + ".java");
    Files.writeString(src, source);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertNotNull(javac, "the tests need a JDK (javax.tools compiler)");
    ByteArrayOutputStream diag = new ByteArrayOutputStream();
    int rc = javac.run(null, diag, diag, "-cp", jar.toString(), "-d", dir.toString(), src.toString());
    assertEquals(0, rc, "javac: " + diag.toString(StandardCharsets.UTF_8));
    return dir;
  }
}
