package io.ei4j.node;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;

/** Shared helpers of the node tests: Erlang peers with the test modules, Java nodes, rex calls. */
final class NodeTesting {
  static final ErlAtom REX = ErlAtom.of("rex");

  private NodeTesting() {}

  /** Compiles the Erlang helper modules into a fresh directory. */
  static Path compileModules() throws IOException {
    Path dir = Files.createTempDirectory("ei4j-node");
    ErlangPeer.compileResource(NodeTesting.class, "ei4j_node_peer.erl", dir);
    ErlangPeer.compileResource(NodeTesting.class, "ei4j_node_gs.erl", dir);
    return dir;
  }

  /** Starts {@code erl -sname} with the helper modules, ready when {@code ei4j_node_peer:start()} printed. */
  static ErlangPeer startPeer(Path ebin, String cookie, String... args) {
    return ErlangPeer.builder().sname(ErlangPeer.uniqueName("erl")).cookie(cookie).codePath(ebin)
        .args(args).eval("ei4j_node_peer:start()").readyLine("^ready").start();
  }

  /**
   * An Erlang peer with the helper modules and a Java node with the same cookie, for a test
   * class that shares them across its tests; closing closes the node, then the peer.
   */
  record PeerAndNode(ErlangPeer erl, Node node) implements AutoCloseable {
    static PeerAndNode start(String cookie) throws Exception {
      ErlangPeer erl = startPeer(compileModules(), cookie);
      try {
        return new PeerAndNode(erl, startNode(cookie));
      } catch (Exception | Error e) {
        erl.close();
        throw e;
      }
    }

    @Override
    public void close() {
      try {
        node.close();
      } finally {
        erl.close();
      }
    }
  }

  /** A Java node on this host, listening on an ephemeral port and published in EPMD. */
  static Node startNode(String cookie) throws IOException {
    return Node.builder(ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName())
        .cookie(cookie).transport(TcpTransport.create()).listen(new InetSocketAddress(0)).build();
  }

  /**
   * Calls {@code M:F(Args)} on {@code node} through its {@code rex} server from
   * {@code box}, as ei's {@code ei_rpc} does, and returns the result.
   */
  static ErlTerm rpc(Mailbox box, String node, String m, String f, ErlTerm... args) throws Exception {
    box.send("rex", node, ErlTuple.of(box.pid(), ErlTuple.of(ErlAtom.of("call"), ErlAtom.of(m), ErlAtom.of(f), ErlList.of(args), ErlAtom.of("user"))));
    ErlTerm r = box.receive(t -> t instanceof ErlTuple tt && tt.arity() == 2 && REX.equals(tt.get(0)), 20_000);
    assertNotNull(r, "no rex reply for " + m + ":" + f);
    return ((ErlTuple) r).get(1);
  }

  /** Receives a message {@code match} accepts, failing the test after {@code millis}. */
  static ErlTerm expect(Mailbox box, Predicate<ErlTerm> match, long millis, String what) throws Exception {
    ErlTerm m = box.receive(match::test, millis);
    assertNotNull(m, "expected " + what + " within " + millis + " ms; queued: " + box.snapshot());
    return m;
  }

  /** Whether {@code t} is a tuple whose first element is the atom {@code tag}. */
  static boolean tagged(ErlTerm t, String tag) {
    return t instanceof ErlTuple tt && tt.arity() > 0 && ErlAtom.of(tag).equals(tt.get(0));
  }

  static void assertTagged(ErlTerm t, String tag) {
    assertTrue(tagged(t, tag), "expected {" + tag + ", ...}, got " + t);
  }
}
