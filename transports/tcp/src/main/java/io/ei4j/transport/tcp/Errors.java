package io.ei4j.transport.tcp;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.ConnectionPendingException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.Locale;

/**
 * The one place where the JDK's socket exceptions become named POSIX errors.
 *
 * <p>The JDK throws plain {@link IOException}s whose message is the C library's
 * {@code strerror()} text; the typed subclasses ({@link ConnectException} and friends)
 * cover only a few cases. Both are mapped here, so that core and users see the same errno
 * ei's default TCP callbacks would have returned.
 */
final class Errors {
  private Errors() {}

  static ErrnoException translate(Throwable t, String what) {
    if (t instanceof ErrnoException e) {
      return e;
    }
    return new ErrnoException(errnoOf(t), what + ": " + t.getMessage(), t);
  }

  static Errno errnoOf(Throwable t) {
    if (t instanceof ClosedChannelException || t instanceof ClosedSelectorException) {
      return Errno.EBADF;
    }
    if (t instanceof SocketTimeoutException) {
      return Errno.ETIMEDOUT;
    }
    if (t instanceof UnresolvedAddressException) {
      return Errno.EHOSTUNREACH;
    }
    if (t instanceof UnsupportedAddressTypeException) {
      return Errno.EAFNOSUPPORT;
    }
    if (t instanceof AlreadyConnectedException) {
      return Errno.EISCONN;
    }
    if (t instanceof ConnectionPendingException) {
      return Errno.EALREADY;
    }
    if (t instanceof NotYetConnectedException) {
      return Errno.ENOTCONN;
    }
    String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
    if (m.contains("refused")) {
      return Errno.ECONNREFUSED;
    }
    if (m.contains("reset")) {
      return Errno.ECONNRESET;
    }
    if (m.contains("broken pipe")) {
      return Errno.EPIPE;
    }
    if (m.contains("timed out")) {
      return Errno.ETIMEDOUT;
    }
    if (m.contains("address already in use")) {
      return Errno.EADDRINUSE;
    }
    if (m.contains("cannot assign requested address")) {
      return Errno.EADDRNOTAVAIL;
    }
    if (m.contains("network is unreachable")) {
      return Errno.ENETUNREACH;
    }
    if (m.contains("no route to host") || t instanceof NoRouteToHostException) {
      return Errno.EHOSTUNREACH;
    }
    if (m.contains("address family not supported") || m.contains("protocol family unavailable")) {
      return Errno.EAFNOSUPPORT;
    }
    if (m.contains("too many open files")) {
      return Errno.EMFILE;
    }
    if (t instanceof ConnectException) {
      return Errno.ECONNREFUSED;
    }
    if (t instanceof BindException) {
      return Errno.EADDRINUSE;
    }
    if (t instanceof PortUnreachableException) {
      return Errno.ECONNREFUSED;
    }
    return Errno.EIO;
  }
}
