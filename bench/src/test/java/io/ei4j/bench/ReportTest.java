package io.ei4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Figures, ratios, target verdicts and CSV from known measurements. */
class ReportTest {
  @TempDir Path dir;

  private static Measurement m(String transport, Workload w, String client, long count, long nanos, long bytes) {
    return new Measurement(transport, w, client, count, nanos, bytes);
  }

  @Test
  void theFigureIsTheMedianOfTheSuccessfulRounds() {
    Report r = new Report();
    r.add(m("tcp", Workload.PING_PONG, Report.EI4J, 10, 1_000_000_000L, 0).inRound(1));
    r.add(m("tcp", Workload.PING_PONG, Report.EI4J, 50, 1_000_000_000L, 0).inRound(2));
    r.add(Measurement.failed("tcp", Workload.PING_PONG, Report.EI4J, "lost").inRound(3));
    assertEquals(30, r.figure("tcp", Workload.PING_PONG, Report.EI4J), 1e-9);
    r.add(m("tcp", Workload.PING_PONG, Report.EI4J, 20, 1_000_000_000L, 0).inRound(4));
    assertEquals(20, r.figure("tcp", Workload.PING_PONG, Report.EI4J), 1e-9);
  }

  @Test
  void ratiosAndTargetsFollowTheFigures() throws Exception {
    Report r = new Report();
    r.add(m("tcp", Workload.PING_PONG, Report.EI4J, 30_000, 1_000_000_000L, 0));
    r.add(m("tcp", Workload.PING_PONG, Report.C_EI, 20_000, 1_000_000_000L, 0));
    r.add(m("tcp", Workload.PING_PONG, Report.JINTERFACE, 20_000, 2_000_000_000L, 0));
    r.add(m("tcp", Workload.SEND_1M, Report.EI4J, 100, 1_000_000_000L, 100L << 20));
    r.add(m("tcp", Workload.SEND_1M, Report.C_EI, 200, 1_000_000_000L, 200L << 20));
    r.add(Measurement.failed("tcp", Workload.SEND_SMALL, Report.EI4J, "boom"));

    assertEquals(30_000, r.figure("tcp", Workload.PING_PONG, Report.EI4J), 1e-9);
    assertEquals(10_000, r.figure("tcp", Workload.PING_PONG, Report.JINTERFACE), 1e-9);
    assertEquals(104.8576, r.figure("tcp", Workload.SEND_1M, Report.EI4J), 1e-6);
    assertTrue(Double.isNaN(r.figure("tcp", Workload.SEND_SMALL, Report.EI4J)));
    assertEquals("1.50x", Report.ratio(30_000, 20_000));
    assertEquals("-", Report.ratio(1, Double.NaN));

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    r.print(new PrintStream(out, true, StandardCharsets.UTF_8), List.of("tcp"), SideBySide.WORKLOADS, SideBySide.CLIENTS);
    String text = out.toString(StandardCharsets.UTF_8);
    assertTrue(text.matches("(?s).*ping-pong >= 1.0x C ei\\s+1.50x\\s+met.*"), text);
    assertTrue(text.matches("(?s).*ping-pong >= 2x JInterface\\s+3.00x\\s+met.*"), text);
    assertTrue(text.matches("(?s).*1 MiB Java->Erlang >= 0.9x C ei MB/s\\s+0.50x\\s+MISSED.*"), text);
    assertTrue(text.matches("(?s).*TLS small >= 1.0x Erlang inet_tls\\s+-\\s+not measured.*"), text);
    assertTrue(text.contains("round 0: tcp send 10 B ei4j: boom"), text);

    Path csv = dir.resolve("r.csv");
    r.writeCsv(csv);
    List<String> lines = Files.readAllLines(csv);
    assertEquals("round,transport,workload,client,count,seconds,ops_per_s,mb_per_s,cpu_seconds,error", lines.get(0));
    assertEquals("0,tcp,ping-pong,ei4j,30000,1.000,30000.0,0.00,,", lines.get(1));
    assertEquals("0,tcp,send 10 B,ei4j,0,0.000,,,,\"boom\"", lines.get(6));
  }

  @Test
  void cpuPerMillionMessagesAndItsTargets() {
    Report r = new Report();
    // ei4j: 0.3 s of CPU for 200,000 messages = 1.5 s per million; C ei: 1.0 s per million
    r.add(new Measurement("tcp", Workload.SEND_SMALL, Report.EI4J, 200_000, 1_000_000_000L, 2_000_000, 300_000_000L));
    r.add(new Measurement("tcp", Workload.SEND_SMALL, Report.C_EI, 300_000, 1_000_000_000L, 3_000_000, 300_000_000L));
    r.add(new Measurement("tcp", Workload.SEND_1M, Report.EI4J, 1_000, 1_000_000_000L, 1_000L << 20, 1_200_000_000L));
    r.add(new Measurement("tcp", Workload.SEND_1M, Report.C_EI, 1_000, 1_000_000_000L, 1_000L << 20, 1_000_000_000L));
    r.add(m("tcp", Workload.SEND_SMALL, Report.ERLANG, 100, 1_000_000_000L, 1_000));
    assertEquals(1.5, r.cpuPerMillion("tcp", Workload.SEND_SMALL, Report.EI4J), 1e-9);
    assertEquals(1.0, r.cpuPerMillion("tcp", Workload.SEND_SMALL, Report.C_EI), 1e-9);
    assertTrue(Double.isNaN(r.cpuPerMillion("tcp", Workload.SEND_SMALL, Report.ERLANG)));

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    r.printCpu(new PrintStream(out, true, StandardCharsets.UTF_8), List.of("tcp"), SideBySide.WORKLOADS, SideBySide.CLIENTS);
    String text = out.toString(StandardCharsets.UTF_8);
    assertTrue(text.matches("(?s).*tcp send 10 B ei4j <= 1.5x C ei\\s+1.50x\\s+met.*"), text);
    assertTrue(text.matches("(?s).*tcp send 1 MiB ei4j <= 1.1x C ei\\s+1.20x\\s+MISSED.*"), text);
    assertTrue(text.matches("(?s).*tcp Erlang->client 10 B ei4j <= 1.5x C ei\\s+-\\s+not measured.*"), text);
  }
}
