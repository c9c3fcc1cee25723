package io.ei4j.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiConnectionLostException;
import io.ei4j.connect.EiNode;
import io.ei4j.node.Mailbox;
import io.ei4j.node.Node;
import io.ei4j.node.NodeListener;
import io.ei4j.term.DecodeLimits;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermDecodeException;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The term decoder limits of connections are configurable per node: a real {@code erl}
 * sends a list nested {@value #DEPTH} deep, which the default limits take as Erlang does,
 * which a node configured with depth 1,000 refuses with a typed error that ends the
 * connection (an {@code EiNode}'s and a {@code Node}'s), and which a node configured for
 * deeper terms decodes.
 */
@Timeout(60)
class ConnectionDecodeLimitsTest {
  private static final String COOKIE = "decode" + Long.toHexString(new SecureRandom().nextLong());
  private static final int DEPTH = 2_000;
  private static final DecodeLimits DEEPER = DecodeLimits.DEFAULT.withMaxDepth(5_000);
  private static final DecodeLimits SHALLOW = DecodeLimits.DEFAULT.withMaxDepth(1_000);

  private static ErlangPeer erl;

  @BeforeAll
  static void startErlang() {
    erl = ErlangRel.start(COOKIE);
  }

  @AfterAll
  static void stopErlang() {
    if (erl != null) {
      erl.close();
    }
  }

  /** {@code [[[...[]...]]]}, {@code depth} lists deep, in the external format, built by hand. */
  private static byte[] deepList(int depth) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(131);
    for (int i = 0; i < depth; i++) {
      b.write(108); // LIST_EXT, one element
      b.writeBytes(new byte[] {0, 0, 0, 1});
    }
    b.write(106); // the innermost []
    for (int i = 0; i < depth; i++) {
      b.write(106); // each list's tail
    }
    return b.toByteArray();
  }

  private static ErlTerm deepTerm(int depth) {
    ErlTerm t = ErlList.NIL;
    for (int i = 0; i < depth; i++) {
      t = ErlList.of(t);
    }
    return t;
  }

  /** Erlang decodes the bytes and sends the term back as the rpc's result. */
  private static ErlList echoArgs() {
    return ErlList.of(ErlBinary.of(deepList(DEPTH)));
  }

  private static EiNode node(DecodeLimits limits) throws IOException {
    EiNode.Builder b = EiNode.builder(ErlangPeer.uniqueName("depth") + "@" + ErlangPeer.shortHostName()).cookie(COOKIE)
        .transport(TcpTransport.create());
    if (limits != null) {
      b.decodeLimits(limits);
    }
    return b.build();
  }

  @Test
  void theDefaultLimitsTakeADeepTerm() throws Exception {
    try (EiNode node = node(null); EiConnection c = node.connect(erl.nodeName(), 10_000)) {
      assertEquals(DecodeLimits.DEFAULT, node.decodeLimits());
      assertEquals(deepTerm(DEPTH), c.rpc("erlang", "binary_to_term", echoArgs(), 10_000));
      assertTrue(c.isOpen());
    }
  }

  @Test
  void aConfiguredDepthLimitRefusesADeepTermWithATypedError() throws Exception {
    try (EiNode node = node(SHALLOW)) {
      EiConnection c = node.connect(erl.nodeName(), 10_000);
      EiConnectionLostException e = assertThrows(EiConnectionLostException.class,
          () -> c.rpc("erlang", "binary_to_term", echoArgs(), 10_000));
      TermDecodeException cause = null;
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof TermDecodeException tde) {
          cause = tde;
        }
      }
      assertNotNull(cause, "no TermDecodeException behind " + e);
      assertTrue(cause.getMessage().contains("depth") || cause.getMessage().contains("nest"),
          "the error should name the depth limit: " + cause.getMessage());
      assertFalse(c.isOpen());
    }
  }

  @Test
  void aNodeConfiguredForDeeperTermsDecodesIt() throws Exception {
    try (EiNode node = node(DEEPER); EiConnection c = node.connect(erl.nodeName(), 10_000)) {
      assertEquals(DEEPER, node.decodeLimits());
      assertEquals(deepTerm(DEPTH), c.rpc("erlang", "binary_to_term", echoArgs(), 10_000));
      assertTrue(c.isOpen());
    }
  }

  /**
   * Seen from outside the node: with the shallow limit, the deep reply ends the connection
   * (the default limits would deliver it), so the builder's limits reached the connection.
   */
  @Test
  void nodeBuilderPassesTheLimitsToItsConnections() throws Exception {
    CompletableFuture<String> down = new CompletableFuture<>();
    try (Node node = Node.builder(ErlangPeer.uniqueName("deepnode") + "@" + ErlangPeer.shortHostName()).cookie(COOKIE)
        .transport(TcpTransport.create()).decodeLimits(SHALLOW).build()) {
      node.addNodeListener(new NodeListener() {
        @Override
        public void nodeDown(String peer, String reason) {
          if (peer.equals(erl.nodeName())) {
            down.complete(reason);
          }
        }
      });
      Mailbox box = node.createMailbox();
      box.send("rex", erl.nodeName(), ErlTuple.of(box.pid(),
          ErlTuple.of(ErlAtom.of("call"), ErlAtom.of("erlang"), ErlAtom.of("binary_to_term"), echoArgs(), ErlAtom.of("user"))));
      String reason = down.get(10, TimeUnit.SECONDS);
      assertTrue(reason.contains("depth") || reason.contains("nest"), "the reason should name the depth limit: " + reason);
      assertNull(box.receive(200), "the deep reply was not delivered");
    }
  }
}
