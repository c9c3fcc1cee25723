package io.ei4j.internal.dist;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * Reads the default cookie, {@code ~/.erlang.cookie}, the way an Erlang node does
 * ({@code auth}): the file must exist and be accessible by its owner only; the cookie is
 * its content without the trailing line breaks, and must be printable ASCII (space to
 * {@code ~}), else Erlang refuses it with "Bad characters in cookie" and so does this
 * class. The cookie is never part of a message.
 */
public final class Cookies {
  /** Longest cookie accepted; Erlang's cookie is an atom, at most 255 characters. */
  public static final int MAX_COOKIE_CHARS = 255;

  private Cookies() {}

  /** The default cookie file of the user running this JVM. */
  public static Path defaultFile() {
    String home = System.getenv("HOME");
    if (home == null || home.isEmpty()) {
      home = System.getProperty("user.home");
    }
    return Path.of(home, ".erlang.cookie");
  }

  /**
   * The cookie in {@code file}.
   *
   * @throws IOException when the file is missing, accessible by others, empty, or holds a
   *     cookie longer than {@link #MAX_COOKIE_CHARS}
   */
  public static String read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException("no cookie given and no cookie file " + file + "; pass one with EiNode.Builder.cookie()");
    }
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      Set<PosixFilePermission> others = EnumSet.of(PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_EXECUTE);
      perms.retainAll(others);
      if (!perms.isEmpty()) {
        throw new IOException("cookie file " + file + " must be accessible by its owner only, as Erlang requires");
      }
    } catch (UnsupportedOperationException notPosix) {
      // No POSIX permissions on this file system; Erlang does not check there either.
    }
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes(MAX_COOKIE_CHARS + 64);
    }
    int end = head.length;
    while (end > 0 && (head[end - 1] == '\n' || head[end - 1] == '\r')) {
      end--;
    }
    if (end == 0) {
      throw new IOException("cookie file " + file + " is empty");
    }
    if (end > MAX_COOKIE_CHARS) {
      throw new IOException("cookie file " + file + " holds more than " + MAX_COOKIE_CHARS + " characters");
    }
    for (int i = 0; i < end; i++) {
      if (head[i] < 32 || head[i] > 126) {
        throw new IOException("cookie file " + file + " has a character other than printable ASCII at offset " + i
            + "; Erlang refuses it too (\"Bad characters in cookie\")");
      }
    }
    return new String(head, 0, end, StandardCharsets.US_ASCII);
  }

  /**
   * The bytes the digest is computed over: the cookie's characters as Latin-1, as Erlang
   * hashes the characters of the cookie atom.
   *
   * @throws IllegalArgumentException for an empty cookie, one longer than 255 characters or
   *     with characters above U+00FF, which Erlang cannot hash either
   */
  public static byte[] digestBytes(String cookie) {
    if (cookie.isEmpty() || cookie.length() > MAX_COOKIE_CHARS) {
      throw new IllegalArgumentException("a cookie has 1 to " + MAX_COOKIE_CHARS + " characters, this one has " + cookie.length());
    }
    for (int i = 0; i < cookie.length(); i++) {
      if (cookie.charAt(i) > 0xff) {
        throw new IllegalArgumentException("a cookie may only hold Latin-1 characters (found one at index " + i + ")");
      }
    }
    return cookie.getBytes(StandardCharsets.ISO_8859_1);
  }
}
