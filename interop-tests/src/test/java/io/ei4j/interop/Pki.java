package io.ei4j.interop;

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
import java.util.Date;
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
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away certificate authority for the tests, generated at run time and written as
 * PEM files: EC P-256 keys, a self-signed CA, and node certificates for {@code localhost}
 * and {@code 127.0.0.1} usable as TLS server and client.
 */
final class Pki {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** A certificate with its PEM files. */
  record Issued(X509Certificate certificate, KeyPair keys, Path certFile, Path keyFile) {}

  private final Path dir;
  private final Issued ca;

  Pki(Path dir) {
    this.dir = dir;
    KeyPair keys = keys();
    this.ca = write("ca", sign("ei4j interop CA", keys, null, keys, true), keys);
  }

  Issued ca() {
    return ca;
  }

  /** A node certificate for localhost and 127.0.0.1, signed by the CA. */
  Issued node(String name) {
    KeyPair keys = keys();
    return write(name, sign(name, keys, ca.certificate(), ca.keys(), false), keys);
  }

  /** Writes {@code text} to a file in the directory. */
  Path writeFile(String fileName, String text) {
    try {
      Path p = dir.resolve(fileName);
      Files.writeString(p, text, StandardCharsets.US_ASCII);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static KeyPair keys() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private Issued write(String name, X509Certificate cert, KeyPair keys) {
    Path certFile = writeFile(name + ".pem", pem(cert));
    Path keyFile;
    try {
      keyFile = writeFile(name + ".key", pem(new JcaPKCS8Generator(keys.getPrivate(), null).generate()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Issued(cert, keys, certFile, keyFile);
  }

  private static String pem(Object o) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static X509Certificate sign(String name, KeyPair keys, X509Certificate issuer, KeyPair issuerKeys, boolean isCa) {
    try {
      X500Name subject = new X500Name("CN=" + name + ",O=ei4j interop test");
      X500Name issuerName = issuer == null ? subject : X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
      Instant now = Instant.now();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName, BigInteger.valueOf(SERIAL.incrementAndGet()),
          Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(30))), subject, keys.getPublic());
      if (isCa) {
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      } else {
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        b.addExtension(Extension.extendedKeyUsage, false,
            new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
            new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
      }
      return new JcaX509CertificateConverter().getCertificate(
          b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }
}
