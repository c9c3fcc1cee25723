package io.ei4j.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A client that runs as its own process for each workload (the C ei program, the
 * JInterface and encon client JVMs, a second Erlang node) and prints
 * {@code RESULT Count Nanos Bytes [CpuNanos]}.
 * Connection set-up and start-up are outside the timed part: each process times itself
 * after its warm-up run.
 */
final class ExternalClient implements Client {
  private static final Pattern RESULT = Pattern.compile("^RESULT (\\d+) (\\d+) (\\d+)(?: (-?\\d+))?$");

  /** Makes the command for one run; the arguments are the workload and its warm-up and timed milliseconds. */
  interface CommandFactory {
    List<String> command(Workload w, long warmupMillis, long millis);
  }

  private final String name;
  private final CommandFactory factory;
  private final Path workDir;
  private final Map<String, String> env;

  ExternalClient(String name, CommandFactory factory, Path workDir, Map<String, String> env) {
    this.name = name;
    this.factory = factory;
    this.workDir = workDir;
    this.env = env;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Measurement run(String transport, Workload w, long warmupMillis, long millis) throws Exception {
    List<String> command = new ArrayList<>(factory.command(w, warmupMillis, millis));
    try (ChildProcess p = ChildProcess.start(name + " " + w.id(), command, workDir, env)) {
      Duration limit = Duration.ofMillis(30_000 + 3 * (warmupMillis + millis));
      String line = p.awaitLine(RESULT, limit);
      int rc = p.awaitExit(Duration.ofSeconds(15));
      if (rc != 0) {
        throw new IllegalStateException(name + " exited with " + rc + ":\n" + p.output());
      }
      Matcher m = RESULT.matcher(line);
      if (!m.find()) {
        throw new IllegalStateException("unreadable result line: " + line);
      }
      return new Measurement(transport, w, name, Long.parseLong(m.group(1)), Long.parseLong(m.group(2)),
          Long.parseLong(m.group(3)), m.group(4) == null ? -1 : Long.parseLong(m.group(4)));
    }
  }

  /** The arguments every external client takes after its mode: server node, warm-up, time, size, max. */
  static List<String> args(Workload w, String server, long warmupMillis, long millis) {
    return List.of(w.mode(), server, Long.toString(warmupMillis), Long.toString(millis),
        Integer.toString(w.size()), Long.toString(w.max()));
  }
}
