package io.ei4j.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Where the installed Erlang/OTP keeps what the benchmarks need: {@code erl}, {@code erlc},
 * JInterface's {@code OtpErlang.jar}, erl_interface's {@code libei.a} and the
 * {@code erl_uds_dist} example. The versioned directories are found by globbing at run
 * time, never hard-coded.
 *
 * <p>The OTP root is the system property {@code ei4j.erlang.root}, else what
 * {@code code:root_dir()} answers in an {@code erl} on the {@code PATH}. A missing piece
 * is an {@link IllegalStateException} that names what to install.
 */
public final class ErlangInstall {
  private static volatile Path root;

  private ErlangInstall() {}

  /** The OTP root directory ({@code /usr/lib/erlang} on Debian). */
  public static Path root() {
    Path r = root;
    if (r == null) {
      String configured = System.getProperty("ei4j.erlang.root");
      if (configured != null) {
        r = Path.of(configured);
      } else {
        String out = run(List.of(executable("erl").toString(), "-noshell", "-eval",
            "io:put_chars(code:root_dir()), halt()."), 30).trim();
        r = Path.of(out);
      }
      if (!Files.isDirectory(r.resolve("lib"))) {
        throw new IllegalStateException("not an Erlang/OTP root (no lib directory): " + r);
      }
      root = r;
    }
    return r;
  }

  /**
   * The OTP major release of {@link #root()}: the highest numeric directory name under its
   * {@code releases/} (Debian's OTP 25 has {@code releases/25}).
   *
   * @throws IllegalStateException when there is none
   */
  public static int otpRelease() {
    int best = -1;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(root().resolve("releases"))) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (Files.isDirectory(p) && n.matches("\\d{1,4}")) {
          best = Math.max(best, Integer.parseInt(n));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (best < 0) {
      throw new IllegalStateException("no OTP release directory under " + root().resolve("releases"));
    }
    return best;
  }

  /** The directory of the OTP application {@code name}, e.g. {@code lib/jinterface-1.13.1}. */
  public static Path libDir(String name) {
    Path lib = root().resolve("lib");
    List<Path> found = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(lib, name + "-*")) {
      ds.forEach(found::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (found.isEmpty()) {
      throw new IllegalStateException("no " + name + "-* directory in " + lib
          + " (Debian: apt-get install erlang-" + name.replace('_', '-') + ")");
    }
    found.sort(null);
    return found.get(found.size() - 1);
  }

  /** JInterface's jar, from {@code lib/jinterface-*}/priv (Debian: erlang-jinterface). */
  public static Path jinterfaceJar() {
    Path jar = libDir("jinterface").resolve("priv/OtpErlang.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing (Debian: apt-get install erlang-jinterface)");
    }
    return jar;
  }

  /** The erl_interface directory, with {@code include/ei.h} and {@code lib/libei.a}. */
  public static Path erlInterface() {
    Path dir = libDir("erl_interface");
    if (!Files.isRegularFile(dir.resolve("lib/libei.a")) || !Files.isRegularFile(dir.resolve("include/ei.h"))) {
      throw new IllegalStateException(dir + " has no lib/libei.a or include/ei.h (Debian: apt-get install erlang-dev)");
    }
    return dir;
  }

  /** The source of OTP's {@code erl_uds_dist} example (Debian: erlang-examples). */
  public static Path erlUdsDistSource() {
    Path src = libDir("kernel").resolve("examples/erl_uds_dist/src/erl_uds_dist.erl");
    if (!Files.isRegularFile(src)) {
      throw new IllegalStateException(src + " is missing (Debian: apt-get install erlang-examples)");
    }
    return src;
  }

  /** An executable on the {@code PATH}. */
  public static Path executable(String name) {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String dir : path.split(java.io.File.pathSeparator)) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    throw new IllegalStateException(name + " is not on the PATH");
  }

  /**
   * Runs {@code command} to completion within {@code timeoutSeconds} and returns its
   * standard output; a non-zero exit or a timeout is an {@link IllegalStateException}
   * with what the command printed.
   */
  public static String run(List<String> command, long timeoutSeconds) {
    try {
      Path err = Files.createTempFile("ei4j-bench-cmd", ".err");
      try {
        Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new IllegalStateException("timed out after " + timeoutSeconds + " s: " + command);
        }
        String stdout = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
          throw new IllegalStateException("exit " + p.exitValue() + " from " + command + ":\n" + stdout
              + Files.readString(err, StandardCharsets.UTF_8));
        }
        return stdout;
      } finally {
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command, e);
    }
  }
}
