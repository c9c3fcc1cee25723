package io.ei4j.bench;

import java.io.IOException;
import java.io.StringWriter;
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
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away PKI for the TLS measurements: a CA and node certificates on P-256 keys,
 * made at run time and written as PEM (certificate, PKCS#8 key) into a directory. Node
 * certificates name {@code localhost}, the short host name and {@code 127.0.0.1}, and may
 * serve as TLS server and client.
 */
final class Pki {
  /** A certificate and key written to {@code certFile} and {@code keyFile}. */
  record Issued(X509Certificate certificate, KeyPair keys, Path certFile, Path keyFile) {}

  private final Path dir;
  private final Issued ca;
  private long serial = System.currentTimeMillis();

  /** Makes the CA, written as {@code ca.pem}/{@code ca.key} in {@code dir}. */
  Pki(Path dir) throws IOException, GeneralSecurityException {
    this.dir = dir;
    KeyPair keys = keys();
    X500Name name = new X500Name("CN=ei4j bench CA");
    JcaX509v3CertificateBuilder b = builder(name, name, keys);
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    this.ca = write("ca", sign(b, keys), keys);
  }

  Issued ca() {
    return ca;
  }

  /** A node certificate signed by the CA, written as {@code name.pem}/{@code name.key}. */
  Issued node(String name, String shortHostName) throws IOException, GeneralSecurityException {
    KeyPair keys = keys();
    JcaX509v3CertificateBuilder b = builder(
        X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()), new X500Name("CN=" + name), keys);
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
    b.addExtension(Extension.extendedKeyUsage, false,
        new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
    b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
        new GeneralName(GeneralName.dNSName, "localhost"),
        new GeneralName(GeneralName.dNSName, shortHostName),
        new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
    return write(name, sign(b, ca.keys()), keys);
  }

  /**
   * An {@code ssl_dist_optfile} for an Erlang node holding {@code own}: as server it
   * requires and verifies a client certificate, as client it presents {@code own} and
   * verifies the server, both against the CA.
   */
  Path optfile(String name, Issued own) throws IOException {
    String cert = "{certfile,\"" + own.certFile() + "\"},{keyfile,\"" + own.keyFile() + "\"},"
        + "{cacertfile,\"" + ca.certFile() + "\"},{verify,verify_peer}";
    String text = "[{server,[" + cert + ",{fail_if_no_peer_cert,true}]},\n {client,[" + cert + "]}].\n";
    Path p = dir.resolve(name + ".optfile");
    Files.writeString(p, text, StandardCharsets.US_ASCII);
    return p;
  }

  private JcaX509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(++serial),
        Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(7))), subject, keys.getPublic());
  }

  private static X509Certificate sign(JcaX509v3CertificateBuilder b, KeyPair signer) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter().getCertificate(
          b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException("cannot sign a certificate", e);
    }
  }

  private static KeyPair keys() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private Issued write(String name, X509Certificate cert, KeyPair keys) throws IOException {
    Path certFile = dir.resolve(name + ".pem");
    Path keyFile = dir.resolve(name + ".key");
    Files.writeString(certFile, pem(cert), StandardCharsets.US_ASCII);
    Files.writeString(keyFile, pem(new JcaPKCS8Generator(keys.getPrivate(), null).generate()), StandardCharsets.US_ASCII);
    return new Issued(cert, keys, certFile, keyFile);
  }

  private static String pem(Object o) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    }
    return out.toString();
  }
}
