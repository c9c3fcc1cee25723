package io.ei4j.transport.tls;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import java.io.BufferedReader;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.nio.channels.NetworkChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the native descriptor behind a NIO socket channel, which the JDK does not expose.
 *
 * <p>Two ways, tried in order:
 * <ol>
 *   <li>When the application opened {@code java.base/sun.nio.ch} to this module
 *       ({@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED}), the channel's own
 *       {@code getFDVal()}.</li>
 *   <li>On Linux, the kernel's socket tables: the socket's inode is looked up in
 *       {@code /proc/net/tcp} and {@code /proc/net/tcp6} by its local and remote address
 *       (state LISTEN for a listening socket), then found among the links in
 *       {@code /proc/self/fd}.</li>
 * </ol>
 * Otherwise the descriptor is reported as {@link Errno#ENOTSUP}, which the TLS transport may
 * do because it sets {@code FULL_IMPL} and core never waits on it.
 */
final class NativeFd {
  private static final int TCP_LISTEN = 0x0A;

  private NativeFd() {}

  static int of(NetworkChannel channel, boolean listening) throws IOException {
    Integer fd = viaReflection(channel);
    if (fd != null) {
      return fd;
    }
    InetSocketAddress local = (InetSocketAddress) channel.getLocalAddress();
    InetSocketAddress remote = listening ? null
        : (InetSocketAddress) ((java.nio.channels.SocketChannel) channel).getRemoteAddress();
    if (local == null) {
      throw new ErrnoException(Errno.ENOTCONN, "the socket is not bound yet, it has no descriptor");
    }
    long inode = findInode(local, remote);
    if (inode > 0) {
      int found = findFd(inode);
      if (found >= 0) {
        return found;
      }
    }
    throw new ErrnoException(Errno.ENOTSUP, "the descriptor of " + local
        + " cannot be found (needs Linux /proc or --add-opens java.base/sun.nio.ch=ALL-UNNAMED)");
  }

  private static Integer viaReflection(NetworkChannel channel) {
    Module base = Object.class.getModule();
    if (!base.isOpen("sun.nio.ch", NativeFd.class.getModule())) {
      return null;
    }
    try {
      Method m = channel.getClass().getMethod("getFDVal");
      m.setAccessible(true);
      return (Integer) m.invoke(channel);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  private static long findInode(InetSocketAddress local, InetSocketAddress remote) {
    for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
      Path path = Path.of(table);
      if (!Files.isReadable(path)) {
        continue;
      }
      try (BufferedReader reader = Files.newBufferedReader(path, StandardCharsets.US_ASCII)) {
        reader.readLine(); // the header
        String line;
        while ((line = reader.readLine()) != null) {
          long inode = match(line.trim().split("\\s+"), local, remote);
          if (inode > 0) {
            return inode;
          }
        }
      } catch (IOException | RuntimeException e) {
        // an unreadable or unexpected table: try the next one
      }
    }
    return -1;
  }

  /**
   * One row: {@code sl local_address rem_address st ... uid timeout inode}, addresses as
   * hex words in host byte order, then {@code :PORT} in hex.
   */
  private static long match(String[] f, InetSocketAddress local, InetSocketAddress remote) throws IOException {
    if (f.length < 10) {
      return -1;
    }
    int state = Integer.parseInt(f[3], 16);
    if (remote == null ? state != TCP_LISTEN : state == TCP_LISTEN) {
      return -1;
    }
    if (!sameEndpoint(f[1], local, true)) {
      return -1;
    }
    if (remote != null && !sameEndpoint(f[2], remote, false)) {
      return -1;
    }
    return Long.parseLong(f[9]);
  }

  private static boolean sameEndpoint(String hex, InetSocketAddress want, boolean wildcardOk) throws IOException {
    int colon = hex.indexOf(':');
    int port = Integer.parseInt(hex.substring(colon + 1), 16);
    if (port != want.getPort()) {
      return false;
    }
    InetAddress address = decode(hex.substring(0, colon));
    InetAddress wanted = want.getAddress();
    if (wildcardOk && address.isAnyLocalAddress() && wanted.isAnyLocalAddress()) {
      return true;
    }
    return address.equals(wanted);
  }

  private static InetAddress decode(String hex) throws IOException {
    int words = hex.length() / 8;
    byte[] bytes = new byte[words * 4];
    boolean little = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    for (int w = 0; w < words; w++) {
      int v = (int) Long.parseLong(hex.substring(w * 8, w * 8 + 8), 16);
      if (little) {
        v = Integer.reverseBytes(v);
      }
      bytes[w * 4] = (byte) (v >>> 24);
      bytes[w * 4 + 1] = (byte) (v >>> 16);
      bytes[w * 4 + 2] = (byte) (v >>> 8);
      bytes[w * 4 + 3] = (byte) v;
    }
    return InetAddress.getByAddress(bytes); // an IPv4-mapped IPv6 address becomes IPv4
  }

  private static int findFd(long inode) {
    String target = "socket:[" + inode + "]";
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path p : fds) {
        try {
          if (target.equals(Files.readSymbolicLink(p).toString())) {
            return Integer.parseInt(p.getFileName().toString());
          }
        } catch (IOException | NumberFormatException e) {
          // a descriptor closed while we looked: not ours
        }
      }
    } catch (IOException e) {
      return -1;
    }
    return -1;
  }
}
