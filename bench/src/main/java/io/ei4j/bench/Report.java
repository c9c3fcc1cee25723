package io.ei4j.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The harness's results: a table of absolute figures per transport and workload with the
 * ratios ei4j / C ei, ei4j / JInterface and ei4j / Erlang (ei4j: the connection-level
 * {@code EiConnection}) and Node / C ei, Node / JInterface (the process-level
 * {@code Node}/{@code Mailbox}), ei4j / encon and Node / encon (encon-java, issue 21), the targets with met or missed, and a CSV of
 * every run.
 */
final class Report {
  static final String EI4J = "ei4j";
  static final String EI4J_NODE = "ei4j Node";
  /** ei4j's connection API receiving with {@code receive(EiRawMessage, ...)}, the {@code ei_xreceive_msg} way. */
  static final String EI4J_RAW = "ei4j raw";
  static final String C_EI = "C ei";
  static final String JINTERFACE = "JInterface";
  static final String ERLANG = "Erlang";
  static final String ENCON = "encon";
  /** The ceiling's pairs (issue 21): ei4j clients against an ei4j peer in another JVM or in the same JVM. */
  static final String EI4J_2JVM = "ei4j 2 JVMs";
  static final String NODE_2JVM = "Node 2 JVMs";
  static final String EI4J_1JVM = "ei4j 1 JVM";
  static final String NODE_1JVM = "Node 1 JVM";
  /** The ceiling's columns: the four ei4j pairs, C ei against C ei, Erlang against Erlang. */
  static final List<String> CEILING_CLIENTS = List.of(EI4J_2JVM, NODE_2JVM, EI4J_1JVM, NODE_1JVM, C_EI, ERLANG);

  /** A target from the issue: {@code numerator / denominator >= threshold} for one figure. */
  record Target(String description, String transport, Workload workload, String client, String baseTransport,
      String baseClient, double threshold) {}

  private final List<Measurement> results = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

  /** A line printed under the table: why a client was not run, for instance. */
  synchronized void note(String line) {
    notes.add(line);
  }

  synchronized void add(Measurement m) {
    results.add(m);
  }

  synchronized List<Measurement> results() {
    return List.copyOf(results);
  }

  /**
   * The figure of {@code client} on {@code transport} for {@code w}: the median over its
   * successful rounds (the mean of the middle two for an even count), or NaN when none
   * succeeded.
   */
  synchronized double figure(String transport, Workload w, String client) {
    double[] f = results.stream()
        .filter(m -> m.ok() && m.transport().equals(transport) && m.workload().equals(w) && m.client().equals(client))
        .mapToDouble(Measurement::figure).sorted().toArray();
    if (f.length == 0) {
      return Double.NaN;
    }
    int mid = f.length / 2;
    return f.length % 2 == 1 ? f[mid] : (f[mid - 1] + f[mid]) / 2;
  }

  /** The targets of issue 8 that this harness can check. */
  static List<Target> targets() {
    return List.of(
        new Target("ping-pong >= 1.0x C ei", "tcp", Workload.PING_PONG, EI4J, "tcp", C_EI, 1.0),
        new Target("ping-pong >= 2x JInterface", "tcp", Workload.PING_PONG, EI4J, "tcp", JINTERFACE, 2.0),
        new Target("Node ping-pong >= 1.0x C ei", "tcp", Workload.PING_PONG, EI4J_NODE, "tcp", C_EI, 1.0),
        new Target("Node ping-pong >= 2x JInterface", "tcp", Workload.PING_PONG, EI4J_NODE, "tcp", JINTERFACE, 2.0),
        new Target("Java->Erlang small >= 1.0x C ei", "tcp", Workload.SEND_SMALL, EI4J, "tcp", C_EI, 1.0),
        new Target("Erlang->Java >= 1.5x JInterface", "tcp", Workload.FLOOD_SMALL, EI4J, "tcp", JINTERFACE, 1.5),
        new Target("Node Erlang->Java >= 1.5x JInterface", "tcp", Workload.FLOOD_SMALL, EI4J_NODE, "tcp", JINTERFACE, 1.5),
        new Target("1 MiB Java->Erlang >= 0.9x C ei MB/s", "tcp", Workload.SEND_1M, EI4J, "tcp", C_EI, 0.9),
        new Target("TLS small >= 1.0x Erlang inet_tls", "tls", Workload.SEND_SMALL, EI4J, "tls", ERLANG, 1.0),
        new Target("TLS 1 MiB >= 3x Erlang inet_tls", "tls", Workload.SEND_1M, EI4J, "tls", ERLANG, 3.0),
        new Target("AF_UNIX ping-pong >= 1.0x ei4j TCP", "uds", Workload.PING_PONG, EI4J, "tcp", EI4J, 1.0),
        new Target("AF_UNIX small send >= 1.0x ei4j TCP", "uds", Workload.SEND_SMALL, EI4J, "tcp", EI4J, 1.0),
        new Target("AF_UNIX 1 MiB >= 1.0x ei4j TCP", "uds", Workload.SEND_1M, EI4J, "tcp", EI4J, 1.0));
  }

  /** Prints the table, the targets and the failures. */
  synchronized void print(PrintStream out, List<String> transports, List<Workload> workloads, List<String> clients) {
    out.println();
    String header = String.format(Locale.ROOT, "%-9s %-20s %-5s", "transport", "workload", "unit");
    for (String c : clients) {
      header += String.format(Locale.ROOT, " %12s", c);
    }
    header += String.format(Locale.ROOT, " %10s %10s %10s %10s %10s %10s %10s", "ei4j/C", "ei4j/JInt", "ei4j/Erl", "Node/C",
        "Node/JInt", "ei4j/encon", "Node/encon");
    out.println(header);
    out.println("-".repeat(header.length()));
    for (String t : transports) {
      for (Workload w : workloads) {
        String line = String.format(Locale.ROOT, "%-9s %-20s %-5s", t, w.id(), w.throughputInMegabytes() ? "MB/s" : "op/s");
        boolean any = false;
        for (String c : clients) {
          double f = figure(t, w, c);
          any |= !Double.isNaN(f);
          line += String.format(Locale.ROOT, " %12s", number(f));
        }
        double e = figure(t, w, EI4J);
        double n = figure(t, w, EI4J_NODE);
        double c = figure(t, w, C_EI);
        double j = figure(t, w, JINTERFACE);
        double en = figure(t, w, ENCON);
        line += String.format(Locale.ROOT, " %10s %10s %10s %10s %10s %10s %10s", ratio(e, c), ratio(e, j),
            ratio(e, figure(t, w, ERLANG)), ratio(n, c), ratio(n, j), ratio(e, en), ratio(n, en));
        if (any) {
          out.println(line);
        }
      }
    }
    out.println();
    out.println("Targets (issue 8):");
    for (Target g : targets()) {
      double r = figure(g.transport(), g.workload(), g.client()) / figure(g.baseTransport(), g.workload(), g.baseClient());
      String verdict = Double.isNaN(r) ? "not measured" : r >= g.threshold() ? "met" : "MISSED";
      out.printf(Locale.ROOT, "  %-40s %8s  %s%n", g.description(), Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%.2fx", r), verdict);
    }
    printNotesAndFailures(out);
  }

  /**
   * The median over successful rounds of {@code client}'s CPU seconds per million
   * operations on {@code transport} for {@code w}, or NaN where it reported none.
   */
  synchronized double cpuPerMillion(String transport, Workload w, String client) {
    double[] f = results.stream()
        .filter(m -> m.ok() && m.transport().equals(transport) && m.workload().equals(w) && m.client().equals(client))
        .mapToDouble(Measurement::cpuSecondsPerMillion).filter(d -> !Double.isNaN(d)).sorted().toArray();
    if (f.length == 0) {
      return Double.NaN;
    }
    int mid = f.length / 2;
    return f.length % 2 == 1 ? f[mid] : (f[mid - 1] + f[mid]) / 2;
  }

  /**
   * Prints CPU per message (issue 21): CPU seconds (user + system, the client's whole
   * process) per million messages sent or received, for the clients that report it, with
   * ei4j / C ei and the targets (10 B <= 1.5x C ei, 1 MiB <= 1.1x C ei; lower is better).
   */
  synchronized void printCpu(PrintStream out, List<String> transports, List<Workload> workloads, List<String> clients) {
    List<String> cols = clients.stream().filter(c -> !c.equals(ERLANG)).toList();
    out.println();
    out.println("CPU seconds per million messages (client process, user+sys, over the timed run; lower is better):");
    String header = String.format(Locale.ROOT, "%-9s %-20s", "transport", "workload");
    for (String c : cols) {
      header += String.format(Locale.ROOT, " %12s", c);
    }
    header += String.format(Locale.ROOT, " %10s %10s %10s", "ei4j/C", "raw/C", "Node/C");
    out.println(header);
    out.println("-".repeat(header.length()));
    for (String t : transports) {
      for (Workload w : workloads) {
        String line = String.format(Locale.ROOT, "%-9s %-20s", t, w.id());
        boolean any = false;
        for (String c : cols) {
          double v = cpuPerMillion(t, w, c);
          any |= !Double.isNaN(v);
          line += String.format(Locale.ROOT, " %12s", cpu(v));
        }
        double c = cpuPerMillion(t, w, C_EI);
        line += String.format(Locale.ROOT, " %10s %10s %10s", ratio(cpuPerMillion(t, w, EI4J), c), ratio(cpuPerMillion(t, w, EI4J_RAW), c),
            ratio(cpuPerMillion(t, w, EI4J_NODE), c));
        if (any) {
          out.println(line);
        }
      }
    }
    out.println();
    out.println("Targets (issue 21, CPU per message against C ei; at most):");
    for (Workload w : List.of(Workload.SEND_SMALL, Workload.FLOOD_SMALL, Workload.SEND_1M, Workload.FLOOD_1M)) {
      double limit = w.size() >= 1 << 20 ? 1.1 : 1.5;
      for (String client : List.of(EI4J, EI4J_RAW, EI4J_NODE)) {
        double r = cpuPerMillion("tcp", w, client) / cpuPerMillion("tcp", w, C_EI);
        String verdict = Double.isNaN(r) ? "not measured" : r <= limit ? "met" : "MISSED";
        out.printf(Locale.ROOT, "  %-50s %8s  %s%n", "tcp " + w.id() + " " + client + " <= " + limit + "x C ei",
            Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%.2fx", r), verdict);
      }
    }
  }

  private static String cpu(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v);
  }

  /** A floor on one absolute figure, in the unit the table shows (MB/s or op/s). */
  record Floor(String description, String transport, Workload workload, String client, double minimum) {}

  /** The ceiling targets of issue 21 that are ratios to Erlang-to-Erlang. */
  static List<Target> ceilingTargets() {
    List<Target> t = new ArrayList<>();
    for (String tr : List.of("tcp", "tls", "uds")) {
      for (Workload w : List.of(Workload.SEND_SMALL, Workload.MSEND_SMALL)) {
        for (String c : List.of(EI4J_2JVM, NODE_2JVM)) {
          t.add(new Target(tr + " " + w.id() + " " + c + " >= 2x Erlang-Erlang", tr, w, c, tr, ERLANG, 2.0));
        }
      }
    }
    return t;
  }

  /** The ceiling targets of issue 21 that are absolute. */
  static List<Floor> ceilingFloors() {
    return List.of(new Floor("TLS 1 MiB ei4j 2 JVMs >= 1 GB/s", "tls", Workload.SEND_1M, EI4J_2JVM, 1000),
        new Floor("TLS 1 MiB Node 2 JVMs >= 1 GB/s", "tls", Workload.SEND_1M, NODE_2JVM, 1000));
  }

  /**
   * Prints the ceiling table (issue 21): every pair's figure, the ei4j pairs against
   * Erlang-to-Erlang and C-ei-to-C-ei, the targets, the notes and the failures.
   */
  synchronized void printCeiling(PrintStream out, List<String> transports, List<Workload> workloads) {
    out.println();
    String header = String.format(Locale.ROOT, "%-9s %-20s %-5s", "transport", "workload", "unit");
    for (String c : CEILING_CLIENTS) {
      header += String.format(Locale.ROOT, " %12s", c);
    }
    header += String.format(Locale.ROOT, " %10s %10s %10s %10s %10s", "ei4j2/Erl", "Node2/Erl", "ei4j1/Erl", "ei4j2/C", "C/Erl");
    out.println(header);
    out.println("-".repeat(header.length()));
    for (String t : transports) {
      for (Workload w : workloads) {
        String line = String.format(Locale.ROOT, "%-9s %-20s %-5s", t, w.id(), w.throughputInMegabytes() ? "MB/s" : "op/s");
        boolean any = false;
        for (String c : CEILING_CLIENTS) {
          double f = figure(t, w, c);
          any |= !Double.isNaN(f);
          line += String.format(Locale.ROOT, " %12s", number(f));
        }
        double erl = figure(t, w, ERLANG);
        double c = figure(t, w, C_EI);
        line += String.format(Locale.ROOT, " %10s %10s %10s %10s %10s", ratio(figure(t, w, EI4J_2JVM), erl),
            ratio(figure(t, w, NODE_2JVM), erl), ratio(figure(t, w, EI4J_1JVM), erl), ratio(figure(t, w, EI4J_2JVM), c),
            ratio(c, erl));
        if (any) {
          out.println(line);
        }
      }
    }
    out.println();
    out.println("Targets (issue 21, the library's own ceiling):");
    for (Target g : ceilingTargets()) {
      double r = figure(g.transport(), g.workload(), g.client()) / figure(g.baseTransport(), g.workload(), g.baseClient());
      String verdict = Double.isNaN(r) ? "not measured" : r >= g.threshold() ? "met" : "MISSED";
      out.printf(Locale.ROOT, "  %-50s %10s  %s%n", g.description(), Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%.2fx", r), verdict);
    }
    for (Floor f : ceilingFloors()) {
      double v = figure(f.transport(), f.workload(), f.client());
      String verdict = Double.isNaN(v) ? "not measured" : v >= f.minimum() ? "met" : "MISSED";
      out.printf(Locale.ROOT, "  %-50s %10s  %s%n", f.description(), Double.isNaN(v) ? "-" : number(v) + " MB/s", verdict);
    }
    printNotesAndFailures(out);
  }

  private void printNotesAndFailures(PrintStream out) {
    if (!notes.isEmpty()) {
      out.println();
      out.println("Notes:");
      notes.forEach(n -> out.println("  " + n));
    }
    List<Measurement> failed = results.stream().filter(m -> m.error() != null).toList();
    if (!failed.isEmpty()) {
      out.println();
      out.println("Failed runs:");
      for (Measurement m : failed) {
        out.println("  round " + m.round() + ": " + m.transport() + " " + m.workload().id() + " " + m.client() + ": " + m.error());
      }
    }
  }

  /** Writes every run as CSV, one line per run, with a header line. */
  synchronized void writeCsv(Path file) throws IOException {
    StringBuilder sb = new StringBuilder("round,transport,workload,client,count,seconds,ops_per_s,mb_per_s,cpu_seconds,error\n");
    for (Measurement m : results) {
      sb.append(m.round()).append(',').append(m.transport()).append(',').append(m.workload().id()).append(',').append(m.client()).append(',')
          .append(m.count()).append(',').append(String.format(Locale.ROOT, "%.3f", m.nanos() / 1e9)).append(',')
          .append(m.ok() ? String.format(Locale.ROOT, "%.1f", m.opsPerSecond()) : "").append(',')
          .append(m.ok() ? String.format(Locale.ROOT, "%.2f", m.megabytesPerSecond()) : "").append(',')
          .append(m.cpuNanos() >= 0 ? String.format(Locale.ROOT, "%.4f", m.cpuNanos() / 1e9) : "").append(',')
          .append(m.error() == null ? "" : '"' + m.error().replace('"', '\'').replace('\n', ' ') + '"').append('\n');
    }
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, sb, StandardCharsets.UTF_8);
  }

  static String number(double v) {
    if (Double.isNaN(v)) {
      return "-";
    }
    return v >= 100 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.1f", v);
  }

  static String ratio(double a, double b) {
    double r = a / b;
    return Double.isNaN(r) || Double.isInfinite(r) ? "-" : String.format(Locale.ROOT, "%.2fx", r);
  }
}
