package io.ei4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Temporary directories that go away when the JVM exits. */
final class Temp {
  private Temp() {}

  /** A new temporary directory, deleted with its contents when the JVM exits. */
  static Path directory(String prefix) throws IOException {
    Path dir = Files.createTempDirectory(prefix);
    deleteOnExit(dir);
    return dir;
  }

  /** Deletes {@code dir} and everything in it when the JVM exits, best effort. */
  static void deleteOnExit(Path dir) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
  }

  /** Deletes a directory tree now, best effort. */
  static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException ignored) {
          // best effort: a file another process still holds
        }
      });
    } catch (IOException ignored) {
      // best effort: the directory is already gone
    }
  }
}
