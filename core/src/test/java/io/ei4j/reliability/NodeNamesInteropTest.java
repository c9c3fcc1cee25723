package io.ei4j.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.connect.EiHandshakeException;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiNode;
import io.ei4j.epmd.EpmdClient;
import io.ei4j.internal.node.NodeNames;
import io.ei4j.node.Node;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Node names are valid exactly when {@code erl} says so: the same candidates go to a real
 * {@code net_kernel:start/1} (a node's own name) and to a real node's handshake (a peer's
 * name), and ei4j's verdicts must match Erlang's on every one. Erlang's runtime answers a
 * peer whose ALIVE part it rejects with status {@code nok}, and closes the connection
 * without a status when the name is not ALIVE@HOST at all or longer than an atom; an ei4j
 * acceptor does the same.
 */
@Timeout(120)
class NodeNamesInteropTest {
  private static final String COOKIE = "names-interop";

  @TempDir Path dir;

  /** Candidates, each with a unique alive part where it has a valid one (erl registers it in EPMD). */
  private static List<String> candidates() {
    String u = ErlangPeer.uniqueName("n");
    return List.of(
        u + "a@localhost",
        u + "b-B_9@localhost",
        u + "c@some.host.example",
        u + "d@h\u00f6st",
        u + "e@10.0.0.1",
        u + " f@localhost",
        u + ".g@localhost",
        u + "/h@localhost",
        u + "\u00fci@localhost",
        "@localhost",
        u + "j@",
        u + "k@a@b",
        u + "l@host name",
        u + "m@h\u20acst",
        u + "n@h\tst",
        "o".repeat(246) + "@localhost",
        "p".repeat(245) + "@localhost");
  }

  @Test
  void ownNamesAreThoseNetKernelStartTakes() throws Exception {
    ErlangPeer.ensureEpmd();
    List<String> names = candidates();
    Path file = dir.resolve("names.txt");
    Files.writeString(file, String.join("\n", names) + "\n", StandardCharsets.UTF_8);
    String eval = "{ok, B} = file:read_file(\"" + file + "\"),"
        + " Ns = [unicode:characters_to_list(L) || L <- binary:split(B, <<\"\\n\">>, [global, trim_all])],"
        + " lists:foldl(fun(N, I) ->"
        + "   R = try net_kernel:start([list_to_atom(N), longnames]) of"
        + "         {ok, _} -> net_kernel:stop(), ok;"
        + "         _ -> error"
        + "       catch _:_ -> error end,"
        + "   io:format(\"verdict ~p ~p~n\", [I, R]), I + 1 end, 0, Ns),"
        + " io:format(\"done~n\"), halt().";
    Map<String, Boolean> erl = new LinkedHashMap<>();
    try (ErlangPeer peer = ErlangPeer.builder().eval(eval).readyLine("^done").readyTimeout(Duration.ofSeconds(90)).start()) {
      for (String line : peer.output()) {
        if (line.startsWith("verdict ")) {
          String[] w = line.split(" ");
          erl.put(names.get(Integer.parseInt(w[1])), w[2].equals("ok"));
        }
      }
    }
    assertEquals(names.size(), erl.size(), "erl's verdicts: " + erl);
    for (Map.Entry<String, Boolean> e : erl.entrySet()) {
      String problem = NodeNames.ownNameProblem(e.getKey());
      assertEquals(e.getValue(), problem == null, "erl " + (e.getValue() ? "takes" : "rejects") + " '" + e.getKey() + "', ei4j says " + problem);
      if (e.getValue()) {
        EiNode.builder(e.getKey()).cookie(COOKIE).transport(TcpTransport.create()).build().close();
      } else {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> EiNode.builder(e.getKey()));
        assertTrue(ex.getMessage().startsWith("invalid node name "), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Node.builder(e.getKey()));
      }
    }
    assertTrue(erl.containsValue(true) && erl.containsValue(false), "the candidates cover both verdicts: " + erl);
  }

  @Test
  void peersAreRefusedAsErlangRefusesThem() throws Exception {
    try (ErlangPeer erl = ErlangPeer.builder().sname(ErlangPeer.uniqueName("namesinterop")).cookie(COOKIE)
        .eval("io:format(\"ready~n\")").readyLine("^ready").start()) {
      int port = new EpmdClient("localhost", EpmdClient.defaultPort(), 3_000).portPlease(erl.alive()).orElseThrow().port();
      for (String name : candidates()) {
        String erlStatus = statusFrom(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), name);
        String problem = NodeNames.peerNameProblem(name);
        if (problem == null) {
          assertEquals("ok", erlStatus, "erl's status for '" + name + "'");
        } else {
          // nok for a bad ALIVE part ("Cannot get connection id"); a name that is not
          // ALIVE@HOST at all, or longer than an atom, ends the connection without a status.
          assertTrue(erlStatus.equals("nok") || erlStatus.equals("closed"), "erl's status for '" + name + "' (ei4j: " + problem + "): " + erlStatus);
        }
        String ours = statusFromEi4j(name);
        if (name.codePoints().anyMatch(Character::isISOControl)) {
          // A deliberate difference: Erlang takes control characters in a peer's host part;
          // ei4j closes the connection, so that no peer writes forged lines into its logs.
          assertEquals("closed", ours, "ei4j's status for a name with a control character");
          continue;
        }
        assertEquals(erlStatus, ours, "ei4j's status for '" + name + "'");
      }
    }
  }

  @Test
  void aClientWhoseNameIsRefusedIsToldWhy() throws Exception {
    String bad = "bad name@localhost";
    String problem = NodeNames.peerNameProblem(bad);
    assertNotNull(problem);
    Throwable t = acceptedBy(bad);
    EiHandshakeException e = assertInstanceOf(EiHandshakeException.class, t, "got " + t);
    assertTrue(e.getMessage().contains("invalid node name") && e.getMessage().contains("ALIVE is one or more of"), e.getMessage());
    assertNull(NodeNames.peerNameProblem("ok_name@localhost"));
  }

  /** The status a node at {@code where} answers to an {@code 'N'} message naming {@code name}. */
  private static String statusFrom(InetSocketAddress where, String name) throws IOException {
    try (Socket s = Abuse.connect(where, 10_000)) {
      s.getOutputStream().write(Abuse.nameMessage(name));
      byte[] m;
      try {
        m = Abuse.readMessage(new DataInputStream(s.getInputStream()));
      } catch (java.io.EOFException e) {
        return "closed";
      }
      assertEquals('s', m[0], "a status message");
      return new String(m, 1, m.length - 1, StandardCharsets.ISO_8859_1);
    }
  }

  private static String statusFromEi4j(String name) throws Exception {
    try (EiNode node = EiNode.builder(ErlangPeer.uniqueName("names") + "@localhost").cookie(COOKIE).transport(TcpTransport.create()).build();
        EiListener l = node.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4)) {
      CompletableFuture<Object> r = CompletableFuture.supplyAsync(() -> {
        try {
          return l.accept(10_000);
        } catch (IOException e) {
          throw new CompletionException(e);
        }
      });
      String status = statusFrom((InetSocketAddress) l.address(), name);
      try {
        r.get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        // the handshake ends here either way: a refused name, or no challenge reply
      }
      return status;
    }
  }

  /** What the initiator's side reports when an ei4j acceptor refuses {@code name}. */
  private static Throwable acceptedBy(String name) throws Exception {
    try (EiNode node = EiNode.builder(ErlangPeer.uniqueName("names") + "@localhost").cookie(COOKIE).transport(TcpTransport.create()).build();
        EiListener l = node.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4)) {
      CompletableFuture<Object> r = CompletableFuture.supplyAsync(() -> {
        try {
          return l.accept(10_000);
        } catch (IOException e) {
          throw new CompletionException(e);
        }
      });
      assertEquals("nok", statusFrom((InetSocketAddress) l.address(), name));
      try {
        Object c = r.get(10, TimeUnit.SECONDS);
        throw new AssertionError("accepted " + c);
      } catch (ExecutionException e) {
        return e.getCause();
      }
    }
  }
}
