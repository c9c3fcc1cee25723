package io.ei4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The side-by-side harness, cut short, against a real Erlang node over TCP: every client
 * (ei4j's EiConnection, decoded and raw, and Node/Mailbox, the C ei program compiled here, JInterface compiled here, a second Erlang node)
 * completes ping-pong and the Erlang flood, each run lasts at least its time budget (so
 * the figures are rates over that time, not over nothing), the clients' own checks of
 * what the server counted pass, and the CSV holds every run. Not a benchmark: nothing is
 * asserted about speed.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class HarnessSmokeTest {
  private static final long MILLIS = 200;

  @TempDir Path work;

  @Test
  void everyClientMeasuresAgainstARealErlangNode() throws Exception {
    SideBySide s = new SideBySide(work, 50, MILLIS, 1, List.of(Workload.PING_PONG, Workload.FLOOD_SMALL),
        SideBySide.CLIENTS);
    s.prepare();
    s.tcp();

    List<Measurement> results = s.report().results();
    // encon 1.6.10 cannot connect to OTP 25 and newer (SideBySide.ENCON_LAST_OTP): the harness notes it instead
    List<String> expected = SideBySide.CLIENTS.stream()
        .filter(c -> !c.equals(Report.ENCON) || ErlangInstall.otpRelease() <= SideBySide.ENCON_LAST_OTP).toList();
    assertEquals(2 * expected.size(), results.size(), () -> "runs: " + results);
    for (Measurement m : results) {
      assertNull(m.error(), () -> m.client() + " " + m.workload().id() + " failed: " + m.error());
      assertTrue(m.count() > 0, () -> m.client() + " " + m.workload().id() + " did nothing");
      assertTrue(m.nanos() >= MILLIS * 1_000_000L,
          () -> m.client() + " " + m.workload().id() + " stopped after " + m.nanos() + " ns, before its time");
      assertTrue(m.opsPerSecond() > 0);
    }
    assertEquals(Set.copyOf(expected), results.stream().map(Measurement::client).collect(Collectors.toSet()));
    for (Measurement m : results) {
      if (m.workload().equals(Workload.FLOOD_SMALL)) {
        assertEquals(10 * m.count(), m.bytes(), () -> m.client() + " counted the flood's bytes wrong");
      }
    }

    ByteArrayOutputStream table = new ByteArrayOutputStream();
    s.report().print(new PrintStream(table, true, StandardCharsets.UTF_8), List.of("tcp"),
        List.of(Workload.PING_PONG, Workload.FLOOD_SMALL), SideBySide.CLIENTS);
    String text = table.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("ping-pong >= 1.0x C ei"), text);
    if (expected.size() < SideBySide.CLIENTS.size()) {
      assertTrue(text.contains("encon not run: encon 1.6.10 only speaks the version-5 handshake"), text);
    }
    assertTrue(text.lines().anyMatch(l -> l.startsWith("tcp       ping-pong") && l.matches(".*\\d\\.\\d\\dx.*")), text);

    Path csv = work.resolve("out.csv");
    s.report().writeCsv(csv);
    assertEquals(1 + 2 * expected.size(), Files.readAllLines(csv).size());
  }
}
