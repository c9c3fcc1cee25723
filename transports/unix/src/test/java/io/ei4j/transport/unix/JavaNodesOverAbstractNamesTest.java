package io.ei4j.transport.unix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlTuple;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two Java nodes find each other by name in Linux's abstract namespace, restricted to this
 * user by {@code SO_PEERCRED}: no socket files, no EPMD. Erlang's {@code erl_uds_dist} uses
 * files, so this is a Java-to-Java setup.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class JavaNodesOverAbstractNamesTest {
  @Test
  void nodesConnectByNameAndExchangeMessages() throws Exception {
    String prefix = "ei4j-test-" + ProcessHandle.current().pid() + "/";
    UnixTransport callbacks =
        UnixTransport.builder().abstractNames(prefix).allowedPeerUids().build();
    try (EiNode a = EiNode.builder("alpha@localhost").cookie("abstract").transport(callbacks).build();
        EiNode b = EiNode.builder("beta@localhost").cookie("abstract").transport(callbacks).build();
        EiListener listener = a.listen(callbacks.addressOf(a.nodeName()), 5)) {
      assertEquals(UnixSocketAddress.ofAbstract(prefix + "alpha"), listener.address());
      CompletableFuture<EiConnection> accepted = CompletableFuture.supplyAsync(() -> {
        try {
          return listener.accept(10_000);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      try (EiConnection toA = b.connect("alpha@localhost", 10_000);
          EiConnection toB = accepted.get(10, TimeUnit.SECONDS)) {
        assertEquals("alpha@localhost", toA.peerNodeName());
        assertEquals("beta@localhost", toB.peerNodeName());
        toA.regSend(toA.self(), "inbox", ErlTuple.of(ErlAtom.of("hi"), toA.self()));
        EiMessage.RegSend m = assertInstanceOf(EiMessage.RegSend.class, toB.receive(10_000));
        assertEquals(ErlAtom.of("inbox"), m.toName());
        ErlTuple t = (ErlTuple) m.message();
        toB.send(toB.self(), (io.ei4j.term.ErlPid) t.get(1), ErlAtom.of("back"), 10_000);
        EiMessage.Send back = assertInstanceOf(EiMessage.Send.class, toA.receive(10_000));
        assertEquals(ErlAtom.of("back"), back.message());
      }
    }
  }
}
