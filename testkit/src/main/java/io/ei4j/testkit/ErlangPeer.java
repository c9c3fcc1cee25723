package io.ei4j.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real Erlang node started as a child process, for interop tests.
 *
 * <p>Tests never mock Erlang: they start {@code erl}, talk to it, and stop it. A missing
 * {@code erl} is a test failure ({@link AssertionError}), never a skip, so that CI cannot
 * go green without having run the interop tests.
 *
 * <pre>{@code
 * Path ebin = ErlangPeer.compile(tmp, "echo", ECHO_SOURCE);
 * try (ErlangPeer peer = ErlangPeer.builder()
 *     .sname(ErlangPeer.uniqueName("echo"))
 *     .cookie("secret")
 *     .codePath(ebin)
 *     .eval("echo:start(), io:format(\"ready~n\")")
 *     .readyLine("ready")
 *     .start()) {
 *   connect to peer.nodeName() ...
 * }
 * }</pre>
 *
 * <p>Standard output and standard error of the node are collected line by line (see
 * {@link #output()}, {@link #awaitLine}) and also echoed to this process's standard
 * error with the node's name as a prefix, so that a failing test shows what Erlang said.
 */
public final class ErlangPeer implements AutoCloseable {
  private static final AtomicLong UNIQUE = new AtomicLong();
  private static volatile Path rootDir;

  private final Process process;
  private final String nodeName;
  private final List<String> lines = new ArrayList<>();
  private final OutputStream stdin;
  /**
   * Whether both of the node's output streams have ended, so that every line it printed is
   * in {@link #lines}: its error line (on stderr) can come after the end of stdout. Guarded
   * by {@code lines}.
   */
  private boolean drained;
  /** The output streams that have ended, of two. Guarded by {@code lines}. */
  private int streamsEnded;

  private ErlangPeer(Process process, String nodeName) {
    this.process = process;
    this.nodeName = nodeName;
    this.stdin = process.getOutputStream();
    pump(process.getInputStream(), "out");
    pump(process.getErrorStream(), "err");
  }

  /** A builder for a node started with {@code erl -noshell}. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A node name part that no other test in this JVM or a concurrent JVM uses: the prefix,
   * this JVM's pid and a counter.
   */
  public static String uniqueName(String prefix) {
    return prefix + "_" + ProcessHandle.current().pid() + "_" + UNIQUE.incrementAndGet();
  }

  /** The full path of {@code erl}; fails the test when Erlang is not installed. */
  public static Path erl() {
    return executable("erl");
  }

  /** The full path of an Erlang tool ({@code erlc}, {@code epmd}, {@code escript}). */
  public static Path executable(String name) {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String dir : path.split(":")) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    throw new AssertionError(
        "'" + name + "' is not on the PATH. ei4j's interop tests need Erlang/OTP: "
            + "apt-get install erlang-base erlang-dev erlang-ssl erlang-examples (see .ci/run)");
  }

  /** The host part {@code erl -sname} gives a node on this machine. */
  public static String shortHostName() {
    String host;
    try {
      host = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
    } catch (IOException e) {
      try {
        host = java.net.InetAddress.getLocalHost().getHostName();
      } catch (java.net.UnknownHostException ex) {
        throw new UncheckedIOException(ex);
      }
    }
    int dot = host.indexOf('.');
    return dot < 0 ? host : host.substring(0, dot);
  }

  /** Erlang's root directory ({@code code:root_dir()}), e.g. {@code /usr/lib/erlang}. */
  public static Path rootDir() {
    Path root = rootDir;
    if (root == null) {
      Path erl = erl();
      try {
        Path real = erl.toRealPath();
        // /usr/lib/erlang/bin/erl -> /usr/lib/erlang
        Path candidate = real.getParent().getParent();
        if (Files.isDirectory(candidate.resolve("lib"))) {
          root = candidate;
        }
      } catch (IOException e) {
        // fall through to asking erl itself
      }
      if (root == null) {
        root = Path.of(run(List.of(erl.toString(), "-noshell", "-eval",
            "io:format(\"~s\", [code:root_dir()]), halt().")).trim());
      }
      rootDir = root;
    }
    return root;
  }

  /**
   * The directory of an OTP application, whatever its version: {@code libDir("erl_interface")}
   * is {@code /usr/lib/erlang/lib/erl_interface-5.3} on OTP 25.
   */
  public static Path libDir(String application) {
    Path lib = rootDir().resolve("lib");
    try (Stream<Path> dirs = Files.list(lib)) {
      return dirs
          .filter(p -> p.getFileName().toString().startsWith(application + "-"))
          .max(Path::compareTo)
          .orElseThrow(() -> new AssertionError(
              "no " + application + "-* directory under " + lib + ": is its Debian package installed?"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes {@code source} as {@code outDir/moduleName.erl} and compiles it there with
   * {@code erlc}; returns {@code outDir}, ready for {@link Builder#codePath}.
   */
  public static Path compile(Path outDir, String moduleName, String source) {
    try {
      Files.createDirectories(outDir);
      Path file = outDir.resolve(moduleName + ".erl");
      Files.writeString(file, source, StandardCharsets.UTF_8);
      return compileFile(outDir, file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Compiles an existing {@code .erl} file into {@code outDir}; returns {@code outDir}. */
  public static Path compileFile(Path outDir, Path erlFile) {
    try {
      Files.createDirectories(outDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    run(List.of(executable("erlc").toString(), "-o", outDir.toString(), erlFile.toString()));
    return outDir;
  }

  /**
   * Copies a classpath resource (an {@code .erl} file next to a test class) to
   * {@code outDir} and compiles it there; returns {@code outDir}.
   */
  public static Path compileResource(Class<?> anchor, String resource, Path outDir) {
    try (InputStream in = anchor.getResourceAsStream(resource)) {
      if (in == null) {
        throw new AssertionError("no resource " + resource + " next to " + anchor.getName());
      }
      Files.createDirectories(outDir);
      String fileName = Path.of(resource).getFileName().toString();
      Path file = outDir.resolve(fileName);
      Files.write(file, in.readAllBytes());
      return compileFile(outDir, file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Makes sure an EPMD daemon answers on the default port (4369), starting
   * {@code epmd -daemon} when none does, as {@code erl -sname} itself would.
   */
  public static void ensureEpmd() {
    run(List.of(executable("epmd").toString(), "-daemon"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (java.net.Socket s = new java.net.Socket()) {
        s.connect(new java.net.InetSocketAddress("127.0.0.1", 4369), 500);
        return;
      } catch (IOException e) {
        sleep(50);
      }
    }
    throw new AssertionError("epmd did not start on port 4369");
  }

  /**
   * Runs a command to completion (at most two minutes) and returns its standard output;
   * a non-zero exit fails the test with everything the command printed.
   */
  public static String run(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(2, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new AssertionError("timed out: " + command);
      }
      String text = new String(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new AssertionError("exit " + p.exitValue() + " from " + command + ":\n" + text);
      }
      return text;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted running " + command, e);
    }
  }

  /** The node's full name, e.g. {@code peer_123_1@myhost}. */
  public String nodeName() {
    return nodeName;
  }

  /** The part of the node name before {@code @}. */
  public String alive() {
    return nodeName.substring(0, nodeName.indexOf('@'));
  }

  /** The part of the node name after {@code @}. */
  public String host() {
    return nodeName.substring(nodeName.indexOf('@') + 1);
  }

  /** The operating-system pid of the Erlang VM ({@code erl} execs into {@code beam.smp}). */
  public long pid() {
    return process.pid();
  }

  /** Sends a signal to the VM: {@code "STOP"}, {@code "CONT"}, {@code "KILL"}. */
  public void signal(String signal) {
    run(List.of("kill", "-" + signal, Long.toString(pid())));
  }

  /** Writes a line to the node's standard input (for {@code io:get_line} driven scripts). */
  public void sendLine(String line) {
    try {
      stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      stdin.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every line the node printed so far, standard output and error interleaved. */
  public List<String> output() {
    synchronized (lines) {
      return List.copyOf(lines);
    }
  }

  /**
   * Waits for a printed line that matches {@code regex} (anywhere in the line) and
   * returns it; fails the test with the node's output when none comes in time or the node
   * exits first.
   */
  public String awaitLine(String regex, Duration timeout) {
    return lineMatching(Pattern.compile(regex), timeout, regex);
  }

  /** Like {@link #awaitLine}, returning the match so that its groups can be read. */
  public Matcher awaitMatch(String regex, Duration timeout) {
    Pattern pattern = Pattern.compile(regex);
    Matcher m = pattern.matcher(lineMatching(pattern, timeout, regex));
    if (!m.find()) {
      throw new IllegalStateException("unreachable: the line matched before");
    }
    return m;
  }

  private String lineMatching(Pattern pattern, Duration timeout, String regex) {
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
        if (left <= 0 || (!process.isAlive() && drained)) {
          throw new AssertionError("node " + nodeName + " printed no line matching /" + regex
              + "/ within " + timeout + (process.isAlive() ? "" : " (it exited)")
              + "; it printed:\n" + String.join("\n", lines));
        }
        try {
          lines.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 100)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError("interrupted", e);
        }
      }
    }
  }

  /** Waits for the node to exit by itself and returns its exit status. */
  public int awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("node " + nodeName + " still runs after " + timeout
            + "; it printed:\n" + String.join("\n", output()));
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Whether the VM process still runs. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** Kills the node (SIGKILL after a short grace period) and waits for it to go. */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(2, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  private void pump(InputStream in, String stream) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          System.err.println("[" + nodeName + " " + stream + "] " + line);
          synchronized (lines) {
            lines.add(line);
            lines.notifyAll();
          }
        }
      } catch (IOException e) {
        // the process went away; what it printed so far is kept
      } finally {
        synchronized (lines) {
          drained = ++streamsEnded == 2;
          lines.notifyAll();
        }
      }
    }, "erl-" + stream + "-" + nodeName);
    t.setDaemon(true);
    t.start();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Options for {@code erl}; {@link #start()} launches it. */
  public static final class Builder {
    private String nodeName;
    private boolean longNames;
    private String cookie;
    private final List<Path> codePath = new ArrayList<>();
    private final List<String> args = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private Path workDir;
    private String eval;
    private String readyRegex;
    private Duration readyTimeout = Duration.ofSeconds(30);
    private boolean epmd = true;

    private Builder() {}

    /**
     * {@code -sname}: {@code alive} alone takes this machine's short host name;
     * {@code alive@host} is used as given.
     */
    public Builder sname(String name) {
      this.nodeName = name.contains("@") ? name : name + "@" + shortHostName();
      this.longNames = false;
      return this;
    }

    /** {@code -name alive@host}, e.g. {@code peer@127.0.0.1}. */
    public Builder name(String fullName) {
      if (!fullName.contains("@")) {
        throw new IllegalArgumentException("-name needs alive@host: " + fullName);
      }
      this.nodeName = fullName;
      this.longNames = true;
      return this;
    }

    /** {@code -setcookie}. Required: tests never depend on the user's cookie file. */
    public Builder cookie(String cookie) {
      this.cookie = Objects.requireNonNull(cookie);
      return this;
    }

    /** Adds {@code -pa} directories. */
    public Builder codePath(Path... dirs) {
      codePath.addAll(Arrays.asList(dirs));
      return this;
    }

    /** Extra {@code erl} arguments, e.g. {@code "-kernel", "net_ticktime", "4"}. */
    public Builder args(String... more) {
      args.addAll(Arrays.asList(more));
      return this;
    }

    /** An environment variable for the node, e.g. {@code ERL_EPMD_PORT}. */
    public Builder env(String name, String value) {
      env.put(name, value);
      return this;
    }

    /** The node's working directory (erl_uds_dist puts its socket file there). */
    public Builder workDir(Path dir) {
      this.workDir = dir;
      return this;
    }

    /** An expression run at start-up ({@code -eval}). */
    public Builder eval(String expression) {
      this.eval = expression;
      return this;
    }

    /** {@link #start()} returns once a printed line matches this. */
    public Builder readyLine(String regex) {
      this.readyRegex = regex;
      return this;
    }

    /** How long {@link #start()} waits for the ready line (default 30 s). */
    public Builder readyTimeout(Duration timeout) {
      this.readyTimeout = timeout;
      return this;
    }

    /**
     * Whether {@link #start()} makes sure the default EPMD runs first (default true when
     * the node is distributed, no {@code ERL_EPMD_PORT} is set and no {@code -no_epmd} is
     * among the arguments).
     */
    public Builder ensureEpmd(boolean ensure) {
      this.epmd = ensure;
      return this;
    }

    /** Starts the node; waits for the ready line when one was given. */
    public ErlangPeer start() {
      List<String> cmd = new ArrayList<>();
      cmd.add(erl().toString());
      cmd.add("-noshell");
      if (nodeName != null) {
        cmd.add(longNames ? "-name" : "-sname");
        cmd.add(nodeName);
        if (cookie == null) {
          throw new IllegalStateException("a distributed test node needs an explicit cookie");
        }
      }
      if (cookie != null) {
        cmd.add("-setcookie");
        cmd.add(cookie);
      }
      for (Path p : codePath) {
        cmd.add("-pa");
        cmd.add(p.toString());
      }
      cmd.addAll(args);
      if (eval != null) {
        cmd.add("-eval");
        cmd.add(eval);
      }
      if (nodeName != null && epmd && !env.containsKey("ERL_EPMD_PORT")
          && !args.contains("-no_epmd")) {
        ErlangPeer.ensureEpmd();
      }
      ProcessBuilder pb = new ProcessBuilder(cmd);
      pb.environment().putAll(env);
      if (workDir != null) {
        pb.directory(workDir.toFile());
      }
      Process process;
      try {
        process = pb.start();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start " + cmd, e);
      }
      ErlangPeer peer = new ErlangPeer(process, nodeName == null ? "nonode@nohost" : nodeName);
      if (readyRegex != null) {
        try {
          peer.awaitLine(readyRegex, readyTimeout);
        } catch (AssertionError e) {
          peer.close();
          throw e;
        }
      }
      return peer;
    }
  }
}
