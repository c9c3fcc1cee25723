package io.ei4j.internal.dist;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.EnumSet;
import java.util.Set;

/**
 * Reads the default cookie, {@code ~/.erlang.cookie}, the way an Erlang node does
 * ({@code auth}): the file must exist and be accessible by its owner only; the cookie is
 * its content without the trailing line breaks, and must be printable ASCII (space to
 * {@code ~}), else Erlang refuses it with "Bad characters in cookie" and so does this
 * class. The cookie is never part of a message.
 *
 * <p>It also creates a missing cookie file as {@code erl} would (20 random upper-case
 * letters, mode 0400), but never readable by anyone else, not even for an instant; see
 * {@link #createIfMissing(Path)}.
 */
public final class Cookies {
  /** Longest cookie accepted; Erlang's cookie is an atom, at most 255 characters. */
  public static final int MAX_COOKIE_CHARS = 255;

  /** Length of a generated cookie, as {@code erl} makes them. */
  static final int GENERATED_LENGTH = 20;

  /** The only mode a cookie file is ever created with: read-only for its owner. */
  private static final Set<PosixFilePermission> OWNER_READ_ONLY =
      EnumSet.of(PosixFilePermission.OWNER_READ);

  private static final SecureRandom RANDOM = new SecureRandom();

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
   * Creates {@code file} with a fresh random cookie (20 letters A..Z from
   * {@link SecureRandom}) unless it exists; an existing file, also one another process
   * creates meanwhile, is left alone.
   *
   * <p>{@code erl} writes the file with the process's umask and only then makes it 0400,
   * so for a moment it is as readable as the umask allows (0666 under umask 000). Here
   * the cookie is written to a temporary file in the same directory that is created with
   * mode 0400 by the {@code open} call itself (a umask can only remove bits), and that file
   * is then hard-linked to {@code file}. The link either fails because {@code file}
   * exists or makes the whole cookie appear at once: no reader ever sees the name with
   * other permissions or with partial content. Where hard links are not supported, the
   * temporary file is renamed instead ({@code file} is checked first, so only a creation
   * by another process in that instant would be replaced, by an equally valid cookie).
   * On a file system without POSIX permissions the file is created plainly, as Erlang
   * does there.
   *
   * @return whether this call created the file
   * @throws IOException when the file cannot be created; the message never holds the cookie
   */
  public static boolean createIfMissing(Path file) throws IOException {
    if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    byte[] cookie = new byte[GENERATED_LENGTH];
    for (int i = 0; i < cookie.length; i++) {
      cookie[i] = (byte) ('A' + RANDOM.nextInt(26));
    }
    Path dir = file.toAbsolutePath().getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      throw new IOException("cannot create cookie file " + file + ": directory " + dir + " does not exist");
    }
    FileAttribute<Set<PosixFilePermission>> ownerOnly =
        PosixFilePermissions.asFileAttribute(OWNER_READ_ONLY);
    boolean posix = Files.getFileStore(dir).supportsFileAttributeView("posix");
    if (!posix) {
      try {
        Files.write(file, cookie, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        return true;
      } catch (FileAlreadyExistsException raced) {
        return false;
      }
    }
    Path tmp = dir.resolve("." + file.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
    try {
      try (SeekableByteChannel ch = Files.newByteChannel(tmp,
          EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), ownerOnly)) {
        ByteBuffer b = ByteBuffer.wrap(cookie);
        while (b.hasRemaining()) {
          ch.write(b);
        }
      }
      try {
        Files.createLink(file, tmp);
      } catch (FileAlreadyExistsException raced) {
        return false;
      } catch (UnsupportedOperationException | IOException noHardLinks) {
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
          return false;
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      }
      return true;
    } finally {
      Files.deleteIfExists(tmp);
    }
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
