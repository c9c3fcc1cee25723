package io.ei4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.ProtocolException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.ConnectionPendingException;
import java.nio.channels.InterruptedByTimeoutException;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.stream.Stream;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Every row of the JDK-exception-to-errno table, one case each. */
class JdkErrnosTest {

  static Stream<Arguments> table() {
    return Stream.of(
        // types that name one errno
        Arguments.of(new ClosedChannelException(), Errno.EBADF),
        Arguments.of(new AsynchronousCloseException(), Errno.EBADF),
        Arguments.of(new ClosedByInterruptException(), Errno.EBADF),
        Arguments.of(new ClosedSelectorException(), Errno.EBADF),
        Arguments.of(new SocketTimeoutException("Read timed out"), Errno.ETIMEDOUT),
        Arguments.of(new InterruptedByTimeoutException(), Errno.ETIMEDOUT),
        Arguments.of(new SSLHandshakeException("certificate expired"), Errno.EPROTO),
        Arguments.of(new ProtocolException("Protocol error"), Errno.EPROTO),
        Arguments.of(new PortUnreachableException("ICMP Port Unreachable"), Errno.ECONNREFUSED),
        Arguments.of(new NoRouteToHostException("No route to host"), Errno.EHOSTUNREACH),
        Arguments.of(new NoRouteToHostException(), Errno.EHOSTUNREACH),
        Arguments.of(new UnresolvedAddressException(), Errno.EHOSTUNREACH),
        Arguments.of(new UnsupportedAddressTypeException(), Errno.EAFNOSUPPORT),
        Arguments.of(new AlreadyConnectedException(), Errno.EISCONN),
        Arguments.of(new ConnectionPendingException(), Errno.EALREADY),
        Arguments.of(new NotYetConnectedException(), Errno.ENOTCONN),
        Arguments.of(new AlreadyBoundException(), Errno.EINVAL),
        Arguments.of(new NotYetBoundException(), Errno.EINVAL),
        // strerror() texts, as the JDK puts them in plain SocketExceptions
        Arguments.of(new SocketException("Connection refused"), Errno.ECONNREFUSED),
        Arguments.of(new SocketException("Connection reset by peer"), Errno.ECONNRESET),
        Arguments.of(new SocketException("Connection reset"), Errno.ECONNRESET),
        Arguments.of(new IOException("Broken pipe"), Errno.EPIPE),
        Arguments.of(new SocketException("Connection timed out"), Errno.ETIMEDOUT),
        Arguments.of(new SocketException("Address already in use"), Errno.EADDRINUSE),
        Arguments.of(new SocketException("Cannot assign requested address"), Errno.EADDRNOTAVAIL),
        Arguments.of(new SocketException("Permission denied"), Errno.EACCES),
        Arguments.of(new SocketException("Network is unreachable"), Errno.ENETUNREACH),
        Arguments.of(new SocketException("Host is unreachable"), Errno.EHOSTUNREACH),
        Arguments.of(new SocketException("Software caused connection abort"), Errno.ECONNABORTED),
        Arguments.of(new SocketException("Address family not supported by protocol"), Errno.EAFNOSUPPORT),
        Arguments.of(new SocketException("Protocol family unavailable"), Errno.EAFNOSUPPORT),
        Arguments.of(new SocketException("Too many open files"), Errno.EMFILE),
        Arguments.of(new SocketException("Transport endpoint is not connected"), Errno.ENOTCONN),
        Arguments.of(new SocketException("Socket closed"), Errno.EBADF),
        // the text decides within a type that stands for several errnos
        Arguments.of(new ConnectException("Connection refused"), Errno.ECONNREFUSED),
        Arguments.of(new ConnectException("Connection timed out"), Errno.ETIMEDOUT),
        Arguments.of(new ConnectException("Transport endpoint is not connected"), Errno.ENOTCONN),
        Arguments.of(new BindException("Address already in use"), Errno.EADDRINUSE),
        Arguments.of(new BindException("Cannot assign requested address"), Errno.EADDRNOTAVAIL),
        Arguments.of(new BindException("Permission denied"), Errno.EACCES),
        // the type's most likely errno when the text says nothing known
        Arguments.of(new ConnectException(), Errno.ECONNREFUSED),
        Arguments.of(new BindException(), Errno.EADDRINUSE),
        // nothing known at all
        Arguments.of(new IOException("something odd"), Errno.EIO),
        Arguments.of(new IOException(), Errno.EIO),
        Arguments.of(new IllegalStateException("bug"), Errno.EIO));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("table")
  void mapsEachException(Throwable t, Errno expected) {
    assertEquals(expected, JdkErrnos.errnoOf(t));
    ErrnoException e = JdkErrnos.translate(t, "connect to peer");
    assertEquals(expected, e.errno());
    assertSame(t, e.getCause());
    assertTrue(e.getMessage().startsWith(expected.name() + ": connect to peer: "), e.getMessage());
  }

  @Test
  void anErrnoExceptionKeepsItsErrnoAndIdentity() {
    ErrnoException original = new ErrnoException(Errno.EMSGSIZE, "too big");
    assertEquals(Errno.EMSGSIZE, JdkErrnos.errnoOf(original));
    assertSame(original, JdkErrnos.translate(original, "write"));
  }
}
