package io.ei4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ceiling harness (issue 21), cut short, over TCP: every pair (ei4j against an ei4j
 * peer in a child JVM and in this JVM, both APIs; cbench against cpeer; Erlang against
 * Erlang) completes ping-pong and the four-sender send, with the sink's count checked by
 * each client, and the table has the targets. Not a benchmark: nothing about speed.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class CeilingSmokeTest {
  private static final long MILLIS = 200;

  @TempDir Path work;

  @Test
  void everyPairMeasuresOverTcp() throws Exception {
    List<Workload> workloads = List.of(Workload.PING_PONG, Workload.MSEND_SMALL);
    SideBySide s = new SideBySide(work, 50, MILLIS, 1, workloads, Report.CEILING_CLIENTS);
    s.prepare();
    s.ceiling("tcp");

    List<Measurement> results = s.report().results();
    assertEquals(2 * Report.CEILING_CLIENTS.size(), results.size(), () -> "runs: " + results);
    for (Measurement m : results) {
      assertNull(m.error(), () -> m.client() + " " + m.workload().id() + " failed: " + m.error());
      assertTrue(m.count() > 0, () -> m.client() + " " + m.workload().id() + " did nothing");
      assertTrue(m.nanos() >= MILLIS * 1_000_000L, () -> m.client() + " " + m.workload().id() + " stopped early");
      if (m.workload().equals(Workload.MSEND_SMALL)) {
        assertEquals(10 * m.count(), m.bytes(), () -> m.client() + ": the sink counted other bytes");
      }
    }
    assertEquals(Set.copyOf(Report.CEILING_CLIENTS), results.stream().map(Measurement::client).collect(Collectors.toSet()));

    ByteArrayOutputStream table = new ByteArrayOutputStream();
    s.report().printCeiling(new PrintStream(table, true, StandardCharsets.UTF_8), List.of("tcp"), workloads);
    String text = table.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("tcp 4 senders 10 B ei4j 2 JVMs >= 2x Erlang-Erlang"), text);
    assertTrue(text.lines().anyMatch(l -> l.startsWith("tcp       4 senders 10 B") && l.matches(".*\\d\\.\\d\\dx.*")), text);
  }
}
