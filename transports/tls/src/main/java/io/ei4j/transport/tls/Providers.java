package io.ei4j.transport.tls;

import java.security.Provider;
import java.security.Security;
import java.util.Locale;
import java.util.Set;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.jsse.provider.BouncyCastleJsseProvider;

/**
 * The providers this transport uses, created once and never registered with
 * {@link java.security.Security}: an application's own JCA/JSSE setup stays as it was.
 *
 * <p>BCJSSE runs on BouncyCastle's JCA provider, not the JDK's: BCJSSE offers RSASSA-PSS
 * (which TLS 1.3 requires for RSA certificates) only when its JCA provider knows the
 * algorithm as {@code SHA256withRSAandMGF1}, which the JDK's providers do not. The one
 * exception is the bulk cipher: {@code AES/GCM/NoPadding} comes from the JDK's SunJCE when
 * it is present, whose AES-NI/CLMUL intrinsics encrypt records about ten times faster
 * than BouncyCastle's pure-Java AES (measured 272 against 29 MB/s for 16 KiB records on
 * the same loaded two-core machine).
 */
final class Providers {
  /** BouncyCastle's JCA provider: key decryption, and BCJSSE's handshake cryptography. */
  static final Provider BC = new BouncyCastleProvider();

  /** BCJSSE on {@link #BC}, with the JDK's AES-GCM (see the class comment). */
  static final Provider BCJSSE = new BouncyCastleJsseProvider(withJdkAesGcm(BC));

  private Providers() {}

  private static Provider withJdkAesGcm(Provider bc) {
    Provider jdk = Security.getProvider("SunJCE");
    if (jdk == null || jdk.getService("Cipher", "AES/GCM/NoPadding") == null) {
      return bc;
    }
    return new BcWithJdkAesGcm(bc, jdk);
  }

  /**
   * BouncyCastle's services, except the ciphers in {@link #FROM_JDK}, which are the JDK's.
   * JCA asks a provider for services by name only, so answering with another provider's
   * service object is enough; the cipher then reports SunJCE as its provider.
   */
  private static final class BcWithJdkAesGcm extends Provider {
    private static final long serialVersionUID = 1L;
    private static final Set<String> FROM_JDK = Set.of("AES/GCM/NOPADDING");

    private final transient Provider bc;
    private final transient Provider jdk;

    BcWithJdkAesGcm(Provider bc, Provider jdk) {
      super("ei4j-tls", "1.0", "BouncyCastle with the JDK's AES-GCM, for ei4j's TLS transport");
      this.bc = bc;
      this.jdk = jdk;
    }

    @Override
    public Service getService(String type, String algorithm) {
      if ("Cipher".equalsIgnoreCase(type) && FROM_JDK.contains(algorithm.toUpperCase(Locale.ROOT))) {
        Service s = jdk.getService(type, algorithm);
        if (s != null) {
          return s;
        }
      }
      return bc.getService(type, algorithm);
    }

    @Override
    public Set<Service> getServices() {
      return bc.getServices();
    }
  }
}
