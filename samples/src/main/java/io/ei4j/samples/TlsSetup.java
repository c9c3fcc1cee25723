package io.ei4j.samples;

import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
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
 * {@code tls-setup}: a development CA and one node certificate that both ends use, and the
 * {@code ssl_dist_optfile} for {@code erl -proto_dist inet_tls}, so that TLS distribution
 * between the samples and {@code erl} on this machine takes one command each side.
 *
 * <p>The certificate names every host part a node on this machine may have ({@code
 * localhost}, the short and the full host name, 127.0.0.1 and ::1, and any {@code --host}),
 * since both sides check the peer's host name against it. The CA's private key is not
 * kept: to trust more nodes, run the command again and copy the new files to each of them.
 * Development only: a production CA keeps its key somewhere safer than a working directory.
 */
final class TlsSetup {
  static final String USAGE = """
      Usage: java -jar ei4j-samples.jar tls-setup [--dir DIR] [--host NAME]... [--force]

      Writes a development CA and a node certificate for TLS distribution between the
      samples and erl on this machine: DIR/ca.pem (the CA), DIR/node.pem and DIR/node.key
      (the certificate both ends present, readable by you only) and DIR/dist.conf, the
      ssl_dist_optfile for erl, with absolute paths and mutual verification. Then:
        java -jar ei4j-samples.jar cnode-server --transport tls \\
            --cert DIR/node.pem --key DIR/node.key --cacert DIR/ca.pem
        erl -sname e1 -proto_dist inet_tls -ssl_dist_optfile DIR/dist.conf
      Exit status 0; 1 when a file exists (without --force) or cannot be written; 2 for a
      wrong command line.

        --dir DIR     where to write the files (default: tls, created if missing)
        --host NAME   one more host name or IP address for the certificate (repeatable
                      as a comma-separated list: --host a.example,10.0.0.5)
        --force       replace existing files
      """;

  /** Options with a value. */
  static final Set<String> WITH_VALUE = Set.of("dir", "host");
  /** Flags. */
  static final Set<String> FLAGS = Set.of("help", "force");

  private static final Duration VALIDITY = Duration.ofDays(365);

  private TlsSetup() {}

  /** Runs the command; the summary goes to {@code out}. */
  static int run(Options o, PrintStream out) throws UsageException, IOException {
    if (!o.positional().isEmpty()) {
      throw new UsageException("unexpected argument '" + o.positional().get(0) + "'");
    }
    String dirOption = o.get("dir", "tls");
    if (dirOption.isEmpty()) {
      throw new UsageException("--dir is empty");
    }
    Path dir = Path.of(dirOption).toAbsolutePath().normalize();
    Set<String> hosts = new LinkedHashSet<>(List.of("localhost", HostNames.shortHostName(), "127.0.0.1", "::1"));
    try {
      hosts.add(InetAddress.getLocalHost().getCanonicalHostName());
    } catch (IOException e) {
      // the short name and localhost remain
    }
    if (o.has("host")) {
      for (String h : o.get("host").split(",")) {
        if (h.isBlank()) {
          throw new UsageException("--host has an empty name: " + o.get("host"));
        }
        hosts.add(h.trim());
      }
    }
    boolean force = o.has("force");
    Files.createDirectories(dir);
    Path ca = dir.resolve("ca.pem");
    Path cert = dir.resolve("node.pem");
    Path key = dir.resolve("node.key");
    Path optfile = dir.resolve("dist.conf");
    if (!force) {
      for (Path p : List.of(ca, cert, key, optfile)) {
        if (Files.exists(p)) {
          throw new IOException(p + " exists; use --force to replace the files in " + dir);
        }
      }
    }
    Pki pki = generate(hosts);
    write(ca, pki.caPem, false, force);
    write(cert, pki.nodePem, false, force);
    write(key, pki.keyPem, true, force);
    write(optfile, optfile(ca, cert, key), false, force);
    out.println("wrote " + ca + ", " + cert + ", " + key + " and " + optfile);
    out.println("the certificate names " + String.join(", ", hosts) + " and is valid until " + pki.notAfter);
    out.println("Java: java -jar ei4j-samples.jar cnode-server --transport tls --cert " + cert + " --key " + key
        + " --cacert " + ca);
    out.println("erl:  erl -sname e1 -proto_dist inet_tls -ssl_dist_optfile " + optfile);
    return 0;
  }

  /** The {@code ssl_dist_optfile}: both roles present the node certificate and verify the peer's. */
  static String optfile(Path ca, Path cert, Path key) {
    String files = "{certfile, " + erlString(cert) + "}, {keyfile, " + erlString(key) + "}, {cacertfile, " + erlString(ca) + "}";
    return "[{server, [" + files + ",\n           {verify, verify_peer}, {fail_if_no_peer_cert, true}]},\n"
        + " {client, [" + files + ",\n           {verify, verify_peer}]}].\n";
  }

  private static String erlString(Path p) {
    return "\"" + p.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private record Pki(String caPem, String nodePem, String keyPem, Instant notAfter) {}

  private static Pki generate(Set<String> hosts) throws IOException {
    try {
      SecureRandom random = new SecureRandom();
      Instant now = Instant.now();
      Instant notBefore = now.minus(Duration.ofHours(1));
      Instant notAfter = now.plus(VALIDITY);
      KeyPair caKeys = ecKeys();
      X500Name caName = new X500Name("CN=ei4j development CA " + now.getEpochSecond());
      X509v3CertificateBuilder caBuilder = new JcaX509v3CertificateBuilder(caName, new BigInteger(64, random).add(BigInteger.ONE),
          Date.from(notBefore), Date.from(notAfter), caName, caKeys.getPublic());
      caBuilder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      caBuilder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      X509Certificate caCert = sign(caBuilder, caKeys);

      KeyPair nodeKeys = ecKeys();
      X509v3CertificateBuilder nodeBuilder = new JcaX509v3CertificateBuilder(caCert, new BigInteger(64, random).add(BigInteger.ONE),
          Date.from(notBefore), Date.from(notAfter), new X500Name("CN=ei4j development node"), nodeKeys.getPublic());
      nodeBuilder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      nodeBuilder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      nodeBuilder.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      List<GeneralName> names = new ArrayList<>();
      for (String h : hosts) {
        names.add(isIpAddress(h) ? new GeneralName(GeneralName.iPAddress, h) : new GeneralName(GeneralName.dNSName, h));
      }
      nodeBuilder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
      X509Certificate nodeCert = sign(nodeBuilder, caKeys);
      return new Pki(pem(caCert), pem(nodeCert), pem(new JcaPKCS8Generator(nodeKeys.getPrivate(), null).generate()), notAfter);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot generate the certificates: " + e.getMessage(), e);
    }
  }

  private static boolean isIpAddress(String h) {
    return h.matches("[0-9.]+") || h.contains(":");
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

  private static String pem(Object o) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    }
    return out.toString();
  }

  /** Writes a file; a private key is created readable and writable by its owner only. */
  private static void write(Path file, String text, boolean secret, boolean replace) throws IOException {
    if (replace) {
      Files.deleteIfExists(file);
    }
    try {
      if (secret) {
        Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
            EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)));
        Files.writeString(file, text, StandardCharsets.US_ASCII, StandardOpenOption.WRITE);
      } else {
        Files.writeString(file, text, StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      }
    } catch (FileAlreadyExistsException e) {
      throw new IOException(file + " appeared meanwhile; use --force to replace it", e);
    }
  }
}
