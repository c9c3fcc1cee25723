package io.ei4j.samples;

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
import java.util.List;
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
 * A CA and one node certificate for the TLS runs, made with bcpkix when a test starts and
 * written as the PEM files the README's {@code ssl_dist_optfile} names ({@code ca.pem},
 * {@code node.pem}, {@code node.key}). The node certificate names {@code localhost}, this host's short
 * name and {@code 127.0.0.1}, so Java and Erlang nodes share it.
 */
record TestCertificates(Path ca, Path cert, Path key) {

  static TestCertificates create(Path dir) {
    try {
      Instant now = Instant.now();
      KeyPair caKeys = ecKeys();
      X500Name caName = new X500Name("CN=ei4j samples test CA");
      X509v3CertificateBuilder caBuilder = new JcaX509v3CertificateBuilder(caName, BigInteger.ONE,
          Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(30))), caName, caKeys.getPublic());
      caBuilder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      caBuilder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      X509Certificate caCert = sign(caBuilder, caKeys);

      KeyPair nodeKeys = ecKeys();
      X509v3CertificateBuilder nodeBuilder = new JcaX509v3CertificateBuilder(caCert, BigInteger.TWO,
          Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(30))),
          new X500Name("CN=ei4j samples node"), nodeKeys.getPublic());
      nodeBuilder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      nodeBuilder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      nodeBuilder.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      nodeBuilder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
          new GeneralName(GeneralName.dNSName, "localhost"),
          new GeneralName(GeneralName.dNSName, io.ei4j.testkit.ErlangPeer.shortHostName()),
          new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
      X509Certificate nodeCert = sign(nodeBuilder, caKeys);

      Path ca = write(dir.resolve("ca.pem"), pem(List.of(caCert)));
      Path cert = write(dir.resolve("node.pem"), pem(List.of(nodeCert)));
      Path key = write(dir.resolve("node.key"), pem(List.of(new JcaPKCS8Generator(nodeKeys.getPrivate(), null).generate())));
      return new TestCertificates(ca, cert, key);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The TLS options of the samples jar for these files. */
  List<String> options() {
    return List.of("--transport", "tls", "--cert", cert.toString(), "--key", key.toString(), "--cacert", ca.toString());
  }

  private static KeyPair ecKeys() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair issuer)
      throws OperatorCreationException, GeneralSecurityException {
    return new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
  }

  private static String pem(List<Object> objects) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      for (Object o : objects) {
        w.writeObject(o);
      }
    }
    return out.toString();
  }

  private static Path write(Path file, String text) throws IOException {
    return Files.writeString(file, text, StandardCharsets.US_ASCII);
  }
}
