package io.ei4j.samples;

import io.ei4j.internal.dist.Cookies;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The default cookie file, {@code ~/.erlang.cookie}, created the way {@code erl} creates
 * it when a distributed node starts without one: 20 random upper-case letters, readable
 * by the owner only, but owner-only from the first instant ({@link Cookies#createIfMissing},
 * where {@code erl} writes first and chmods after). Reading is left to
 * {@link io.ei4j.connect.EiNode.Builder#build()}, which applies Erlang's rules; the cookie
 * itself is never printed.
 */
final class CookieFile {
  private CookieFile() {}

  /**
   * The cookie file of this user: {@code $HOME/.erlang.cookie}, as {@code erl} finds it.
   */
  static Path defaultFile() {
    String home = System.getenv("HOME");
    if (home == null || home.isEmpty()) {
      home = System.getProperty("user.home");
    }
    return Path.of(home, ".erlang.cookie");
  }

  /**
   * Creates {@code file} with a fresh random cookie when it does not exist, and says so on
   * {@code err}; leaves an existing file alone (also one another process created
   * meanwhile).
   *
   * @return whether this call created the file
   * @throws IOException when the file cannot be created
   */
  static boolean ensureExists(Path file, PrintStream err) throws IOException {
    if (!Cookies.createIfMissing(file)) {
      return false;
    }
    err.println("created " + file + " with a random cookie (mode "
        + permissionsOf(file) + "), as erl does; Erlang nodes of this user read the same file");
    return true;
  }

  /**
   * The cookie in a file named by {@code --cookie-file}: read with Erlang's rules for
   * {@code ~/.erlang.cookie} (first line, printable ASCII, and the file accessible by its
   * owner only, else refused as {@code erl} refuses it). Never created.
   *
   * @throws IOException when the file is missing, readable by others, or not a cookie; the
   *     message never holds the cookie
   */
  static String read(Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new IOException("--cookie-file " + file + ": no such file");
    }
    return Cookies.read(file);
  }

  private static String permissionsOf(Path file) {
    try {
      return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
    } catch (IOException | UnsupportedOperationException e) {
      return "unknown";
    }
  }
}
