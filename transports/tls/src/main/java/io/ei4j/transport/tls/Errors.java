package io.ei4j.transport.tls;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLException;

/** Turns the JDK's and BCJSSE's exceptions into the {@link ErrnoException}s core expects, in one place. */
final class Errors {
  private Errors() {}

  static ErrnoException closed(String what) {
    return new ErrnoException(Errno.EBADF, what + ": the socket is closed");
  }

  static ErrnoException timeout(String what) {
    return new ErrnoException(Errno.ETIMEDOUT, what + " timed out");
  }

  /**
   * The errno for an I/O failure during {@code what} (a phrase naming the operation and
   * peer); TLS failures become {@link Errno#EPROTO} with the whole cause chain in the
   * message, so that "certificate expired" or "no subject alternative name" reaches the user.
   */
  static ErrnoException map(IOException e, String what) {
    if (e instanceof ErrnoException errno) {
      return errno;
    }
    if (e instanceof ClosedChannelException || e instanceof AsynchronousCloseException) {
      return new ErrnoException(Errno.EBADF, what + ": the socket is closed", e);
    }
    if (e instanceof SSLException) {
      return new ErrnoException(Errno.EPROTO, what + ": " + reasons(e), e);
    }
    if (e instanceof SocketTimeoutException) {
      return new ErrnoException(Errno.ETIMEDOUT, what + " timed out", e);
    }
    if (e instanceof ConnectException) {
      return new ErrnoException(Errno.ECONNREFUSED, what + ": " + e.getMessage(), e);
    }
    if (e instanceof NoRouteToHostException || e instanceof PortUnreachableException) {
      return new ErrnoException(Errno.EHOSTUNREACH, what + ": " + e.getMessage(), e);
    }
    String message = String.valueOf(e.getMessage());
    String lower = message.toLowerCase(Locale.ROOT);
    Errno errno;
    if (e instanceof BindException) {
      errno = lower.contains("in use") ? Errno.EADDRINUSE
          : lower.contains("assign") ? Errno.EADDRNOTAVAIL
          : lower.contains("permission") ? Errno.EACCES : Errno.EADDRNOTAVAIL;
    } else if (lower.contains("reset")) {
      errno = Errno.ECONNRESET;
    } else if (lower.contains("broken pipe")) {
      errno = Errno.EPIPE;
    } else if (lower.contains("refused")) {
      errno = Errno.ECONNREFUSED;
    } else if (lower.contains("unreachable")) {
      errno = Errno.EHOSTUNREACH;
    } else {
      errno = Errno.EIO;
    }
    return new ErrnoException(errno, what + ": " + message, e);
  }

  /**
   * The distinct messages along a cause chain, outermost first, joined by ": ", with
   * BouncyCastle's class-name prefixes replaced by words: "we sent alert
   * certificate_unknown(46): No subject alternative name found matching domain name localhost",
   * "the peer sent alert certificate_required(116)".
   */
  static String reasons(Throwable t) {
    Set<String> parts = new LinkedHashSet<>();
    for (Throwable c = t; c != null && parts.size() < 8; c = c.getCause()) {
      String m = describe(c);
      boolean redundant = false;
      for (String p : parts) {
        if (p.contains(m)) {
          redundant = true;
          break;
        }
      }
      if (!redundant) {
        parts.add(m);
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return String.join(": ", parts);
  }

  private static String describe(Throwable c) {
    String m = c.getMessage();
    if (m == null || m.isBlank()) {
      return c.getClass().getSimpleName();
    }
    m = m.replace("org.bouncycastle.tls.TlsFatalAlertReceived: ", "the peer sent alert ")
        .replace("org.bouncycastle.tls.TlsFatalAlert: ", "we sent alert ");
    String simple = c.getClass().getSimpleName();
    if (simple.equals("TlsFatalAlertReceived") && !m.startsWith("the peer")) {
      return "the peer sent alert " + m;
    }
    if (simple.equals("TlsFatalAlert") && !m.startsWith("we sent")) {
      return "we sent alert " + m;
    }
    return m;
  }
}
