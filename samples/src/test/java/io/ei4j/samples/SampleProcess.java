package io.ei4j.samples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One run of {@code java -jar samples/target/ei4j-samples.jar ...} as a child process, the
 * way a user runs it, or with {@link Builder#onModulePath()} of {@code java --module-path
 * ... --module io.ei4j.samples/io.ei4j.samples.Main ...}. Standard output and error go to files (pipes would lose what a JVM
 * prints in its shutdown hooks when the reader races the exit), which the waits poll;
 * {@link #close()} echoes them to this process's standard error, so that a failing test
 * shows them, and kills a process that is still running.
 */
final class SampleProcess implements AutoCloseable {
  private final Process process;
  private final String label;
  private final Path outFile;
  private final Path errFile;
  private boolean echoed;

  private SampleProcess(Process process, String label, Path outFile, Path errFile) {
    this.process = process;
    this.label = label;
    this.outFile = outFile;
    this.errFile = errFile;
  }

  /** The shaded jar that {@code mvn package} built; failsafe passes its path. */
  static Path jar() {
    String p = System.getProperty("ei4j.samples.jar");
    assertTrue(p != null, "system property ei4j.samples.jar is not set: run these tests with mvn verify");
    Path jar = Path.of(p);
    assertTrue(Files.isRegularFile(jar), jar + " does not exist: mvn package builds it");
    return jar;
  }

  /**
   * The module path of the samples as modules: the samples' own jar (not the shaded one)
   * and their runtime dependencies, as the dependency plugin lists them at package time.
   */
  static List<Path> modulePath() {
    String jar = System.getProperty("ei4j.samples.module.jar");
    String list = System.getProperty("ei4j.samples.module.path.file");
    assertTrue(jar != null && list != null,
        "system properties ei4j.samples.module.jar and ei4j.samples.module.path.file are not set: run these tests with mvn verify");
    List<Path> path = new ArrayList<>();
    path.add(Path.of(jar));
    try {
      for (String entry : Files.readString(Path.of(list), StandardCharsets.UTF_8).strip().split(java.io.File.pathSeparator)) {
        path.add(Path.of(entry));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (Path p : path) {
      assertTrue(Files.isRegularFile(p), p + " does not exist: mvn package builds it");
    }
    return path;
  }

  /** The repository's root directory (where README.md is). */
  static Path repoRoot() {
    return Path.of(System.getProperty("ei4j.readme", "../README.md")).toAbsolutePath().normalize().getParent();
  }

  /** Options for a run. */
  static Builder builder(String... args) {
    return new Builder(List.of(args));
  }

  /** Starts {@code java -jar JAR args...} with the test's environment. */
  static SampleProcess start(String... args) {
    return builder(args).start();
  }

  /** Runs a client command to its end (at most 60 s) and returns it for inspection. */
  static SampleProcess run(String... args) {
    SampleProcess p = start(args);
    p.awaitExit(Duration.ofSeconds(60));
    return p;
  }

  /** The operating-system pid of the JVM. */
  long pid() {
    return process.pid();
  }

  /** Standard output so far, complete lines only. */
  List<String> out() {
    return lines(outFile);
  }

  /** Standard error so far, complete lines only. */
  List<String> err() {
    return lines(errFile);
  }

  private static List<String> lines(Path file) {
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      int end = text.lastIndexOf('\n');
      return end < 0 ? List.of() : List.of(text.substring(0, end).split("\n", -1));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Standard error so far, as one string. */
  String errText() {
    return String.join("\n", err());
  }

  /** Standard output so far, as one string. */
  String outText() {
    return String.join("\n", out());
  }

  /** Waits for a line of standard output that matches {@code regex} entirely. */
  String awaitOut(String regex, Duration timeout) {
    return await(outFile, regex, timeout, "stdout");
  }

  /** Waits for a line of standard error in which {@code regex} is found. */
  String awaitErr(String regex, Duration timeout) {
    return await(errFile, ".*(?:" + regex + ").*", timeout, "stderr");
  }

  /** Waits for {@code ready NODENAME} and returns NODENAME. */
  String awaitReady() {
    return awaitOut("ready \\S+", Duration.ofSeconds(30)).substring("ready ".length());
  }

  private String await(Path file, String regex, Duration timeout, String what) {
    Pattern p = Pattern.compile(regex);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      boolean exited = !process.isAlive();
      for (String line : lines(file)) {
        if (p.matcher(line).matches()) {
          return line;
        }
      }
      if (exited || System.nanoTime() > deadline) {
        echo();
        throw new AssertionError(label + ": no " + what + " line matching /" + regex + "/ within " + timeout
            + (process.isAlive() ? "" : " (exited " + process.exitValue() + ")")
            + "\nstdout:\n" + outText() + "\nstderr:\n" + errText());
      }
      try {
        Thread.sleep(25);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }

  /** Sends SIGTERM, as {@code kill PID} does. */
  void terminate() {
    process.destroy();
  }

  /** Sends a signal by name ({@code INT}, {@code TERM}). */
  void signal(String name) {
    try {
      Process k = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
      if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
        throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Waits for the process to exit and for its output to be read; returns the status. */
  int awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(label + " still runs after " + timeout + "\nstdout:\n" + outText()
            + "\nstderr:\n" + errText());
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** The exit status of a process that has exited. */
  int exitValue() {
    return process.exitValue();
  }

  /** Whether the process still runs. */
  boolean isAlive() {
    return process.isAlive();
  }

  /** Copies what the process printed to this process's standard error, once. */
  synchronized void echo() {
    if (echoed) {
      return;
    }
    echoed = true;
    for (String line : out()) {
      System.err.println("[" + label + " out] " + line);
    }
    for (String line : err()) {
      System.err.println("[" + label + " err] " + line);
    }
  }

  @Override
  public void close() {
    echo();
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public String toString() {
    return label;
  }

  /** Options for a run: environment and working directory. */
  static final class Builder {
    private final List<String> args;
    private final Map<String, String> env = new LinkedHashMap<>();
    private final List<String> unset = new ArrayList<>();
    private Path workDir;
    private boolean modules;

    private Builder(List<String> args) {
      this.args = args;
    }

    /** Sets an environment variable, such as {@code HOME} or {@code ERL_EPMD_PORT}. */
    Builder env(String name, String value) {
      env.put(name, value);
      return this;
    }

    /** Removes an environment variable the test JVM has. */
    Builder unsetEnv(String name) {
      unset.add(name);
      return this;
    }

    /** The working directory. */
    Builder workDir(Path dir) {
      this.workDir = dir;
      return this;
    }

    /**
     * Runs the samples from the module path ({@link SampleProcess#modulePath()}) as module
     * {@code io.ei4j.samples}, instead of the shaded jar from the class path.
     */
    Builder onModulePath() {
      this.modules = true;
      return this;
    }

    SampleProcess start() {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-Xshare:auto");
      cmd.add("-XX:TieredStopAtLevel=1");
      if (modules) {
        cmd.add("--module-path");
        cmd.add(modulePath().stream().map(Path::toString).collect(Collectors.joining(java.io.File.pathSeparator)));
        // What the shaded jar's Enable-Native-Access manifest entry says, for the module path.
        cmd.add("--enable-native-access=com.sun.jna");
        cmd.add("--module");
        cmd.add("io.ei4j.samples/io.ei4j.samples.Main");
      } else {
        cmd.add("-jar");
        cmd.add(jar().toString());
      }
      cmd.addAll(args);
      ProcessBuilder pb = new ProcessBuilder(cmd);
      unset.forEach(pb.environment()::remove);
      pb.environment().putAll(env);
      if (workDir != null) {
        pb.directory(workDir.toFile());
      }
      try {
        Path dir = Files.createTempDirectory("ei4j-sample-run");
        Path outFile = dir.resolve("stdout");
        Path errFile = dir.resolve("stderr");
        // Deleted in reverse order of registration when the test JVM exits: files, then dir.
        dir.toFile().deleteOnExit();
        outFile.toFile().deleteOnExit();
        errFile.toFile().deleteOnExit();
        pb.redirectOutput(outFile.toFile()).redirectError(errFile.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        return new SampleProcess(p, String.join(" ", args.subList(0, Math.min(1, args.size()))) + "#" + p.pid(),
            outFile, errFile);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start " + cmd, e);
      }
    }
  }
}
