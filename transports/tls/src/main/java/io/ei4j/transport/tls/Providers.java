package io.ei4j.transport.tls;

import java.security.Provider;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.jsse.provider.BouncyCastleJsseProvider;

/**
 * The BouncyCastle providers this transport uses, created once and never registered with
 * {@link java.security.Security}: an application's own JCA/JSSE setup stays as it was.
 */
final class Providers {
  /** BouncyCastle's JCA provider: key decryption, and all of BCJSSE's cryptography. */
  static final Provider BC = new BouncyCastleProvider();

  /**
   * BCJSSE on {@link #BC}. Not on the JDK's JCA providers: BCJSSE offers RSASSA-PSS (which
   * TLS 1.3 requires for RSA certificates) only when its JCA provider knows the algorithm
   * as {@code SHA256withRSAandMGF1}, which the JDK's providers do not.
   */
  static final Provider BCJSSE = new BouncyCastleJsseProvider(BC);

  private Providers() {}
}
