package io.ei4j.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 18's log policy, checked at slf4j-simple's default level (INFO, nothing
 * configured) in a JVM of its own ({@link LogPolicyProbe}): failed handshakes, an
 * authentication failure, a forged length, an undecodable term and an eviction are each
 * visible at WARN with what happened, the peer and the limit's name; unauthenticated noise
 * is one line and then a summary; the cookie never appears.
 */
@Timeout(120)
class LogPolicyTest {
  @Test
  void droppedConnectionsAndRefusedHandshakesAreLoggedAtWarnByDefaultAndRateLimited() throws Exception {
    SecureRandom r = new SecureRandom();
    String cookie = "logcookie" + Long.toHexString(r.nextLong()) + "Z";
    String wrong = "wrongcookie" + Long.toHexString(r.nextLong()) + "Q";
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
        "-Dorg.slf4j.simpleLogger.logFile=System.out", LogPolicyProbe.class.getName(), cookie, wrong);
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
    assertTrue(output.contains("probe done"), output);
    assertFalse(output.contains("UNEXPECTED"), output);
    assertFalse(output.contains("DEBUG"), "the probe must run at the default level:\n" + output);
    List<String> warn = output.lines().filter(l -> l.contains(" WARN ")).toList();

    // Unauthenticated noise: the first in full (peer address, what was wrong), the rest summed up.
    assertEquals(1, count(warn, "dropped a failed handshake from 127.0.0.1", "not a node name alive@host"), output);
    assertEquals(1, count(warn, "dropped 2", "failed handshakes from 127.0.0.1 in the last"), output);
    // Dropped connections of authenticated peers: the peer and the limit's name.
    assertEquals(1, count(warn, "dropped the connection", "forger", "1073741824", "maxMessageBytes"), output);
    assertEquals(1, count(warn, "dropped the connection", "garbler", "undecodable"), output);
    // The eviction at the handshake limit, with the limit's name.
    assertEquals(1, count(warn, "evicted a pending handshake from 127.0.0.1", "maxPendingHandshakes"), output);
    // At least the one eviction the probe forced; a later one depends on the timing of its sockets.
    assertTrue(output.lines().anyMatch(l -> l.matches("probe: refused or evicted [1-9][0-9]*")), output);

    assertFalse(output.contains(cookie), "the node's cookie leaked into the log");
    assertFalse(output.contains(wrong), "the peer's cookie leaked into the log");
  }

  private static long count(List<String> lines, String... parts) {
    return lines.stream().filter(l -> {
      for (String part : parts) {
        if (!l.contains(part)) {
          return false;
        }
      }
      return true;
    }).count();
  }
}
