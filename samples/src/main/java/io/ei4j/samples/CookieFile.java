package io.ei4j.samples;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.EnumSet;

/**
 * The default cookie file, {@code ~/.erlang.cookie}, created the way {@code erl} creates
 * it when a distributed node starts without one: 20 random upper-case letters, readable
 * by the owner only. Reading is left to {@link io.ei4j.connect.EiNode.Builder#build()},
 * which applies Erlang's rules; the cookie itself is never printed.
 */
final class CookieFile {
  private static final int LENGTH = 20;
  private static final SecureRandom RANDOM = new SecureRandom();

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
    if (Files.exists(file)) {
      return false;
    }
    char[] cookie = new char[LENGTH];
    for (int i = 0; i < LENGTH; i++) {
      cookie[i] = (char) ('A' + RANDOM.nextInt(26));
    }
    try {
      Files.writeString(file, new String(cookie), StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE);
    } catch (FileAlreadyExistsException raced) {
      return false;
    }
    try {
      // erl leaves the file read-only for its owner (mode 0400).
      Files.setPosixFilePermissions(file, EnumSet.of(PosixFilePermission.OWNER_READ));
    } catch (UnsupportedOperationException notPosix) {
      // No POSIX permissions here; Erlang does not check them either.
    }
    err.println("created " + file + " with a random cookie (mode "
        + permissionsOf(file) + "), as erl does; Erlang nodes of this user read the same file");
    return true;
  }

  private static String permissionsOf(Path file) {
    try {
      return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
    } catch (IOException | UnsupportedOperationException e) {
      return "unknown";
    }
  }
}
