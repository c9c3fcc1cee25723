package io.ei4j.samples;

import io.ei4j.testkit.ErlangPeer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The real Erlang nodes of the samples' tests: {@code samples_peer.erl} (next to this
 * class), compiled once per JVM, started with {@code -eval 'samples_peer:start()'} and
 * driven through its standard input.
 */
final class ErlangSide {
  static final Duration REPLY = Duration.ofSeconds(15);
  private static Path ebin;

  private ErlangSide() {}

  /** The directory with the compiled {@code samples_peer}. */
  static synchronized Path ebin() {
    if (ebin == null) {
      try {
        ebin = ErlangPeer.compileResource(ErlangSide.class, "samples_peer.erl",
            deletedOnExit(Files.createTempDirectory("ei4j-samples-erl")));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return ebin;
  }

  /** Registers {@code dir} to be deleted, with everything in it, when the test JVM exits. */
  static Path deletedOnExit(Path dir) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      } catch (IOException e) {
        // best effort: a temporary directory
      }
    }));
    return dir;
  }

  /** A builder for {@code erl -sname ALIVE -setcookie COOKIE} running {@code samples_peer}. */
  static ErlangPeer.Builder peer(String alive, String cookie) {
    return ErlangPeer.builder()
        .sname(alive)
        .cookie(cookie)
        .codePath(ebin())
        .env("ERL_CRASH_DUMP_SECONDS", "0")
        .eval("samples_peer:start()")
        .readyLine("^ready ");
  }

  /** Sends one command line and waits for the line that answers it. */
  static String ask(ErlangPeer erl, String command, String answerRegex) {
    int before = erl.output().size();
    erl.sendLine(command);
    long deadline = System.nanoTime() + REPLY.toNanos();
    while (System.nanoTime() < deadline) {
      var lines = erl.output();
      for (int i = before; i < lines.size(); i++) {
        if (lines.get(i).matches(answerRegex)) {
          return lines.get(i);
        }
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError(erl.nodeName() + " printed no line matching /" + answerRegex + "/ after '" + command
        + "'; it printed:\n" + String.join("\n", erl.output()));
  }
}
