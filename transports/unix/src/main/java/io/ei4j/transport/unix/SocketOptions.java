package io.ei4j.transport.unix;

import com.sun.jna.Memory;
import io.ei4j.api.ErrnoException;

/**
 * The {@code getsockopt(2)} and {@code getsockname(2)} queries the AF_UNIX transport makes
 * on a socket: peer credentials, the pending error of a connect, the bound address.
 */
final class SocketOptions {
  private SocketOptions() {}

  static PeerCredentials peerCredentials(UnixSocket ctx) throws ErrnoException {
    try (Memory cred = new Memory(LibC.UCRED_SIZE + 4)) {
      long address = LibC.address(cred);
      cred.setInt(LibC.UCRED_SIZE, LibC.UCRED_SIZE);
      if (LibC.getsockopt(ctx.fd(), LibC.SOL_SOCKET, LibC.SO_PEERCRED, address,
          address + LibC.UCRED_SIZE) != 0) {
        throw Errors.of(LibC.errno(), "getsockopt(SO_PEERCRED) on " + ctx);
      }
      return new PeerCredentials(cred.getInt(0), cred.getInt(4), cred.getInt(8));
    }
  }

  static int socketError(UnixSocket ctx) throws ErrnoException {
    try (Memory value = new Memory(8)) {
      long address = LibC.address(value);
      value.setInt(4, 4);
      if (LibC.getsockopt(ctx.fd(), LibC.SOL_SOCKET, LibC.SO_ERROR, address, address + 4) != 0) {
        throw Errors.of(LibC.errno(), "getsockopt(SO_ERROR)");
      }
      return value.getInt(0);
    }
  }

  static UnixSocketAddress localAddress(UnixSocket ctx) throws ErrnoException {
    try (Memory sa = new Memory(LibC.SOCKADDR_UN_SIZE + 4)) {
      long address = LibC.address(sa);
      sa.setInt(LibC.SOCKADDR_UN_SIZE, LibC.SOCKADDR_UN_SIZE);
      if (LibC.getsockname(ctx.fd(), address, address + LibC.SOCKADDR_UN_SIZE) != 0) {
        throw Errors.of(LibC.errno(), "getsockname");
      }
      return Sockaddrs.decode(sa, sa.getInt(LibC.SOCKADDR_UN_SIZE));
    }
  }
}
