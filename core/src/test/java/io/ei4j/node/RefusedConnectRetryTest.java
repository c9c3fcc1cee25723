package io.ei4j.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.transport.tcp.TcpTransport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A connect refused with {@code nok} because the peer's own simultaneous attempt wins,
 * when that attempt then fails at the peer's end: here the connecting node does not
 * listen at all, so the peer's attempt can only fail. Before, the refused node waited
 * for the peer's connection until its own timeout; it now connects again once the
 * peer's attempt is gone. The nodes talk over real loopback TCP.
 */
class RefusedConnectRetryTest {
  private static final String COOKIE = "refused_connect_retry";
  private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

  @Test
  void aNodeRefusedWithNokConnectsOnceThePeersOwnAttemptHasFailed() throws Exception {
    String suffix = "_" + ProcessHandle.current().pid() + "_" + System.nanoTime() + "@localhost";
    List<Socket> held = new ArrayList<>();
    // b's outgoing connections all go to a listener that accepts and never answers, so its
    // attempt to reach a stays pending until its 1.5 s timeout, then fails.
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Node b = Node.builder("b" + suffix).cookie(COOKIE)
            .transport(new FixedAddress(silent.getLocalSocketAddress())).listen(LOOPBACK).publish(false).build();
        Node a = Node.builder("a" + suffix).cookie(COOKIE)
            .transport(new FixedAddress(b.listenAddress())).build()) {
      CompletableFuture<Socket> reached = CompletableFuture.supplyAsync(() -> {
        try {
          return silent.accept();
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      CompletableFuture<Boolean> bToA = CompletableFuture.supplyAsync(() -> b.ping(a.nodeName(), 1_500));
      held.add(reached.get(5, TimeUnit.SECONDS)); // b's attempt is under way now
      // a < b by name, so b answers a's handshake nok: its own attempt wins, and a waits.
      assertTrue(a.ping(b.nodeName(), 5_000), "a never connected to b after b's own attempt failed");
      assertFalse(bToA.get(5, TimeUnit.SECONDS), "b's attempt through the silent listener cannot succeed");
      assertEquals(java.util.Optional.of(Node.DEFAULT_TRANSPORT), a.transportOf(b.nodeName()));
      // b installs a's connection once its handshake is done, which may be just after its
      // reader answered a's ping (CONCURRENCY.md, "Connections"): wait for it, boundedly.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (b.transportOf(a.nodeName()).isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(java.util.Optional.of(Node.DEFAULT_TRANSPORT), b.transportOf(a.nodeName()));
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }
}
