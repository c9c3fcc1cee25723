package io.ei4j.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlAtom;
import io.ei4j.transport.tcp.TcpTransport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Several transports in one node, between Java nodes over real TCP sockets: two TCP
 * transports stand in for different ones (the interop-tests module runs TCP, TLS and
 * AF_UNIX against Erlang), and the builder's checks.
 */
class MultiTransportBuilderTest {
  private static final String COOKIE = "multi_transport_builder";
  private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

  private static String name(String prefix) {
    return prefix + "_" + ProcessHandle.current().pid() + "_" + System.nanoTime() + "@localhost";
  }

  @Test
  void eachTransportListensAndAllShareOneNode() throws Exception {
    try (Node hub = Node.builder(name("hub")).cookie(COOKIE).creation(1234)
            .transport(NamedTransport.of("a", TcpTransport.create()).listen(LOOPBACK))
            .transport(NamedTransport.of("b", TcpTransport.create()).listen(LOOPBACK))
            .build();
        Node viaA = Node.builder(name("x")).cookie(COOKIE).creation(5)
            .transport(NamedTransport.of("tcp", TcpTransport.create())).build();
        Node viaB = Node.builder(name("y")).cookie(COOKIE).creation(6)
            .transport(NamedTransport.of("tcp", TcpTransport.create())).build()) {
      assertEquals(List.of("a", "b"), hub.transports());
      assertNotNull(hub.listenAddress("a"));
      assertNotNull(hub.listenAddress("b"));
      assertEquals(hub.listenAddress("a"), hub.listenAddress());
      Mailbox box = hub.createMailbox("box");
      // x reaches the hub on listener a, y on listener b: one node, one mailbox.
      viaA.eiNode().connect(hub.listenAddress("a"), 5_000).regSend(viaA.eiNode().makePid(), "box", ErlAtom.of("from_a"));
      viaB.eiNode().connect(hub.listenAddress("b"), 5_000).regSend(viaB.eiNode().makePid(), "box", ErlAtom.of("from_b"));
      List<Object> got = List.of(box.receive(5_000), box.receive(5_000));
      assertTrue(got.contains(ErlAtom.of("from_a")) && got.contains(ErlAtom.of("from_b")), got.toString());
      waitFor(() -> hub.transportOf(viaA.nodeName()).equals(java.util.Optional.of("a")));
      waitFor(() -> hub.transportOf(viaB.nodeName()).equals(java.util.Optional.of("b")));
      assertEquals(java.util.Optional.empty(), hub.transportOf("nobody@localhost"));
    }
  }

  @Test
  void theSelectorChoosesAndAnExplicitTransportBypassesIt() throws Exception {
    AtomicInteger asked = new AtomicInteger();
    try (Node target = Node.builder(name("t")).cookie(COOKIE)
            .transport(TcpTransport.create()).listen(LOOPBACK).publish(false).build();
        Node out = Node.builder(name("o")).cookie(COOKIE)
            .transport(NamedTransport.of("one", new FixedAddress(target.listenAddress())))
            .transport(NamedTransport.of("two", new FixedAddress(target.listenAddress())))
            .selector(peer -> {
              asked.incrementAndGet();
              assertEquals(target.nodeName(), peer.nodeName());
              return "two";
            })
            .build()) {
      assertEquals(List.of(Node.DEFAULT_TRANSPORT), target.transports());
      assertTrue(out.ping(target.nodeName(), 5_000));
      assertEquals("two", out.transportOf(target.nodeName()).orElseThrow());
      assertEquals(1, asked.get());
      out.disconnect(target.nodeName());
      waitFor(() -> out.transportOf(target.nodeName()).isEmpty());
      assertEquals("one", out.connect(target.nodeName(), "one", 5_000));
      assertEquals(1, asked.get(), "an explicit transport does not ask the selector");
      assertThrows(IllegalArgumentException.class, () -> out.connect(target.nodeName(), "three", 5_000));
    }
  }

  @Test
  void builderChecks() {
    Node.Builder dup = Node.builder(name("d")).cookie(COOKIE).transport(NamedTransport.of("a", TcpTransport.create()));
    assertThrows(IllegalArgumentException.class, () -> dup.transport(NamedTransport.of("a", TcpTransport.create())));
    assertThrows(IllegalArgumentException.class, () -> NamedTransport.of("has space", TcpTransport.create()));
    assertThrows(IllegalArgumentException.class, () -> NamedTransport.of("", TcpTransport.create()));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> Node.builder(name("p")).cookie(COOKIE).transport(NamedTransport.of("a", TcpTransport.create()).publish(true)).build());
    assertTrue(e.getMessage().contains("does not listen"), e.getMessage());
    e = assertThrows(IllegalStateException.class,
        () -> Node.builder(name("l")).cookie(COOKIE).listen(LOOPBACK).transport(NamedTransport.of("a", TcpTransport.create())).build());
    assertTrue(e.getMessage().contains("transport(SocketCallbacks)"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Node.builder(name("n")).cookie(COOKIE).transport(TcpTransport.create())
        .transport(NamedTransport.of(Node.DEFAULT_TRANSPORT, TcpTransport.create())).build());
    assertNull(NamedTransport.of("a", TcpTransport.create()).listenAddress());
  }

  private static void waitFor(java.util.function.BooleanSupplier c) throws InterruptedException {
    long end = System.nanoTime() + 5_000_000_000L;
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("condition not met within 5 s");
      }
      Thread.sleep(10);
    }
  }
}
