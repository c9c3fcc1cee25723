package io.ei4j.testkit.pki;

import io.ei4j.testkit.ErlangPeer;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Test certificates, made fresh in each run with bcpkix and written as PEM files, the way
 * an {@code ssl_dist_optfile} names them. Nothing is checked in. The one certificate helper
 * of every module's tests (TLS transport, interop tests, samples): a self-signed EC CA, node
 * certificates for server and client use naming {@code localhost}, this host's short name,
 * {@code 127.0.0.1} and {@code ::1}, expired ones, RSA keys, and keys in PKCS#8, traditional
 * and encrypted PEM.
 */
public final class TestPki {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());
  /** BCJSSE logs every connection at INFO through java.util.logging; tests keep WARNING. */
  private static final java.util.logging.Logger BCJSSE_LOG = java.util.logging.Logger.getLogger("org.bouncycastle.jsse");

  static {
    BCJSSE_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  /** How a private key is written. */
  public enum KeyFormat {
    /** {@code -----BEGIN PRIVATE KEY-----} */
    PKCS8,
    /** {@code -----BEGIN RSA PRIVATE KEY-----} or {@code EC PRIVATE KEY} */
    TRADITIONAL,
    /** {@code -----BEGIN ENCRYPTED PRIVATE KEY-----}, password {@link #PASSWORD} */
    PKCS8_ENCRYPTED
  }

  private static final java.security.Provider BC = new org.bouncycastle.jce.provider.BouncyCastleProvider();

  /** The password of {@link KeyFormat#PKCS8_ENCRYPTED} keys. */
  public static final char[] PASSWORD = "s3cret-key".toCharArray();

  /** A certificate with its key pair and the files they were written to. */
  public record Issued(String name, X509Certificate certificate, KeyPair keys, Path certFile, Path keyFile) {}

  private final Path dir;

  /** Certificates written to {@code dir}, as {@code <name>.pem} and {@code <name>.key}. */
  public TestPki(Path dir) {
    this.dir = dir;
  }

  /** A fresh EC P-256 key pair. */
  public static KeyPair ecKeys() {
    try {
      // BC's EC keys: their SEC1 form carries the curve and public key, as OpenSSL writes it
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC", BC);
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A fresh 2048-bit RSA key pair. */
  public static KeyPair rsaKeys() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A self-signed CA, valid from yesterday for a year. */
  public Issued ca(String name) {
    KeyPair keys = ecKeys();
    Instant now = Instant.now();
    X509Certificate cert = sign(name, keys, null, null, now.minus(Duration.ofDays(1)),
        now.plus(Duration.ofDays(365)), true, List.of(), List.of());
    return write(name, cert, keys, KeyFormat.PKCS8);
  }

  /** A node certificate for the DNS names and IP addresses, valid now, from {@code ca}. */
  public Issued node(String name, Issued ca, List<String> dnsNames, List<String> ips) {
    Instant now = Instant.now();
    return node(name, ca, ecKeys(), dnsNames, ips, now.minus(Duration.ofDays(1)),
        now.plus(Duration.ofDays(30)), KeyFormat.PKCS8);
  }

  /** The usual node certificate: {@code localhost}, this host's name, {@code 127.0.0.1}, {@code ::1}. */
  public Issued node(String name, Issued ca) {
    return node(name, ca, List.of("localhost", ErlangPeer.shortHostName()), List.of("127.0.0.1", "::1"));
  }

  /** A node certificate with every property chosen, its key written in {@code format}. */
  public Issued node(String name, Issued ca, KeyPair keys, List<String> dnsNames, List<String> ips,
      Instant notBefore, Instant notAfter, KeyFormat format) {
    X509Certificate cert = sign(name, keys, ca.certificate(), ca.keys(), notBefore, notAfter,
        false, dnsNames, ips);
    return write(name, cert, keys, format);
  }

  /** A node certificate that expired yesterday. */
  public Issued expired(String name, Issued ca) {
    Instant now = Instant.now();
    return node(name, ca, ecKeys(), List.of("localhost", ErlangPeer.shortHostName()),
        List.of("127.0.0.1"), now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)), KeyFormat.PKCS8);
  }

  /** Writes PEM {@code text} to a new file in the directory. */
  public Path writeFile(String fileName, String text) {
    try {
      Path p = dir.resolve(fileName);
      Files.writeString(p, text, StandardCharsets.US_ASCII);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The PEM text of certificates, concatenated (a chain or a CA bundle). */
  public static String pem(Object... objects) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      for (Object o : objects) {
        w.writeObject(o);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /** The PEM text of the private key of {@code keys} in {@code format}. */
  public static String keyPem(KeyPair keys, KeyFormat format) {
    try {
      return switch (format) {
        case TRADITIONAL -> pem(keys.getPrivate());
        case PKCS8 -> pem(new JcaPKCS8Generator(keys.getPrivate(), null).generate());
        case PKCS8_ENCRYPTED -> pem(new JcaPKCS8Generator(keys.getPrivate(),
            new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
                .setProvider(BC).setPassword(PASSWORD).build())
            .generate());
      };
    } catch (IOException | OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  private Issued write(String name, X509Certificate cert, KeyPair keys, KeyFormat format) {
    Path certFile = writeFile(name + ".pem", pem(cert));
    Path keyFile = writeFile(name + ".key", keyPem(keys, format));
    return new Issued(name, cert, keys, certFile, keyFile);
  }

  private static X509Certificate sign(String name, KeyPair keys, X509Certificate issuer, KeyPair issuerKeys,
      Instant notBefore, Instant notAfter, boolean isCa, List<String> dnsNames, List<String> ips) {
    try {
      X500Name subject = new X500Name("CN=" + name + ",O=ei4j test");
      X500Name issuerName = issuer == null ? subject : X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName,
          BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(notBefore), Date.from(notAfter),
          subject, keys.getPublic());
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      b.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(keys.getPublic()));
      b.addExtension(Extension.authorityKeyIdentifier, false, issuer == null
          ? utils.createAuthorityKeyIdentifier(keys.getPublic())
          : utils.createAuthorityKeyIdentifier(issuer));
      if (isCa) {
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      } else {
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true,
            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        List<GeneralName> names = new ArrayList<>();
        dnsNames.forEach(d -> names.add(new GeneralName(GeneralName.dNSName, d)));
        ips.forEach(ip -> names.add(new GeneralName(GeneralName.iPAddress, ip)));
        if (!names.isEmpty()) {
          b.addExtension(Extension.subjectAlternativeName, false,
              new GeneralNames(names.toArray(new GeneralName[0])));
        }
      }
      String algorithm = (issuerKeys == null ? keys : issuerKeys).getPrivate().getAlgorithm().equals("RSA")
          ? "SHA256withRSA" : "SHA256withECDSA";
      return new JcaX509CertificateConverter().getCertificate(
          b.build(new JcaContentSignerBuilder(algorithm).build((issuerKeys == null ? keys : issuerKeys).getPrivate())));
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }
}
