package io.ei4j.transport.unix;

import com.sun.jna.Memory;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;

/**
 * The {@code struct sockaddr_un} codec: {@link UnixSocketAddress} to native memory the
 * kernel reads, native memory the kernel wrote back to an address, and the conversion of
 * the address types callers may hand in.
 */
final class Sockaddrs {
  private Sockaddrs() {}

  /** Decodes a {@code sockaddr_un} of {@code length} bytes (the kernel's {@code addrlen}). */
  static UnixSocketAddress decode(Memory sa, int length) {
    int pathLength = Math.min(length, LibC.SOCKADDR_UN_SIZE) - LibC.SUN_PATH_OFFSET;
    if (pathLength <= 0) {
      return UnixSocketAddress.unnamed();
    }
    return UnixSocketAddress.fromSunPath(sa.getByteArray(LibC.SUN_PATH_OFFSET, pathLength), pathLength);
  }

  /** A zeroed {@code sockaddr_un} holding {@code address}; the caller closes it. */
  static Memory sockaddr(UnixSocketAddress address) {
    Memory sa = new Memory(LibC.SOCKADDR_UN_SIZE);
    sa.clear();
    sa.setShort(0, (short) LibC.AF_UNIX);
    byte[] path = address.sunPathBytes();
    sa.write(LibC.SUN_PATH_OFFSET, path, 0, path.length);
    return sa;
  }

  static UnixSocketAddress toUnix(SocketAddress address) {
    if (address instanceof UnixSocketAddress u) {
      return u;
    }
    if (address instanceof UnixDomainSocketAddress u) {
      return UnixSocketAddress.of(u);
    }
    throw new IllegalArgumentException("the AF_UNIX transport needs a UnixSocketAddress or a "
        + "UnixDomainSocketAddress, not " + (address == null ? "null" : address.getClass().getName()));
  }
}
