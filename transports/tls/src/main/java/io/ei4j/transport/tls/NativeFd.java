package io.ei4j.transport.tls;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.transport.tcp.ProcFd;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.nio.channels.NetworkChannel;

/**
 * Finds the native descriptor behind a NIO socket channel, which the JDK does not expose.
 *
 * <p>Two ways, tried in order:
 * <ol>
 *   <li>When the application opened {@code java.base/sun.nio.ch} to this module
 *       ({@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED} on the class path,
 *       {@code =io.ei4j.transport.tls} on the module path), the channel's own
 *       {@code getFDVal()}.</li>
 *   <li>On Linux, the kernel's socket tables, through the TCP transport's
 *       {@link ProcFd}: the socket's inode is looked up in {@code /proc/net/tcp} and
 *       {@code /proc/net/tcp6} by its local and remote address (state LISTEN for a
 *       listening socket), then found among the links in {@code /proc/self/fd}.</li>
 * </ol>
 * Otherwise the descriptor is reported as {@link Errno#ENOTSUP}, which the TLS transport may
 * do because it sets {@code FULL_IMPL} and core never waits on it.
 */
final class NativeFd {
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
    try {
      return ProcFd.find(local, remote);
    } catch (IOException e) {
      throw new ErrnoException(Errno.ENOTSUP, "the descriptor of " + local
          + " cannot be found (needs Linux /proc or --add-opens java.base/sun.nio.ch=ALL-UNNAMED, "
          + "or =io.ei4j.transport.tls on the module path): " + e.getMessage(), e);
    }
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
}
