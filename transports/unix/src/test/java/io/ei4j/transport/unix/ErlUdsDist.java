package io.ei4j.transport.unix;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.testkit.ErlangPeer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * OTP's {@code erl_uds_dist} example, compiled once per test JVM from the sources Debian's
 * {@code erlang-examples} package installs, together with the tests' {@code uds_peer}
 * module. A missing source fails the test: these tests must run against the real module.
 *
 * <p>Two builds: {@link #ebin()} as shipped, which on OTP 23 and later runs distribution
 * version 6 because {@code dist.hrl} defines {@code ERL_DIST_VER_6}; and
 * {@link #ebinVersion5()}, with that test disabled so that the module takes its
 * version 5 branch (creations 1..3 counted in a {@code NAME.uds} file).
 */
final class ErlUdsDist {
  private static Path root;
  private static Path ebin;
  private static Path ebinVersion5;

  private ErlUdsDist() {}

  /** The {@code erl_uds_dist} source of the installed OTP. */
  static Path source() {
    Path source = ErlangPeer.libDir("kernel").resolve("examples/erl_uds_dist/src/erl_uds_dist.erl");
    assertTrue(Files.isRegularFile(source),
        source + " is missing: install Debian's erlang-examples package");
    return source;
  }

  /** A code path with {@code erl_uds_dist} as shipped and {@code uds_peer}. */
  static synchronized Path ebin() {
    if (ebin == null) {
      ebin = ErlangPeer.compileFile(root().resolve("ebin"), source());
      ErlangPeer.compileResource(ErlUdsDist.class, "uds_peer.erl", ebin);
    }
    return ebin;
  }

  /** A code path with {@code erl_uds_dist} forced to distribution version 5, and {@code uds_peer}. */
  static synchronized Path ebinVersion5() {
    if (ebinVersion5 == null) {
      try {
        String text = Files.readString(source());
        String forced = text.replace("-ifdef(ERL_DIST_VER_6).", "-ifdef(EI4J_NEVER_DEFINED).");
        assertFalse(forced.equals(text),
            "erl_uds_dist.erl no longer selects its version with -ifdef(ERL_DIST_VER_6)");
        ebinVersion5 = ErlangPeer.compile(root().resolve("ebin5"), "erl_uds_dist", forced);
        ErlangPeer.compileResource(ErlUdsDist.class, "uds_peer.erl", ebinVersion5);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return ebinVersion5;
  }

  private static Path root() {
    if (root == null) {
      try {
        root = Files.createTempDirectory("ei4j-erl-uds");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Path dir = root;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
    }
    return root;
  }

  /** Deletes a directory tree, best effort (used for temporary directories). */
  static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException ignored) {
          // best effort
        }
      });
    } catch (IOException ignored) {
      // best effort
    }
  }
}
