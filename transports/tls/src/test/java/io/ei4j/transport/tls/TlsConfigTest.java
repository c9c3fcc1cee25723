package io.ei4j.transport.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.testkit.pki.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link TlsConfig.Builder#build()} accepts and how it reports what it refuses: every
 * message names the file and the problem.
 */
class TlsConfigTest {
  @TempDir static Path dir;
  static TestPki pki;
  static TestPki.Issued ca;
  static TestPki.Issued node;

  @BeforeAll
  static void certificates() {
    pki = new TestPki(dir);
    ca = pki.ca("config-ca");
    node = pki.node("config-node", ca);
  }

  private static TlsConfigurationException refused(TlsConfig.Builder b) {
    return assertThrows(TlsConfigurationException.class, b::build);
  }

  private static void assertMentions(TlsConfigurationException e, String... parts) {
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), "expected '" + p + "' in: " + e.getMessage());
    }
  }

  @Test
  void pemCertificateKeyAndCaBuildWithStrictDefaults() {
    TlsConfig c = TlsConfig.builder().certificate(node.certFile(), node.keyFile())
        .trustedCertificates(ca.certFile()).build();
    assertTrue(c.hasCertificate());
    assertTrue(c.verifyPeer());
    assertTrue(c.checkHostname());
    assertEquals(ClientAuth.REQUIRE, c.clientAuth());
    assertEquals(List.of("TLSv1.3", "TLSv1.2"), c.protocols());
    assertTrue(c.cipherSuites().get(0).contains("_AES_") && c.cipherSuites().get(0).contains("_GCM_"),
        "AES-GCM first: " + c.cipherSuites());
    assertTrue(c.cipherSuites().stream().anyMatch(x -> x.contains("CHACHA20")), "the others stay: " + c.cipherSuites());
    assertEquals("BCJSSE", c.context().getProvider().getName());
  }

  @Test
  void keyFormatsAsOpenSslWritesThem() {
    Instant now = Instant.now();
    for (TestPki.KeyFormat format : TestPki.KeyFormat.values()) {
      for (KeyPair keys : List.of(TestPki.ecKeys(), TestPki.rsaKeys())) {
        String name = "fmt-" + format + "-" + keys.getPrivate().getAlgorithm();
        TestPki.Issued issued = pki.node(name, ca, keys, List.of("localhost"), List.of(),
            now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(1)), format);
        char[] password = format == TestPki.KeyFormat.PKCS8_ENCRYPTED ? TestPki.PASSWORD : null;
        TlsConfig c = TlsConfig.builder().certificate(issued.certFile(), issued.keyFile(), password)
            .trustedCertificates(ca.certFile()).build();
        assertTrue(c.hasCertificate(), name);
      }
    }
  }

  @Test
  void certificateAndKeyMayShareAFile() throws Exception {
    Path both = pki.writeFile("both.pem", Files.readString(node.certFile()) + Files.readString(node.keyFile()));
    assertTrue(TlsConfig.builder().certificate(both, both).trustedCertificates(ca.certFile()).build().hasCertificate());
  }

  @Test
  void missingFileIsNamed() {
    Path missing = dir.resolve("no-such-cert.pem");
    TlsConfigurationException e = refused(TlsConfig.builder().certificate(missing, node.keyFile())
        .trustedCertificates(ca.certFile()));
    assertMentions(e, missing.toString(), "not found");
    assertEquals(missing, e.file().orElseThrow());
    Path missingCa = dir.resolve("no-such-ca.pem");
    assertMentions(refused(TlsConfig.builder().certificate(node.certFile(), node.keyFile())
        .trustedCertificates(missingCa)), missingCa.toString(), "not found");
  }

  @Test
  void keyThatDoesNotMatchTheCertificate() {
    TestPki.Issued other = pki.node("other-node", ca);
    TlsConfigurationException e = refused(TlsConfig.builder().certificate(node.certFile(), other.keyFile())
        .trustedCertificates(ca.certFile()));
    assertMentions(e, node.certFile().toString(), other.keyFile().toString(), "does not match");
    TestPki.Issued rsa = pki.node("rsa-node", ca, TestPki.rsaKeys(), List.of("localhost"), List.of(),
        Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(1)), TestPki.KeyFormat.TRADITIONAL);
    assertMentions(refused(TlsConfig.builder().certificate(node.certFile(), rsa.keyFile())
        .trustedCertificates(ca.certFile())), "does not match", "RSA");
    TestPki.Issued rsa2 = pki.node("rsa-node2", ca, TestPki.rsaKeys(), List.of("localhost"), List.of(),
        Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(1)), TestPki.KeyFormat.PKCS8);
    assertMentions(refused(TlsConfig.builder().certificate(rsa.certFile(), rsa2.keyFile())
        .trustedCertificates(ca.certFile())), "does not match");
  }

  @Test
  void expiredCertificate() {
    TestPki.Issued expired = pki.expired("expired-node", ca);
    TlsConfigurationException e = refused(TlsConfig.builder().certificate(expired.certFile(), expired.keyFile())
        .trustedCertificates(ca.certFile()));
    assertMentions(e, expired.certFile().toString(), "expired");
  }

  @Test
  void notYetValidCertificate() {
    Instant now = Instant.now();
    TestPki.Issued future = pki.node("future-node", ca, TestPki.ecKeys(), List.of("localhost"), List.of(),
        now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(2)), TestPki.KeyFormat.PKCS8);
    assertMentions(refused(TlsConfig.builder().certificate(future.certFile(), future.keyFile())
        .trustedCertificates(ca.certFile())), "not valid before");
  }

  @Test
  void filesWithoutTheExpectedPemBlocks() {
    assertMentions(refused(TlsConfig.builder().certificate(node.keyFile(), node.keyFile())
        .trustedCertificates(ca.certFile())), node.keyFile().toString(), "no PEM CERTIFICATE");
    assertMentions(refused(TlsConfig.builder().certificate(node.certFile(), node.certFile())
        .trustedCertificates(ca.certFile())), node.certFile().toString(), "no PEM private key");
    Path garbage = pki.writeFile("garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n");
    assertMentions(refused(TlsConfig.builder().certificate(node.certFile(), node.keyFile())
        .trustedCertificates(garbage)), garbage.toString());
  }

  @Test
  void encryptedKeyNeedsTheRightPassword() {
    Instant now = Instant.now();
    TestPki.Issued enc = pki.node("enc-node", ca, TestPki.ecKeys(), List.of("localhost"), List.of(),
        now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(1)), TestPki.KeyFormat.PKCS8_ENCRYPTED);
    assertMentions(refused(TlsConfig.builder().certificate(enc.certFile(), enc.keyFile())
        .trustedCertificates(ca.certFile())), enc.keyFile().toString(), "encrypted", "no password");
    assertMentions(refused(TlsConfig.builder().certificate(enc.certFile(), enc.keyFile(), "wrong".toCharArray())
        .trustedCertificates(ca.certFile())), enc.keyFile().toString(), "decrypt");
  }

  @Test
  void verifyingPeersNeedsTrustedCertificates() {
    assertMentions(refused(TlsConfig.builder().certificate(node.certFile(), node.keyFile())), "no trusted CA");
    assertFalse(TlsConfig.builder().certificate(node.certFile(), node.keyFile()).verifyPeer(false).build().verifyPeer());
  }

  @Test
  void onlyTls12And13() {
    assertMentions(refused(TlsConfig.builder().trustedCertificates(ca.certFile()).protocols("TLSv1.1")), "TLSv1.1");
    assertMentions(refused(TlsConfig.builder().trustedCertificates(ca.certFile()).protocols()), "no protocol");
    assertEquals(List.of("TLSv1.2"),
        TlsConfig.builder().trustedCertificates(ca.certFile()).protocols("TLSv1.2").build().protocols());
  }

  @Test
  void cipherSuitesAreOverridableAndChecked() {
    TlsConfig c = TlsConfig.builder().trustedCertificates(ca.certFile())
        .cipherSuites("TLS_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384").build();
    assertEquals(List.of("TLS_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"), c.cipherSuites());
    assertMentions(refused(TlsConfig.builder().trustedCertificates(ca.certFile()).cipherSuites("TLS_NO_SUCH_SUITE")),
        "TLS_NO_SUCH_SUITE");
  }

  @Test
  void keyStoreAndTrustStore() throws Exception {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    char[] pw = "store-pw".toCharArray();
    keys.setKeyEntry("node", node.keys().getPrivate(), pw, new Certificate[] {node.certificate()});
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca.certificate());
    assertTrue(TlsConfig.builder().keyStore(keys, pw).trustStore(trust).build().hasCertificate());

    KeyStore empty = KeyStore.getInstance("PKCS12");
    empty.load(null, null);
    assertMentions(refused(TlsConfig.builder().keyStore(empty, pw).trustStore(trust)), "exactly one private key");
    assertMentions(refused(TlsConfig.builder().keyStore(keys, pw).trustStore(empty)), "trust store holds no certificate");

    TestPki.Issued expired = pki.expired("expired-in-store", ca);
    KeyStore old = KeyStore.getInstance("PKCS12");
    old.load(null, null);
    old.setKeyEntry("old", expired.keys().getPrivate(), pw, new Certificate[] {expired.certificate()});
    assertMentions(refused(TlsConfig.builder().keyStore(old, pw).trustStore(trust)), "expired");
  }

  @Test
  void oversizedPemFileIsRefusedBeforeReading() throws Exception {
    Path huge = dir.resolve("huge.pem");
    try (var ch = java.nio.channels.FileChannel.open(huge, java.nio.file.StandardOpenOption.CREATE_NEW,
        java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(new byte[] {'x'}), PemFiles.MAX_PEM_BYTES + 1);
    }
    assertMentions(refused(TlsConfig.builder().trustedCertificates(huge)), huge.toString(), "more than");
  }
}
