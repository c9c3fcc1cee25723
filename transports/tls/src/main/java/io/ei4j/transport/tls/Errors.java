package io.ei4j.transport.tls;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.JdkErrnos;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.LinkedHashSet;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;

/**
 * Turns the JDK's and BCJSSE's exceptions into the {@link ErrnoException}s core expects: the
 * errno comes from the table all NIO transports share ({@link JdkErrnos}); this class adds
 * the TLS wording of the message (the whole cause chain of a TLS failure, so that
 * "certificate expired" or "no subject alternative name" reaches the user), and the
 * explanations a bare alert does not give: a missing client certificate, a plaintext peer,
 * a refused renegotiation.
 */
final class Errors {
  /** TLS record content type of handshake messages. */
  private static final int TLS_HANDSHAKE = 22;
  /** The largest plaintext TLS record body (RFC 8446 section 5.1). */
  private static final int MAX_PLAINTEXT_RECORD = 1 << 14;

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
    Errno errno = JdkErrnos.errnoOf(e);
    String detail = switch (errno) {
      case EBADF -> "the socket is closed";
      case EPROTO -> e instanceof SSLException ? reasons(e) : String.valueOf(e.getMessage());
      default -> String.valueOf(e.getMessage());
    };
    if (errno == Errno.ETIMEDOUT && e instanceof SocketTimeoutException) {
      return new ErrnoException(errno, what + " timed out", e);
    }
    return new ErrnoException(errno, what + ": " + detail, e);
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

  /**
   * TLS 1.2 reports a missing client certificate as a bare handshake_failure alert. When
   * the handshake session shows that this is what happened, say so.
   */
  static String hint(SSLException e, SSLEngine engine, TlsConfig config) {
    String reasons = reasons(e);
    if (!reasons.contains("handshake_failure(40)")) {
      return "";
    }
    SSLSession session;
    try {
      session = engine.getHandshakeSession();
    } catch (RuntimeException ex) {
      return "";
    }
    if (session == null) {
      return "";
    }
    boolean peerAlert = reasons.contains("the peer sent alert");
    if (engine.getUseClientMode() && peerAlert && session.getLocalCertificates() == null) {
      return config.hasCertificate()
          ? " (we sent no certificate: ours is not issued by a CA the server asked for)"
          : " (the server may require a client certificate, and this node has none)";
    }
    if (!engine.getUseClientMode() && !peerAlert && config.verifyPeer()
        && config.clientAuth() == ClientAuth.REQUIRE && !hasPeerCertificates(session)) {
      return " (the client sent no certificate, and this listener requires one)";
    }
    return "";
  }

  private static boolean hasPeerCertificates(SSLSession session) {
    try {
      return session.getPeerCertificates().length > 0;
    } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
      return false;
    }
  }

  /**
   * A TLS record starts with a content type of 20 to 24 and major version 3; distribution
   * handshake bytes in plaintext start with a length. Saying so plainly beats a decode alert.
   */
  static void checkLooksLikeTls(ByteBuffer netIn, String what) throws ErrnoException {
    int type = netIn.get(0) & 0xff;
    boolean tls = type >= 20 && type <= 24 && (netIn.position() < 2 || netIn.get(1) == 3);
    if (!tls) {
      throw new ErrnoException(Errno.EPROTO, what + " failed: the peer sent plaintext (first byte 0x"
          + Integer.toHexString(type) + "), not a TLS record; it does not speak TLS, refusing");
    }
  }

  /**
   * Checks the first record header a TLS client sends, as much of it as has arrived
   * ({@code header}'s position): a handshake record (its ClientHello), TLS's major version
   * 3, and a length a plaintext record may have (1 to 2^14 bytes, RFC 8446 section 5.1).
   */
  static void checkClientHelloHeader(ByteBuffer header, String what) throws ErrnoException {
    checkLooksLikeTls(header, what);
    int type = header.get(0) & 0xff;
    if (type != TLS_HANDSHAKE) {
      throw new ErrnoException(Errno.EPROTO, what + " failed: the peer's first TLS record has content type "
          + type + ", not a handshake record with its ClientHello; refusing");
    }
    if (header.position() >= 5) {
      int length = header.getShort(3) & 0xffff;
      if (length == 0 || length > MAX_PLAINTEXT_RECORD) {
        throw new ErrnoException(Errno.EPROTO, what + " failed: the peer's first TLS record claims "
            + length + " bytes, outside 1.." + MAX_PLAINTEXT_RECORD + "; refusing");
      }
    }
  }

  /** Why a connection whose peer tried a TLS 1.2 renegotiation is being ended. */
  static String renegotiationReason(String what, SSLException cause) {
    return what + ": the peer started a TLS 1.2 renegotiation, which BCJSSE cannot do; refused"
        + (cause == null ? " with a no_renegotiation alert" : " (" + reasons(cause) + ")")
        + " and ending the connection (Erlang's ssl renegotiates after renegotiate_at records;"
        + " TLS 1.3 has key updates instead)";
  }
}
