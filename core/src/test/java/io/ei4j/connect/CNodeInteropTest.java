package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interop with C nodes built on erl_interface's {@code libei.a}: a C program compiled at
 * test time with {@code gcc} connects to the Java node and exchanges messages both ways,
 * and the Java node connects to the C program listening with {@code ei_listen} /
 * {@code ei_accept}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CNodeInteropTest {
  private static final String COOKIE = "ei4j_c_cookie";

  private static final String C_SOURCE = """
      #include <stdio.h>
      #include <stdlib.h>
      #include <string.h>
      #include "ei.h"

      static int fail(const char *what) {
          fprintf(stderr, "FAIL %s erl_errno=%d\\n", what, erl_errno);
          fflush(stderr);
          return 1;
      }

      /* The next real message, skipping ticks. */
      static int receive_one(int fd, erlang_msg *msg, ei_x_buff *x) {
          for (;;) {
              x->index = 0;
              int r = ei_receive_msg_tmo(fd, msg, x, 15000);
              if (r == ERL_TICK) continue;
              return r == ERL_ERROR ? -1 : 0;
          }
      }

      int main(int argc, char **argv) {
          ei_cnode ec;
          if (argc < 4) return fail("usage: client|server ALIVE COOKIE [HOST PORT]");
          ei_init();
          if (ei_connect_init(&ec, argv[2], argv[3], 42) < 0) return fail("ei_connect_init");
          if (strcmp(argv[1], "client") == 0) {
              int fd = ei_connect_host_port_tmo(&ec, argv[4], atoi(argv[5]), 10000);
              if (fd < 0) return fail("ei_connect_host_port");
              ei_x_buff out;
              ei_x_new_with_version(&out);
              ei_x_encode_tuple_header(&out, 2);
              ei_x_encode_pid(&out, ei_self(&ec));
              ei_x_encode_atom(&out, "hello_from_c");
              if (ei_reg_send(&ec, fd, "javabox", out.buff, out.index) < 0) return fail("ei_reg_send");
              erlang_msg msg;
              ei_x_buff in;
              ei_x_new(&in);
              if (receive_one(fd, &msg, &in) < 0) return fail("ei_receive_msg");
              int idx = 0, ver, arity;
              long n;
              char atom[MAXATOMLEN];
              if (ei_decode_version(in.buff, &idx, &ver) < 0 || ei_decode_tuple_header(in.buff, &idx, &arity) < 0
                  || ei_decode_atom(in.buff, &idx, atom) < 0 || ei_decode_long(in.buff, &idx, &n) < 0)
                  return fail("decoding the reply");
              printf("C got {%s,%ld} as msgtype %ld\\n", atom, n, msg.msgtype);
              fflush(stdout);
              return 0;
          } else {
              int port = 0;
              int lfd = ei_listen(&ec, &port, 5);
              if (lfd < 0) return fail("ei_listen");
              printf("listening %d\\n", port);
              fflush(stdout);
              ErlConnect conn;
              int fd = ei_accept_tmo(&ec, lfd, &conn, 20000);
              if (fd < 0) return fail("ei_accept");
              printf("accepted %s\\n", conn.nodename);
              fflush(stdout);
              erlang_msg msg;
              ei_x_buff in;
              ei_x_new(&in);
              if (receive_one(fd, &msg, &in) < 0) return fail("ei_receive_msg");
              int idx = 0, ver, arity;
              erlang_pid from;
              char atom[MAXATOMLEN];
              if (ei_decode_version(in.buff, &idx, &ver) < 0 || ei_decode_tuple_header(in.buff, &idx, &arity) < 0
                  || ei_decode_pid(in.buff, &idx, &from) < 0 || ei_decode_atom(in.buff, &idx, atom) < 0)
                  return fail("decoding the request");
              printf("C got %s for %s from %s\\n", atom, msg.toname, from.node);
              fflush(stdout);
              ei_x_buff out;
              ei_x_new_with_version(&out);
              ei_x_encode_tuple_header(&out, 2);
              ei_x_encode_atom(&out, "pong");
              ei_x_encode_long(&out, 4711);
              if (ei_send(fd, &from, out.buff, out.index) < 0) return fail("ei_send");
              /* Wait for the Java side to hang up, so the reply is not cut off. */
              receive_one(fd, &msg, &in);
              return 0;
          }
      }
      """;

  private static Path binary;

  @BeforeAll
  static void compile(@TempDir Path dir) throws IOException {
    Path src = dir.resolve("ei4j_cnode.c");
    Files.writeString(src, C_SOURCE, StandardCharsets.UTF_8);
    Path ei = ErlangPeer.libDir("erl_interface");
    binary = dir.resolve("ei4j_cnode");
    ErlangPeer.run(List.of(ErlangPeer.executable("gcc").toString(), "-O1", "-D_REENTRANT", "-o", binary.toString(), src.toString(),
        "-I" + ei.resolve("include"), "-L" + ei.resolve("lib"), "-lei", "-lpthread"));
  }

  private static EiNode javaNode() throws IOException {
    return EiNode.builder(ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName())
        .cookie(COOKIE).transport(TcpTransport.create()).build();
  }

  @Test
  void cNodeConnectsToJavaAndBothSend() throws Exception {
    try (EiNode node = javaNode();
         EiListener l = node.listen(new InetSocketAddress("127.0.0.1", 0), 5)) {
      int port = ((InetSocketAddress) l.address()).getPort();
      String alive = ErlangPeer.uniqueName("c");
      Process c = new ProcessBuilder(binary.toString(), "client", alive, COOKIE, "127.0.0.1", Integer.toString(port))
          .redirectErrorStream(true).start();
      CompletableFuture<String> out = output(c);
      try (EiConnection conn = l.accept(10_000)) {
        assertEquals(alive + "@" + ErlangPeer.shortHostName(), conn.peerNodeName());
        EiMessage m = conn.receive(10_000);
        EiMessage.RegSend r = assertInstanceOf(EiMessage.RegSend.class, m, "expected a REG_SEND, got " + m);
        assertEquals(ErlAtom.of("javabox"), r.toName());
        ErlTuple t = assertInstanceOf(ErlTuple.class, r.message());
        ErlPid cpid = assertInstanceOf(ErlPid.class, t.get(0));
        assertEquals(ErlAtom.of("hello_from_c"), t.get(1));
        assertEquals(r.from(), cpid);
        conn.send(cpid, ErlTuple.of(ErlAtom.of("reply"), ErlInteger.of(42)));
        assertTrue(c.waitFor(15, TimeUnit.SECONDS), "the C node did not finish");
        String text = out.get(5, TimeUnit.SECONDS);
        assertEquals(0, c.exitValue(), text);
        assertTrue(text.contains("C got {reply,42} as msgtype 2"), text);
      } finally {
        c.destroyForcibly();
      }
    }
  }

  @Test
  void javaConnectsToCNodeListeningWithEiListen() throws Exception {
    String alive = ErlangPeer.uniqueName("c");
    Process c = new ProcessBuilder(binary.toString(), "server", alive, COOKIE).redirectErrorStream(true).start();
    try (EiNode node = javaNode()) {
      java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8));
      String first = r.readLine();
      Matcher m = Pattern.compile("listening (\\d+)").matcher(first == null ? "" : first);
      assertTrue(m.find(), "the C node did not listen: " + first);
      int port = Integer.parseInt(m.group(1));
      try (EiConnection conn = node.connect(new InetSocketAddress("127.0.0.1", port), 10_000)) {
        assertEquals(alive + "@" + ErlangPeer.shortHostName(), conn.peerNodeName());
        ErlPid me = conn.self();
        conn.regSend(me, "cbox", ErlTuple.of(me, ErlAtom.of("ping")));
        EiMessage reply = conn.receive(10_000);
        EiMessage.Send s = assertInstanceOf(EiMessage.Send.class, reply, "expected a SEND, got " + reply);
        assertEquals(me, s.to());
        assertEquals(ErlTuple.of(ErlAtom.of("pong"), ErlInteger.of(4711)), s.message());
      }
      StringBuilder rest = new StringBuilder(first).append('\n');
      for (String line; (line = r.readLine()) != null; ) {
        rest.append(line).append('\n');
      }
      assertTrue(c.waitFor(15, TimeUnit.SECONDS), "the C node did not finish");
      assertTrue(rest.toString().contains("C got ping for cbox from " + node.nodeName()), rest.toString());
    } finally {
      c.destroyForcibly();
    }
  }

  private static CompletableFuture<String> output(Process p) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "(output unreadable: " + e + ")";
      }
    });
  }
}
