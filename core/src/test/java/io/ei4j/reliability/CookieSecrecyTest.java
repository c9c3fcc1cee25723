package io.ei4j.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiNode;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cookie stays secret: it never appears in a log line (at TRACE), an exception message,
 * a stack trace or a {@code toString()}, whichever way a handshake fails; and challenges are
 * unpredictable.
 */
@Timeout(120)
class CookieSecrecyTest {
  @Test
  void failingHandshakesNeverLogOrThrowTheCookie() throws Exception {
    SecureRandom r = new SecureRandom();
    String ours = "ours" + Long.toHexString(r.nextLong()) + "Z";
    String theirs = "theirs" + Long.toHexString(r.nextLong()) + "Q";
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=trace", "-Dorg.slf4j.simpleLogger.logFile=System.out",
        CookieLeakProbe.class.getName(), ours, theirs);
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String output;
    try {
      output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe did not finish");
    } finally {
      p.destroyForcibly();
    }
    System.out.println(output);
    assertEquals(0, p.exitValue(), "the probe failed:\n" + output);
    assertFalse(output.contains("UNEXPECTED"), output);
    assertTrue(output.contains("failures 9"), "every wrong-cookie attempt must fail with an exception:\n" + output);
    assertTrue(output.contains("EiAuthenticationException"), output);
    assertTrue(output.contains("DEBUG") || output.contains("TRACE"), "the probe must log at debug level for the scan to mean anything");
    assertFalse(output.contains(ours), "the node's cookie leaked into the output");
    assertFalse(output.contains(theirs), "the peer's cookie leaked into the output");
  }

  @Test
  void challengesAreUnpredictable() throws Exception {
    try (EiNode node = EiNode.builder(ErlangPeer.uniqueName("chal") + "@localhost").cookie("c").transport(TcpTransport.create()).build();
        EiListener l = node.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64)) {
      InetSocketAddress a = (InetSocketAddress) l.address();
      ExecutorService acceptor = Executors.newSingleThreadExecutor();
      try {
        acceptor.submit(() -> {
          while (!Thread.currentThread().isInterrupted()) {
            try {
              l.accept(2_000);
            } catch (IOException | RuntimeException expected) {
              // every session below is abandoned after the challenge
            }
          }
        });
        Set<Integer> seen = new HashSet<>();
        List<Integer> lowBytes = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
          try (Socket s = Abuse.connect(a, 5_000)) {
            int c = Abuse.upToChallenge(s, "probe" + i + "@localhost");
            seen.add(c);
            lowBytes.add(c & 0xff);
          }
        }
        // 300 32-bit values from SecureRandom collide with probability ~1e-5.
        assertEquals(300, seen.size(), "challenges repeat");
        assertTrue(new HashSet<>(lowBytes).size() > 150, "the low byte of the challenges barely varies: " + lowBytes);
      } finally {
        acceptor.shutdownNow();
      }
    }
  }
}
