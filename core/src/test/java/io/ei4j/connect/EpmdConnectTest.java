package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.epmd.EmbeddedEpmd;
import io.ei4j.epmd.EpmdClient;
import io.ei4j.epmd.EpmdRegistration;
import io.ei4j.epmd.NodeInfo;
import io.ei4j.term.ErlAtom;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Publishing and connecting by name through EPMD (an embedded one, so that the test owns
 * it): the creation taken from EPMD, a hidden registration, lookups by name, and the
 * errors of an unknown name and of a double publish.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EpmdConnectTest {
  private static final String COOKIE = "epmd_connect";

  private static EiNode node(String name, EmbeddedEpmd epmd) throws IOException {
    return EiNode.builder(name).cookie(COOKIE).transport(TcpTransport.create()).creation(5)
        .epmd(new EpmdClient("127.0.0.1", epmd.port(), 5_000)).build();
  }

  @Test
  void publishedNodesAreFoundByName() throws Exception {
    try (EmbeddedEpmd epmd = EmbeddedEpmd.start(InetAddress.getLoopbackAddress(), 0);
         EiNode b = node("pub_b@127.0.0.1", epmd)) {
      EiNode a = node("pub_a@127.0.0.1", epmd);
      try {
        checkPublishAndConnect(epmd, a, b);
      } finally {
        a.close();
      }
    }
  }

  private static void checkPublishAndConnect(EmbeddedEpmd epmd, EiNode a, EiNode b) throws Exception {
    {
      EiListener l = a.listen(new InetSocketAddress("127.0.0.1", 0), 5);
      int port = ((InetSocketAddress) l.address()).getPort();
      EpmdRegistration reg = a.publish(port);
      assertTrue(reg.isActive());
      assertEquals(reg.creation(), a.creation(), "the creation comes from EPMD");
      assertEquals(reg.creation(), a.makePid().creation());
      NodeInfo info = epmd.registered().stream().filter(n -> n.name().equals("pub_a")).findFirst().orElseThrow();
      assertEquals(port, info.port());
      assertTrue(info.isHidden(), "an ei-style node registers as hidden");
      assertThrows(IllegalStateException.class, () -> a.publish(port));

      CompletableFuture<EiConnection> in = CompletableFuture.supplyAsync(() -> {
        try {
          return l.accept(5_000);
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      try (EiConnection out = b.connect("pub_a@127.0.0.1", 5_000); EiConnection back = in.get(10, TimeUnit.SECONDS)) {
        assertEquals("pub_a@127.0.0.1", out.peerNodeName());
        assertEquals(reg.creation(), out.peerCreation());
        out.send(back.self(), ErlAtom.of("found_you"));
        assertEquals(ErlAtom.of("found_you"), assertInstanceOf(EiMessage.Send.class, back.receive(5_000)).message());
      }
      a.close();
      assertFalse(reg.isActive(), "closing the node ends its registration");
    }
  }

  @Test
  void anUnknownNameIsAnEiException() throws Exception {
    try (EmbeddedEpmd epmd = EmbeddedEpmd.start(InetAddress.getLoopbackAddress(), 0);
         EiNode b = node("lonely@127.0.0.1", epmd)) {
      EiException e = assertThrows(EiException.class, () -> b.connect("nobody@127.0.0.1", 5_000));
      assertTrue(e.getMessage().contains("nobody@127.0.0.1") && e.getMessage().contains("not registered"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> b.connect("no_host_part", 5_000));
    }
  }
}
