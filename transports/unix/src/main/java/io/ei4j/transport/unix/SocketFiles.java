package io.ei4j.transport.unix;

import com.sun.jna.Memory;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Everything the AF_UNIX transport does with socket files: the safety of the directory
 * they live in, their permissions from the moment they exist, recovery of a stale file a
 * crashed node left behind, and removal of our own file on close.
 *
 * <h2>Directory</h2>
 * Another user who can write to the directory can replace a node's socket file or listen
 * under a name before the node does, and so receive a handshake meant for someone else.
 * {@link #checkDirectory} refuses a directory that group or others may write unless it has
 * the sticky bit (which stops them from removing or renaming files they do not own), and
 * logs a warning once per directory for a sticky shared one such as {@code /tmp}: there
 * another user can still take a name that is not yet in use, which the peer-uid check
 * ({@link UnixTransport.Builder#allowUid}) is what catches.
 *
 * <h2>Permissions</h2>
 * {@link #restrictBeforeBind} gives the unbound socket the file mode wanted: Linux creates
 * the file {@code bind} makes with the socket's mode less the umask, so the file is never
 * visible with wider permissions, whatever the umask.
 */
final class SocketFiles {
  private static final System.Logger LOG = System.getLogger(SocketFiles.class.getName());
  private static final int S_IFMT = 0xF000;
  private static final int S_IFSOCK = 0xC000;
  private static final int S_ISVTX = 01000;
  private static final int GROUP_OR_OTHER_WRITE = 0022;
  private static final Set<Path> WARNED = ConcurrentHashMap.newKeySet();

  private SocketFiles() {}

  /**
   * Refuses, or warns about, a directory that other users may write to; see the class
   * comment. A directory that does not exist is left to {@code bind} or {@code connect}
   * to report.
   *
   * @param file the socket file whose directory is checked
   * @param operation what is being done, for the message
   * @throws InsecureSocketDirectoryException for a group- or world-writable directory
   *     without the sticky bit
   */
  static void checkDirectory(Path file, String operation) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (dir == null) {
      return;
    }
    int mode;
    try {
      mode = (Integer) Files.getAttribute(dir, "unix:mode");
    } catch (NoSuchFileException e) {
      return;
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      return; // not a POSIX file system: nothing to check
    }
    if ((mode & GROUP_OR_OTHER_WRITE) == 0) {
      return;
    }
    String octal = String.format("%04o", mode & 07777);
    if ((mode & S_ISVTX) == 0) {
      throw new InsecureSocketDirectoryException(operation + ": the socket directory " + dir
          + " (mode " + octal + ") is writable by " + writers(mode) + " and has no sticky bit,"
          + " so another user could replace the socket file or listen under this name;"
          + " use a directory only this user can write to (e.g. mode 0700)");
    }
    if (WARNED.add(dir)) {
      LOG.log(System.Logger.Level.WARNING, "the AF_UNIX socket directory {0} (mode {1}) is"
          + " shared with {2}: another user can listen under a node name not yet in use;"
          + " only the peer-uid check stops a connection to it. Prefer a private directory.",
          dir, octal, writers(mode));
    }
  }

  private static String writers(int mode) {
    boolean group = (mode & 0020) != 0;
    boolean other = (mode & 0002) != 0;
    return group && other ? "group and others" : group ? "its group" : "every user";
  }

  /**
   * Gives the unbound socket {@code fd} the mode of {@code permissions}, so that the file
   * {@code bind} creates has no more than these from the start.
   */
  static void restrictBeforeBind(int fd, Set<PosixFilePermission> permissions, String operation)
      throws ErrnoException {
    if (LibC.fchmod(fd, modeOf(permissions)) != 0) {
      throw Errors.of(LibC.errno(), operation + ": fchmod of the socket before bind");
    }
  }

  /** The {@code st_mode} permission bits of {@code permissions}. */
  static int modeOf(Set<PosixFilePermission> permissions) {
    int mode = 0;
    for (PosixFilePermission p : permissions) {
      mode |= 1 << (8 - p.ordinal());
    }
    return mode;
  }

  /**
   * Handles {@code EADDRINUSE} on a socket file as {@code erl_uds_dist} does: a live
   * listener means a duplicate name; a socket file nobody answers on is stale and deleted.
   */
  static void removeStale(UnixSocketAddress target) throws IOException {
    Path file = target.path().orElseThrow();
    Object keyBefore;
    try {
      int mode = (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      if ((mode & S_IFMT) != S_IFSOCK) {
        throw new ErrnoException(Errno.EADDRINUSE, "listen on " + target
            + ": the path exists and is not a socket; it is left alone");
      }
      keyBefore = fileKey(file);
    } catch (NoSuchFileException e) {
      return; // gone meanwhile: bind again
    }
    int probe = LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0);
    if (probe < 0) {
      throw Errors.of(LibC.errno(), "socket(AF_UNIX, SOCK_STREAM)");
    }
    int err;
    try (Memory sa = Sockaddrs.sockaddr(target)) {
      int rc;
      do {
        rc = LibC.connect(probe, LibC.address(sa), target.sockaddrLength());
        err = rc == 0 ? 0 : LibC.errno();
      } while (err == LibC.EINTR);
    } finally {
      LibC.close(probe);
    }
    if (err == 0 || err == LibC.EAGAIN || err == LibC.EINPROGRESS) {
      throw new ErrnoException(Errno.EADDRINUSE, "listen on " + target
          + ": a live socket already listens there (duplicate node name)");
    }
    if (err == LibC.ENOENT) {
      return;
    }
    if (err != LibC.ECONNREFUSED) {
      throw Errors.of(err, "listen on " + target + ": checking whether the existing socket is live");
    }
    try {
      if (!Objects.equals(keyBefore, fileKey(file))) {
        return; // replaced meanwhile: look again
      }
      Files.deleteIfExists(file);
    } catch (NoSuchFileException e) {
      // gone meanwhile: bind again
    } catch (IOException e) {
      throw new ErrnoException(Errno.EACCES, "listen on " + target
          + ": cannot remove the stale socket file", e);
    }
  }

  static Object fileKey(Path file) throws IOException {
    return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
  }

  static void removeIfUnchanged(Path file, Object fileKey) throws IOException {
    try {
      if (fileKey == null || fileKey.equals(fileKey(file))) {
        Files.deleteIfExists(file);
      }
    } catch (NoSuchFileException e) {
      // already gone
    }
  }

  static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // the listen failure is what the caller needs to see
    }
  }
}
