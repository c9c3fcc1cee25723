package io.ei4j.transport.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Everything a TLS distribution node needs to know: its certificate and key, the CAs it
 * trusts, and how strictly it checks peers. The Java counterpart of an
 * {@code ssl_dist_optfile}; immutable and safe to share between nodes.
 *
 * <p>Built with {@link #builder()}. {@link Builder#build()} reads and checks every file
 * and key store at once, so a node with a broken setup fails when it is created, with a
 * {@link TlsConfigurationException} that names the file and the problem.
 *
 * <p>Defaults are the strict ones: peers are verified against the configured CAs, a TLS
 * listener requires client certificates ({@link ClientAuth#REQUIRE}), a connecting node
 * checks that the server's certificate names the host part of the node name it dials
 * (and sends that name as SNI), and only TLS 1.3 and 1.2 are spoken. TLS runs on
 * BouncyCastle's JSSE provider (BCJSSE), never on the JDK's, and is never dropped for
 * plaintext.
 *
 * <pre>{@code
 * TlsConfig tls = TlsConfig.builder()
 *     .certificate(Path.of("node.pem"), Path.of("node.key"))   // certfile, keyfile
 *     .trustedCertificates(Path.of("ca.pem"))                  // cacertfile
 *     .build();
 * EiNode node = EiNode.builder("java@myhost").transport(new TlsTransport(tls)).build();
 * }</pre>
 */
public final class TlsConfig {
  /** The protocol versions this transport speaks, newest first. */
  public static final List<String> SUPPORTED_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  private static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
  private static final int DEFAULT_MAX_PENDING_HANDSHAKES = 64;

  private final SSLContext context;
  private final boolean hasCertificate;
  private final boolean verifyPeer;
  private final ClientAuth clientAuth;
  private final boolean checkHostname;
  private final List<String> protocols;
  private final List<String> cipherSuites;
  private final Duration handshakeTimeout;
  private final int maxPendingHandshakes;

  private TlsConfig(Builder b, SSLContext context, List<String> cipherSuites) {
    this.context = context;
    this.hasCertificate = b.certFile != null || b.keyStore != null;
    this.verifyPeer = b.verifyPeer;
    this.clientAuth = b.clientAuth;
    this.checkHostname = b.checkHostname;
    this.protocols = b.protocols;
    this.cipherSuites = cipherSuites;
    this.handshakeTimeout = b.handshakeTimeout;
    this.maxPendingHandshakes = b.maxPendingHandshakes;
  }

  /** A builder with the strict defaults described in the class comment. */
  public static Builder builder() {
    return new Builder();
  }

  /** Whether this node has a certificate to present (required to listen). */
  public boolean hasCertificate() {
    return hasCertificate;
  }

  /** Whether peer certificates are verified against the trusted CAs. */
  public boolean verifyPeer() {
    return verifyPeer;
  }

  /** Whether a listener asks connecting nodes for certificates. */
  public ClientAuth clientAuth() {
    return clientAuth;
  }

  /**
   * Whether a connecting node checks the server certificate against the host it dials and
   * sends that host as SNI. Only meaningful when {@link #verifyPeer()} is on.
   */
  public boolean checkHostname() {
    return checkHostname;
  }

  /** The enabled protocol versions, a non-empty subset of {@link #SUPPORTED_PROTOCOLS}. */
  public List<String> protocols() {
    return protocols;
  }

  /**
   * The enabled cipher suites, in preference order; a listener chooses by this order, not
   * the client's. By default BCJSSE's suites with AES-GCM first.
   */
  public List<String> cipherSuites() {
    return cipherSuites;
  }

  /**
   * The longest a TLS handshake may take in {@code connect} and {@code accept}, also when
   * the caller's timeout is longer or infinite: a peer that connects and never speaks
   * cannot hold a listener for ever.
   */
  public Duration handshakeTimeout() {
    return handshakeTimeout;
  }

  /**
   * How many accepted connections a listener keeps in their TLS handshake at once. A
   * listener drives all of them together, so a silent peer delays no other; when a new
   * connection arrives with this many under way, the least advanced of them (from the
   * address with the most, then the fewest TLS records received, then the oldest) is
   * evicted to make room, and logged at WARN; one that never sent a whole record is kept
   * open, unread, until its handshake timeout, so that its owner has no reason to reconnect
   * at once; one that had sent nothing at all is admitted again if its ClientHello comes
   * after all. Each one is closed anyway when {@link #handshakeTimeout()} runs out.
   */
  public int maxPendingHandshakes() {
    return maxPendingHandshakes;
  }

  /** The BCJSSE context every engine of this configuration comes from. */
  SSLContext context() {
    return context;
  }

  /**
   * A new engine for one connection. A client engine for {@code host} sends it as SNI and
   * checks the server certificate against it when {@link #checkHostname()} is on; an IP
   * literal is checked against the certificate's IP address names and is never sent as SNI.
   */
  SSLEngine newEngine(boolean client, String host, int port) {
    SSLEngine engine = client && host != null ? context.createSSLEngine(host, port) : context.createSSLEngine();
    engine.setUseClientMode(client);
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setProtocols(protocols.toArray(new String[0]));
    parameters.setCipherSuites(cipherSuites.toArray(new String[0]));
    if (client) {
      if (verifyPeer && checkHostname && host != null) {
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
      }
      if (checkHostname && host != null && !isIpLiteral(host)) {
        parameters.setServerNames(List.of(new javax.net.ssl.SNIHostName(host)));
      } else {
        parameters.setServerNames(List.of());
      }
    } else {
      parameters.setUseCipherSuitesOrder(true); // ours: AES-GCM first, see cipherSuites()
    }
    if (!client && verifyPeer) {
      parameters.setNeedClientAuth(clientAuth == ClientAuth.REQUIRE);
      if (clientAuth == ClientAuth.REQUEST) {
        parameters.setWantClientAuth(true);
      }
    }
    engine.setSSLParameters(parameters);
    return engine;
  }

  static boolean isIpLiteral(String host) {
    if (host.indexOf(':') >= 0) {
      return true;
    }
    return !host.isEmpty() && host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
  }

  @Override
  public String toString() {
    return "TlsConfig{certificate=" + hasCertificate + ", verifyPeer=" + verifyPeer
        + ", clientAuth=" + clientAuth + ", checkHostname=" + checkHostname
        + ", protocols=" + protocols + "}";
  }

  /** Collects a configuration; {@link #build()} checks it. Not thread-safe. */
  public static final class Builder {
    private Path certFile;
    private Path keyFile;
    private char[] keyPassword;
    private KeyStore keyStore;
    private char[] keyStorePassword;
    private Path caFile;
    private KeyStore trustStore;
    private boolean verifyPeer = true;
    private ClientAuth clientAuth = ClientAuth.REQUIRE;
    private boolean checkHostname = true;
    private List<String> protocols = SUPPORTED_PROTOCOLS;
    private List<String> cipherSuites;
    private Duration handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;
    private int maxPendingHandshakes = DEFAULT_MAX_PENDING_HANDSHAKES;

    private Builder() {}

    /**
     * This node's certificate and unencrypted private key, as ssl's {@code certfile} and
     * {@code keyfile}. {@code certFile} holds the node certificate first, then any
     * intermediate CA certificates; {@code keyFile} holds one key in PKCS#8 or OpenSSL's
     * traditional RSA/EC form, and may be the same file. Replaces {@link #keyStore}.
     */
    public Builder certificate(Path certFile, Path keyFile) {
      return certificate(certFile, keyFile, null);
    }

    /**
     * As {@link #certificate(Path, Path)}, for an encrypted key ({@code ENCRYPTED PRIVATE
     * KEY}, or a traditional key with a {@code DEK-Info} header), like ssl's
     * {@code password} option. The password is copied.
     */
    public Builder certificate(Path certFile, Path keyFile, char[] password) {
      this.certFile = Objects.requireNonNull(certFile, "certFile");
      this.keyFile = Objects.requireNonNull(keyFile, "keyFile");
      this.keyPassword = password == null ? null : password.clone();
      this.keyStore = null;
      return this;
    }

    /**
     * This node's certificate and key from a key store (PKCS#12, JKS) that holds exactly
     * one private key entry. Replaces {@link #certificate}. The password is copied.
     */
    public Builder keyStore(KeyStore keyStore, char[] password) {
      this.keyStore = Objects.requireNonNull(keyStore, "keyStore");
      this.keyStorePassword = Objects.requireNonNull(password, "password").clone();
      this.certFile = null;
      this.keyFile = null;
      return this;
    }

    /** The CA certificates that peers must chain to, as ssl's {@code cacertfile}. */
    public Builder trustedCertificates(Path caFile) {
      this.caFile = Objects.requireNonNull(caFile, "caFile");
      this.trustStore = null;
      return this;
    }

    /** The CA certificates that peers must chain to, from a key store. */
    public Builder trustStore(KeyStore trustStore) {
      this.trustStore = Objects.requireNonNull(trustStore, "trustStore");
      this.caFile = null;
      return this;
    }

    /**
     * Whether to verify peer certificates (default true: ssl's {@code verify_peer}). Off,
     * any certificate is accepted, no CA is needed, and a listener asks for none: the link
     * is encrypted but not authenticated beyond the cookie.
     */
    public Builder verifyPeer(boolean verifyPeer) {
      this.verifyPeer = verifyPeer;
      return this;
    }

    /** Whether a listener asks for client certificates (default {@link ClientAuth#REQUIRE}). */
    public Builder clientAuth(ClientAuth clientAuth) {
      this.clientAuth = Objects.requireNonNull(clientAuth, "clientAuth");
      return this;
    }

    /**
     * Whether a connecting node sends the host part of the peer's node name as SNI and
     * requires the server certificate to name it (default true). Turn off for setups whose
     * certificates do not name the hosts, such as IP-only clusters without IP SANs.
     */
    public Builder checkHostname(boolean checkHostname) {
      this.checkHostname = checkHostname;
      return this;
    }

    /** The protocol versions to enable, from {@link #SUPPORTED_PROTOCOLS}. */
    public Builder protocols(String... protocols) {
      this.protocols = List.copyOf(new LinkedHashSet<>(Arrays.asList(protocols)));
      return this;
    }

    /**
     * The cipher suites to enable, in preference order, by their IANA names
     * ({@code TLS_AES_128_GCM_SHA256}, {@code TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}).
     * Default: BCJSSE's default suites, AES-GCM first (the cipher the JDK accelerates).
     */
    public Builder cipherSuites(String... cipherSuites) {
      this.cipherSuites = List.copyOf(new LinkedHashSet<>(Arrays.asList(cipherSuites)));
      return this;
    }

    /** See {@link TlsConfig#handshakeTimeout()}; default 10 seconds. */
    public Builder handshakeTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("handshake timeout must be positive: " + timeout);
      }
      this.handshakeTimeout = timeout;
      return this;
    }

    /** See {@link TlsConfig#maxPendingHandshakes()}; at least 1, default 64. */
    public Builder maxPendingHandshakes(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxPendingHandshakes must be at least 1: " + max);
      }
      this.maxPendingHandshakes = max;
      return this;
    }

    /**
     * Reads and checks everything and returns the configuration.
     *
     * @throws TlsConfigurationException naming the file and the problem: a missing or
     *     unreadable file, no certificate or key in it, a key that does not match the
     *     certificate, an expired or not yet valid own certificate, no trusted CA while
     *     {@code verifyPeer} is on, an unsupported protocol or cipher suite
     */
    public TlsConfig build() {
      if (protocols.isEmpty()) {
        throw new TlsConfigurationException("no protocol enabled; use TLSv1.3 and/or TLSv1.2");
      }
      for (String p : protocols) {
        if (!SUPPORTED_PROTOCOLS.contains(p)) {
          throw new TlsConfigurationException("protocol " + p + " is not supported; only " + SUPPORTED_PROTOCOLS);
        }
      }
      Instant now = Instant.now();
      KeyManager[] keyManagers = keyManagers(now);
      TrustManager[] trustManagers = trustManagers();
      SSLContext context;
      try {
        context = SSLContext.getInstance("TLS", Providers.BCJSSE);
        context.init(keyManagers, trustManagers, new SecureRandom());
      } catch (GeneralSecurityException e) {
        throw new TlsConfigurationException("cannot create the BCJSSE TLS context: " + e.getMessage(), e);
      }
      List<String> suites = cipherSuites(context);
      return new TlsConfig(this, context, suites);
    }

    private List<String> cipherSuites(SSLContext context) {
      SSLParameters supported = context.getSupportedSSLParameters();
      Set<String> known = Set.of(supported.getCipherSuites());
      if (cipherSuites == null) {
        return preferAesGcm(context.getDefaultSSLParameters().getCipherSuites());
      }
      if (cipherSuites.isEmpty()) {
        throw new TlsConfigurationException("no cipher suite enabled");
      }
      for (String suite : cipherSuites) {
        if (!known.contains(suite)) {
          throw new TlsConfigurationException("cipher suite " + suite + " is not supported by BCJSSE");
        }
      }
      return cipherSuites;
    }

    /**
     * BCJSSE's default suites, AES-GCM first: that is the cipher the JDK accelerates (see
     * {@link Providers}); the rest keep their order.
     */
    private static List<String> preferAesGcm(String[] suites) {
      List<String> ordered = new java.util.ArrayList<>();
      for (String s : suites) {
        if (s.contains("_AES_") && s.contains("_GCM_")) {
          ordered.add(s);
        }
      }
      for (String s : suites) {
        if (!ordered.contains(s)) {
          ordered.add(s);
        }
      }
      return List.copyOf(ordered);
    }

    private KeyManager[] keyManagers(Instant now) {
      KeyStore store;
      char[] password;
      if (certFile != null) {
        List<X509Certificate> chain = PemFiles.readCertificates(certFile);
        PrivateKey key = PemFiles.readPrivateKey(keyFile, keyPassword);
        PemFiles.checkKeyMatches(keyFile, key, chain.get(0), certFile);
        for (X509Certificate c : chain) {
          PemFiles.checkValidity(certFile, c, now);
        }
        password = new char[0];
        try {
          store = KeyStore.getInstance("PKCS12");
          store.load(null, null);
          store.setKeyEntry("node", key, password, chain.toArray(new Certificate[0]));
        } catch (GeneralSecurityException | IOException e) {
          throw new TlsConfigurationException(certFile, "cannot hold the key and certificate: " + e.getMessage(), e);
        }
      } else if (keyStore != null) {
        store = keyStore;
        password = keyStorePassword;
        checkKeyStore(now);
      } else {
        return null;
      }
      try {
        KeyManagerFactory factory = KeyManagerFactory.getInstance("PKIX", Providers.BCJSSE);
        factory.init(store, password);
        return factory.getKeyManagers();
      } catch (GeneralSecurityException e) {
        throw new TlsConfigurationException(certFile, "cannot use the private key: " + e.getMessage(), e);
      }
    }

    private void checkKeyStore(Instant now) {
      try {
        int keys = 0;
        for (String alias : Collections.list(keyStore.aliases())) {
          if (!keyStore.isKeyEntry(alias)) {
            continue;
          }
          keys++;
          if (keyStore.getKey(alias, keyStorePassword) == null) {
            throw new TlsConfigurationException("key store entry " + alias + " has no private key");
          }
          Certificate[] chain = keyStore.getCertificateChain(alias);
          if (chain == null || chain.length == 0) {
            throw new TlsConfigurationException("key store entry " + alias + " has no certificate chain");
          }
          for (Certificate c : chain) {
            if (c instanceof X509Certificate x) {
              PemFiles.checkValidity(null, x, now);
            }
          }
        }
        if (keys != 1) {
          throw new TlsConfigurationException(
              "the key store must hold exactly one private key entry, it holds " + keys);
        }
      } catch (GeneralSecurityException e) {
        throw new TlsConfigurationException("cannot read the key store: " + e.getMessage(), e);
      }
    }

    private TrustManager[] trustManagers() {
      if (!verifyPeer) {
        return new TrustManager[] {new TrustAll()};
      }
      KeyStore store;
      if (caFile != null) {
        List<X509Certificate> cas = PemFiles.readCertificates(caFile);
        try {
          store = KeyStore.getInstance("PKCS12");
          store.load(null, null);
          int i = 0;
          for (X509Certificate ca : cas) {
            store.setCertificateEntry("ca" + i++, ca);
          }
        } catch (GeneralSecurityException | IOException e) {
          throw new TlsConfigurationException(caFile, "cannot hold the CA certificates: " + e.getMessage(), e);
        }
      } else if (trustStore != null) {
        store = trustStore;
        try {
          if (store.size() == 0) {
            throw new TlsConfigurationException("the trust store holds no certificate");
          }
        } catch (GeneralSecurityException e) {
          throw new TlsConfigurationException("cannot read the trust store: " + e.getMessage(), e);
        }
      } else {
        throw new TlsConfigurationException("verifyPeer is on but no trusted CA is configured: "
            + "call trustedCertificates(caFile) or trustStore(store), or verifyPeer(false)");
      }
      try {
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX", Providers.BCJSSE);
        factory.init(store);
        return factory.getTrustManagers();
      } catch (GeneralSecurityException e) {
        throw new TlsConfigurationException(caFile, "cannot use the CA certificates: " + e.getMessage(), e);
      }
    }
  }

  /** Accepts every peer: what {@code verifyPeer(false)} asks for, and only then. */
  private static final class TrustAll extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
