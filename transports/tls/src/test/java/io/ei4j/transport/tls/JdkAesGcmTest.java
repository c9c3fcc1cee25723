package io.ei4j.transport.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.testkit.pki.TestPki;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.Provider;
import java.security.Security;
import java.util.Random;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The record layer's AES-GCM ({@link JdkAesGcm}): against the JDK cipher directly, and
 * inside BCJSSE engines for every AES-GCM suite, where a changed byte must end the session
 * with {@code bad_record_mac}.
 */
class JdkAesGcmTest {
  private static final Provider SUN_JCE = Security.getProvider("SunJCE");

  @TempDir static Path dir;
  static TestPki.Issued ca;
  static TestPki.Issued server;
  static TestPki.Issued client;

  @BeforeAll
  static void certificates() {
    TestPki pki = new TestPki(dir);
    ca = pki.ca("ca");
    server = pki.node("server", ca);
    client = pki.node("client", ca);
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 32})
  void encryptsAsTheJdkCipherDoesAndDecryptsItsOwn(int keySize) throws Exception {
    Random random = new Random(keySize);
    byte[] key = new byte[keySize];
    byte[] nonce = new byte[12];
    byte[] aad = new byte[13];
    byte[] plain = new byte[1000];
    random.nextBytes(key);
    random.nextBytes(nonce);
    random.nextBytes(aad);
    random.nextBytes(plain);

    JdkAesGcm enc = new JdkAesGcm(SUN_JCE, keySize, true);
    enc.setKey(key, 0, keySize);
    enc.init(nonce, 16);
    assertEquals(plain.length + 16, enc.getOutputSize(plain.length));
    byte[] sealed = new byte[plain.length + 16];
    assertEquals(sealed.length, enc.doFinal(aad, plain, 0, plain.length, sealed, 0));

    Cipher jdk = Cipher.getInstance("AES/GCM/NoPadding", SUN_JCE);
    jdk.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
    jdk.updateAAD(aad);
    assertArrayEquals(jdk.doFinal(plain), sealed);

    JdkAesGcm dec = new JdkAesGcm(SUN_JCE, keySize, false);
    dec.setKey(key, 0, keySize);
    dec.init(nonce, 16);
    assertEquals(plain.length, dec.getOutputSize(sealed.length));
    byte[] opened = new byte[plain.length];
    assertEquals(plain.length, dec.doFinal(aad, sealed, 0, sealed.length, opened, 0));
    assertArrayEquals(plain, opened);

    sealed[7] ^= 1;
    dec.init(nonce, 16);
    assertThrows(IllegalStateException.class, () -> dec.doFinal(aad, sealed, 0, sealed.length, new byte[plain.length], 0));
  }

  @Test
  void refusesAKeyOfAnotherSize() throws Exception {
    JdkAesGcm enc = new JdkAesGcm(SUN_JCE, 16, true);
    assertThrows(IllegalStateException.class, () -> enc.setKey(new byte[32], 0, 32));
  }

  @ParameterizedTest
  @CsvSource({
      "TLSv1.3, TLS_AES_128_GCM_SHA256",
      "TLSv1.3, TLS_AES_256_GCM_SHA384",
      "TLSv1.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
      "TLSv1.2, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"})
  void carriesRecordsOfEverySizeAndRejectsAChangedByte(String protocol, String suite) throws Exception {
    SSLEngine c = config(client, protocol, suite).newEngine(true, "localhost", 4369);
    SSLEngine s = config(server, protocol, suite).newEngine(false, null, -1);
    handshake(c, s);
    assertEquals(protocol, c.getSession().getProtocol());
    assertEquals(suite, c.getSession().getCipherSuite());

    Random random = new Random(42);
    for (int size : new int[] {1, 40, 1024, 16383, 16384, 16385, 100_000}) {
      byte[] plain = new byte[size];
      random.nextBytes(plain);
      assertArrayEquals(plain, unwrapAll(s, wrapAll(c, plain), size), size + " bytes");
      assertArrayEquals(plain, unwrapAll(c, wrapAll(s, plain), size), size + " bytes back");
    }

    ByteBuffer record = wrapAll(c, new byte[100]);
    record.put(record.limit() - 1, (byte) (record.get(record.limit() - 1) ^ 1)); // in the tag
    SSLException e = assertThrows(SSLException.class, () -> unwrapAll(s, record, 100));
    assertTrue(Errors.reasons(e).contains("bad_record_mac"), Errors.reasons(e));
  }

  private static TlsConfig config(TestPki.Issued own, String protocol, String suite) {
    return TlsConfig.builder().certificate(own.certFile(), own.keyFile()).trustedCertificates(ca.certFile())
        .protocols(protocol).cipherSuites(suite).build();
  }

  private static ByteBuffer wrapAll(SSLEngine e, byte[] plain) throws SSLException {
    ByteBuffer src = ByteBuffer.wrap(plain);
    ByteBuffer out = ByteBuffer.allocate(plain.length + 64 * 1024);
    while (src.hasRemaining()) {
      SSLEngineResult r = e.wrap(src, out);
      assertEquals(SSLEngineResult.Status.OK, r.getStatus());
    }
    return out.flip();
  }

  private static byte[] unwrapAll(SSLEngine e, ByteBuffer net, int expected) throws SSLException {
    ByteBuffer app = ByteBuffer.allocate(expected + e.getSession().getApplicationBufferSize());
    while (net.hasRemaining()) {
      SSLEngineResult r = e.unwrap(net, app);
      assertEquals(SSLEngineResult.Status.OK, r.getStatus());
    }
    byte[] got = new byte[app.flip().remaining()];
    app.get(got);
    return got;
  }

  /** Runs the handshake between two engines in memory. */
  private static void handshake(SSLEngine c, SSLEngine s) throws SSLException {
    ByteBuffer toServer = ByteBuffer.allocate(1 << 16);
    ByteBuffer toClient = ByteBuffer.allocate(1 << 16);
    ByteBuffer app = ByteBuffer.allocate(1 << 16);
    c.beginHandshake();
    s.beginHandshake();
    for (int i = 0; i < 100 && !(done(c) && done(s)); i++) {
      step(c, toClient, toServer, app);
      step(s, toServer, toClient, app);
    }
    assertTrue(done(c) && done(s), "the handshake did not complete");
  }

  private static boolean done(SSLEngine e) {
    HandshakeStatus h = e.getHandshakeStatus();
    return h == HandshakeStatus.NOT_HANDSHAKING || h == HandshakeStatus.FINISHED;
  }

  private static void step(SSLEngine e, ByteBuffer in, ByteBuffer out, ByteBuffer app) throws SSLException {
    while (true) {
      switch (e.getHandshakeStatus()) {
        case NEED_TASK -> {
          Runnable t;
          while ((t = e.getDelegatedTask()) != null) {
            t.run();
          }
        }
        case NEED_WRAP -> e.wrap(ByteBuffer.allocate(0), out);
        case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
          in.flip();
          SSLEngineResult r = e.unwrap(in, app);
          in.compact();
          if (r.bytesConsumed() == 0 && r.getHandshakeStatus() == HandshakeStatus.NEED_UNWRAP) {
            return;
          }
        }
        default -> {
          return;
        }
      }
    }
  }
}
