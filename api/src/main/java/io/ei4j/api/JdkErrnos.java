package io.ei4j.api;

import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.ProtocolException;
import java.net.SocketTimeoutException;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.ConnectionPendingException;
import java.nio.channels.InterruptedByTimeoutException;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * The one table that turns the JDK's socket exceptions into the {@link Errno} ei's own TCP
 * callbacks would have returned, shared by every transport built on {@code java.nio}.
 *
 * <p>The JDK reports most socket failures as a plain {@link java.net.SocketException} whose
 * message is the C library's {@code strerror()} text, and a few as typed subclasses that
 * each stand for several errnos: {@link ConnectException} for {@code ECONNREFUSED},
 * {@code ETIMEDOUT} and {@code ENOTCONN}, {@link BindException} for {@code EADDRINUSE},
 * {@code EADDRNOTAVAIL} and {@code EACCES}. So the table looks at the types that name one
 * errno exactly first, then at the {@code strerror()} text, and falls back to the type's
 * most likely errno last. What it cannot name is {@link Errno#EIO}, as ei reports an error
 * without a code.
 *
 * <p>Choices where a type could mean more than one thing, with the reason:
 * <ul>
 *   <li>{@link PortUnreachableException}: {@link Errno#ECONNREFUSED}. The JDK throws it
 *       exactly when the kernel returns {@code ECONNREFUSED} on a connected datagram socket
 *       (an ICMP port-unreachable), so that is the errno C code sees.
 *   <li>{@link NoRouteToHostException}: {@link Errno#EHOSTUNREACH}, the errno the JDK makes
 *       it from.
 *   <li>{@link SSLException}: {@link Errno#EPROTO}, as a failed TLS handshake or record is
 *       a protocol failure of the peer or of the configuration, not an I/O error.
 *   <li>Any {@link ClosedChannelException} (including an asynchronous close or an interrupt
 *       that closed the channel) and {@link ClosedSelectorException}: {@link Errno#EBADF},
 *       the errno of a call on a descriptor that has been closed.
 * </ul>
 */
public final class JdkErrnos {
  private JdkErrnos() {}

  /**
   * {@code t} itself when it already is an {@link ErrnoException}, else a new one with
   * {@link #errnoOf errnoOf(t)}, the message {@code what + ": " + t.getMessage()} and
   * {@code t} as its cause.
   *
   * @param what the operation and peer, e.g. {@code "connect to host:4369"}
   */
  public static ErrnoException translate(Throwable t, String what) {
    if (t instanceof ErrnoException e) {
      return e;
    }
    return new ErrnoException(errnoOf(t), what + ": " + t.getMessage(), t);
  }

  /** The errno for a JDK exception; see the class comment for the order of the checks. */
  public static Errno errnoOf(Throwable t) {
    if (t instanceof ErrnoException e) {
      return e.errno();
    }
    Errno exact = exactType(t);
    if (exact != null) {
      return exact;
    }
    Errno byText = byMessage(t.getMessage());
    if (byText != null) {
      return byText;
    }
    if (t instanceof ConnectException) {
      return Errno.ECONNREFUSED;
    }
    if (t instanceof BindException) {
      return Errno.EADDRINUSE;
    }
    return Errno.EIO;
  }

  private static Errno exactType(Throwable t) {
    if (t instanceof ClosedChannelException || t instanceof ClosedSelectorException) {
      return Errno.EBADF;
    }
    if (t instanceof SocketTimeoutException || t instanceof InterruptedByTimeoutException) {
      return Errno.ETIMEDOUT;
    }
    if (t instanceof SSLException || t instanceof ProtocolException) {
      return Errno.EPROTO;
    }
    if (t instanceof PortUnreachableException) {
      return Errno.ECONNREFUSED;
    }
    if (t instanceof NoRouteToHostException) {
      return Errno.EHOSTUNREACH;
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
    if (t instanceof AlreadyBoundException) {
      return Errno.EINVAL;
    }
    if (t instanceof NotYetBoundException) {
      return Errno.EINVAL;
    }
    return null;
  }

  /** The errno whose Linux {@code strerror()} text (or the JDK's own wording) is in {@code message}. */
  private static Errno byMessage(String message) {
    if (message == null) {
      return null;
    }
    String m = message.toLowerCase(Locale.ROOT);
    if (m.contains("connection refused")) {
      return Errno.ECONNREFUSED;
    }
    if (m.contains("connection reset")) {
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
    if (m.contains("permission denied")) {
      return Errno.EACCES;
    }
    if (m.contains("network is unreachable")) {
      return Errno.ENETUNREACH;
    }
    if (m.contains("no route to host") || m.contains("host is unreachable")) {
      return Errno.EHOSTUNREACH;
    }
    if (m.contains("software caused connection abort") || m.contains("connection aborted")) {
      return Errno.ECONNABORTED;
    }
    if (m.contains("address family not supported") || m.contains("protocol family unavailable")) {
      return Errno.EAFNOSUPPORT;
    }
    if (m.contains("too many open files")) {
      return Errno.EMFILE;
    }
    if (m.contains("transport endpoint is not connected")) {
      return Errno.ENOTCONN;
    }
    if (m.equals("socket closed") || m.equals("socket is closed")) {
      return Errno.EBADF;
    }
    return null;
  }
}
