package io.ei4j.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.File;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A program the harness starts (an Erlang node, the C client, the JInterface client),
 * with standard output and error merged and collected line by line. {@link #close()}
 * closes its standard input (Erlang nodes running {@code bench_peer:start()} halt on
 * that), then destroys it if it has not exited within a few seconds: nothing the harness
 * starts outlives it.
 */
final class ChildProcess implements AutoCloseable {
  private final String label;
  private final Process process;
  private final List<String> lines = new ArrayList<>();
  private final Thread pump;

  private ChildProcess(String label, Process process) {
    this.label = label;
    this.process = process;
    this.pump = new Thread(this::pump, "ei4j-bench-out-" + label);
    this.pump.setDaemon(true);
    this.pump.start();
  }

  /**
   * Starts {@code command} in {@code workDir} with {@code env} added to this process's
   * environment. The label names the child in error messages; commands never carry the
   * cookie, so they can be shown.
   */
  static ChildProcess start(String label, List<String> command, Path workDir, Map<String, String> env) {
    ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
    pb.environment().putAll(env);
    try {
      return new ChildProcess(label, pb.start());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + label + ": " + command, e);
    }
  }

  /**
   * This JVM's class path with every entry made absolute, for a child JVM: children run in
   * a work directory of their own, where a relative entry such as
   * {@code bench/target/benchmarks.jar} would name nothing.
   */
  static String absoluteClassPath() {
    List<String> entries = new ArrayList<>();
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!e.isEmpty()) {
        entries.add(Path.of(e).toAbsolutePath().toString());
      }
    }
    return String.join(File.pathSeparator, entries);
  }

  private void pump() {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        synchronized (lines) {
          lines.add(line);
          lines.notifyAll();
        }
      }
    } catch (IOException ignored) {
      // the process went away; what it printed is kept
    } finally {
      synchronized (lines) {
        lines.notifyAll();
      }
    }
  }

  /**
   * The first output line matching {@code pattern} (searched with {@code find}), waiting
   * up to {@code timeout}.
   *
   * @throws IllegalStateException when the process exits or time runs out first, with
   *     everything it printed
   */
  String awaitLine(Pattern pattern, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    int seen = 0;
    synchronized (lines) {
      while (true) {
        for (; seen < lines.size(); seen++) {
          if (pattern.matcher(lines.get(seen)).find()) {
            return lines.get(seen);
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IllegalStateException(label + ": no line matching /" + pattern + "/ within "
              + timeout.toMillis() + " ms; output:\n" + output());
        }
        if (!process.isAlive() && !pump.isAlive()) {
          throw new IllegalStateException(label + " exited with " + process.exitValue()
              + " before printing /" + pattern + "/; output:\n" + output());
        }
        lines.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 100)));
      }
    }
  }

  /**
   * Waits up to {@code timeout} for the process to exit and returns its exit status.
   *
   * @throws IllegalStateException when it is still running then (it is destroyed)
   */
  int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      close();
      throw new IllegalStateException(label + " did not finish within " + timeout.toSeconds() + " s; output:\n" + output());
    }
    pump.join(2_000);
    return process.exitValue();
  }

  /** Whether the process is still running. */
  boolean isAlive() {
    return process.isAlive();
  }

  /** Everything printed so far, one line per line. */
  String output() {
    synchronized (lines) {
      return String.join("\n", lines);
    }
  }

  @Override
  public void close() {
    try {
      process.getOutputStream().close();
    } catch (IOException ignored) {
      // already gone
    }
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroy();
        if (!process.waitFor(3, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          process.waitFor(3, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
