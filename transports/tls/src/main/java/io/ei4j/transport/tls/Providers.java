package io.ei4j.transport.tls;

import java.security.GeneralSecurityException;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import java.util.Locale;
import java.util.Set;
import org.bouncycastle.jcajce.util.JcaJceHelper;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.jsse.provider.BouncyCastleJsseProvider;
import org.bouncycastle.tls.crypto.impl.TlsAEADCipherImpl;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCrypto;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCryptoProvider;

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
 *
 * <p>The record layer's AES-GCM goes through {@link JdkAesGcm}, which gives the JDK cipher
 * each record's nonce directly instead of through BouncyCastle's per-record
 * {@code AlgorithmParameters} (measured: see that class).
 */
final class Providers {
  /** BouncyCastle's JCA provider: key decryption, and BCJSSE's handshake cryptography. */
  static final Provider BC = new BouncyCastleProvider();

  /** The JDK's SunJCE when it offers AES-GCM, else null. */
  private static final Provider JDK_AES_GCM = jdkAesGcm();

  /** BCJSSE on {@link #BC}, with the JDK's AES-GCM (see the class comment). */
  static final Provider BCJSSE = new BouncyCastleJsseProvider(false,
      new CryptoProvider().setProvider(JDK_AES_GCM == null ? BC : new BcWithJdkAesGcm(BC, JDK_AES_GCM)));

  private Providers() {}

  private static Provider jdkAesGcm() {
    Provider jdk = Security.getProvider("SunJCE");
    return jdk != null && jdk.getService("Cipher", "AES/GCM/NoPadding") != null ? jdk : null;
  }

  /** Makes BCJSSE's cryptography a {@link Crypto}. */
  private static final class CryptoProvider extends JcaTlsCryptoProvider {
    @Override
    public JcaTlsCrypto create(SecureRandom keyRandom, SecureRandom nonceRandom) {
      return new Crypto(getHelper(), keyRandom, nonceRandom);
    }
  }

  /** BouncyCastle's JCA-based TLS cryptography, with records in AES-GCM by {@link JdkAesGcm}. */
  private static final class Crypto extends JcaTlsCrypto {
    Crypto(JcaJceHelper helper, SecureRandom keyRandom, SecureRandom nonceRandom) {
      super(helper, keyRandom, nonceRandom);
    }

    @Override
    protected TlsAEADCipherImpl createAEADCipher(String cipherName, String algorithm, int keySize,
        boolean isEncrypting) throws GeneralSecurityException {
      if (JDK_AES_GCM != null && "AES/GCM/NoPadding".equalsIgnoreCase(cipherName)) {
        return new JdkAesGcm(JDK_AES_GCM, keySize, isEncrypting);
      }
      return super.createAEADCipher(cipherName, algorithm, keySize, isEncrypting);
    }
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
