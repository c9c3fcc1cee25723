package io.ei4j.transport.tcp;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Finds the native descriptor behind a JDK socket without reflection or
 * {@code --add-opens}, through Linux's {@code /proc}.
 *
 * <p>The kernel lists every TCP socket in {@code /proc/net/tcp} and {@code /proc/net/tcp6}
 * with its local and remote address and its inode; {@code /proc/self/fd/N} of this process
 * is a symbolic link to {@code socket:[INODE]}. A socket's addresses pick its inode (those
 * of other processes are filtered out because they are not among our descriptors), and the
 * inode picks the descriptor. The JDK never renumbers a socket's descriptor, so the result
 * is cached by the caller for the life of the socket.
 *
 * <p>Where {@code /proc} is missing (not Linux) or the socket cannot be found there, the
 * lookup fails with {@link Errno#ENOTSUP}.
 *
 * <p>Public for other transports that run over JDK TCP sockets and must answer
 * {@link io.ei4j.api.SocketCallbacks#fd} (the TLS transport, which is layered on TCP): it
 * needs nothing but the socket's addresses, so it works for any JDK TCP channel, not only
 * for {@link TcpSocket}s.
 */
public final class ProcFd {
  private static final Path SELF_FD = Paths.get("/proc/self/fd");
  private static final Path[] TABLES = {Paths.get("/proc/net/tcp"), Paths.get("/proc/net/tcp6")};
  private static final String LISTEN_STATE = "0A";

  private ProcFd() {}

  /**
   * The descriptor of the TCP socket bound to {@code local} and, unless it is a listening
   * socket ({@code remote == null}), connected to {@code remote}. Scans {@code /proc} on
   * every call: callers cache the result for the life of the socket.
   *
   * @param local the socket's local address, as its channel reports it; a wildcard
   *     address matches a listener bound to the wildcard of either IP version
   * @param remote the peer's address, or {@code null} for a listening socket
   * @return the descriptor number in this process
   * @throws ErrnoException {@link Errno#ENOTSUP} when there is no {@code /proc}, the kernel
   *     does not list such a socket, or it is not among this process's descriptors
   * @throws IOException when a socket table cannot be read
   */
  public static int find(InetSocketAddress local, InetSocketAddress remote) throws IOException {
    if (!Files.isDirectory(SELF_FD)) {
      throw new ErrnoException(Errno.ENOTSUP, "no /proc/self/fd on this system: the descriptor of a JDK socket cannot be found");
    }
    Set<Long> inodes = new HashSet<>();
    for (Path table : TABLES) {
      collect(table, local, remote, inodes);
    }
    if (inodes.isEmpty()) {
      throw new ErrnoException(Errno.ENOTSUP, "no socket " + local + (remote == null ? " (listening)" : " -> " + remote) + " in /proc/net/tcp*");
    }
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(SELF_FD)) {
      for (Path fd : fds) {
        String target;
        try {
          target = Files.readSymbolicLink(fd).toString();
        } catch (NoSuchFileException | UnsupportedOperationException closedMeanwhile) {
          continue;
        } catch (IOException unreadable) {
          continue;
        }
        if (target.startsWith("socket:[") && target.endsWith("]")) {
          long inode;
          try {
            inode = Long.parseLong(target.substring(8, target.length() - 1));
          } catch (NumberFormatException e) {
            continue;
          }
          if (inodes.contains(inode)) {
            return Integer.parseInt(fd.getFileName().toString());
          }
        }
      }
    }
    throw new ErrnoException(Errno.ENOTSUP, "socket " + local + " is listed by the kernel but not among this process's descriptors");
  }

  private static void collect(Path table, InetSocketAddress local, InetSocketAddress remote, Set<Long> out) throws IOException {
    if (!Files.isReadable(table)) {
      return;
    }
    try (BufferedReader r = Files.newBufferedReader(table, StandardCharsets.US_ASCII)) {
      String line = r.readLine(); // the column headings
      while ((line = r.readLine()) != null) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 10) {
          continue;
        }
        if (remote == null && !LISTEN_STATE.equals(f[3])) {
          continue;
        }
        if (!matches(f[1], local) || (remote != null && !matches(f[2], remote))) {
          continue;
        }
        try {
          long inode = Long.parseLong(f[9]);
          if (inode != 0) {
            out.add(inode);
          }
        } catch (NumberFormatException ignored) {
          // A malformed row is not ours.
        }
      }
    }
  }

  /** Whether a {@code /proc/net/tcp*} address column {@code HEXADDR:HEXPORT} is {@code want}. */
  static boolean matches(String column, InetSocketAddress want) {
    int colon = column.indexOf(':');
    if (colon < 0) {
      return false;
    }
    int port;
    try {
      port = Integer.parseInt(column.substring(colon + 1), 16);
    } catch (NumberFormatException e) {
      return false;
    }
    if (port != want.getPort()) {
      return false;
    }
    byte[] have = decodeAddress(column.substring(0, colon));
    if (have == null) {
      return false;
    }
    InetAddress addr = want.getAddress();
    byte[] wanted = addr == null ? new byte[16] : toV6(addr.getAddress());
    return isWildcard(have) && isWildcard(wanted) || java.util.Arrays.equals(have, wanted);
  }

  /**
   * Decodes the kernel's address column: 8 or 32 hex digits, each 32-bit word printed in
   * host byte order (little-endian on every machine this runs on). Returns 16 bytes,
   * IPv4 addresses as IPv4-mapped IPv6.
   */
  static byte[] decodeAddress(String hex) {
    if (hex.length() != 8 && hex.length() != 32) {
      return null;
    }
    boolean little = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;
    byte[] raw = new byte[hex.length() / 2];
    for (int word = 0; word < raw.length / 4; word++) {
      for (int i = 0; i < 4; i++) {
        int at = word * 8 + i * 2;
        int b;
        try {
          b = Integer.parseInt(hex.substring(at, at + 2).toLowerCase(Locale.ROOT), 16);
        } catch (NumberFormatException e) {
          return null;
        }
        raw[word * 4 + (little ? 3 - i : i)] = (byte) b;
      }
    }
    return toV6(raw);
  }

  private static byte[] toV6(byte[] a) {
    if (a.length == 16) {
      return a;
    }
    byte[] v6 = new byte[16];
    v6[10] = (byte) 0xff;
    v6[11] = (byte) 0xff;
    System.arraycopy(a, 0, v6, 12, 4);
    return v6;
  }

  private static boolean isWildcard(byte[] v6) {
    boolean zero = true;
    for (byte b : v6) {
      zero &= b == 0;
    }
    if (zero) {
      return true;
    }
    for (int i = 0; i < 10; i++) {
      if (v6[i] != 0) {
        return false;
      }
    }
    return (v6[10] & 0xff) == 0xff && (v6[11] & 0xff) == 0xff && v6[12] == 0 && v6[13] == 0 && v6[14] == 0 && v6[15] == 0;
  }
}
