package io.ei4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The connection-scale harness's own parts: the handshake digest (the value OTP's
 * {@code dist_util} computes for a known cookie and challenge), the percentile, the table's
 * verdict; and a small real level (20 connections against an ei4j node in a child JVM,
 * 2 s) in which every ping is answered. Not a benchmark: nothing about speed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConnectionScaleTest {

  @Test
  void digestIsMd5OfCookieAndUnsignedChallenge() throws Exception {
    // md5("cookie" ++ integer_to_list(4294967295)): the challenge -1 read as unsigned
    byte[] want = java.security.MessageDigest.getInstance("MD5").digest("cookie4294967295".getBytes());
    assertArrayEquals(want, ConnectionScale.digest("cookie", -1));
  }

  @Test
  void percentilesOfSortedSamples() {
    long[] ms = {1_000_000, 2_000_000, 3_000_000, 4_000_000};
    assertEquals(2.0, ConnectionScale.percentile(ms, 0.5), 1e-9);
    assertEquals(4.0, ConnectionScale.percentile(ms, 0.99), 1e-9);
    assertTrue(Double.isNaN(ConnectionScale.percentile(new long[0], 0.5)));
  }

  @Test
  void aSmallLevelAgainstARealEi4jNode() throws Exception {
    java.nio.file.Path work = Temp.directory("ei4j-scale-test");
    ConnectionScale.Result r = ConnectionScale.level(work, 20, 1, 2, 200, List.of("-Xmx256m"));
    assertEquals(null, r.error(), () -> "level failed: " + r);
    assertEquals(20, r.connected());
    assertTrue(r.pings() >= 20 * 2_000 / 200 / 2, () -> "too few pings: " + r);
    assertEquals(r.pings(), r.replies(), () -> "unanswered pings: " + r);
    assertTrue(r.threads() > r.threadsIdle(), () -> "the server's threads did not grow with its connections: " + r);
    assertTrue(r.p50Millis() > 0 && r.p99Millis() >= r.p50Millis(), () -> "percentiles: " + r);
    String table = ConnectionScale.table(List.of(r), 200);
    assertTrue(table.contains("5,000 connections with p99 < 50 ms: not measured"), table);
  }
}
