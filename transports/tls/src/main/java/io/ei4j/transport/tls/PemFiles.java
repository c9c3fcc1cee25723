package io.ei4j.transport.tls;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMDecryptorProvider;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.InputDecryptorProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;

/**
 * Reads the PEM files an {@code ssl_dist_optfile} names ({@code certfile}, {@code keyfile},
 * {@code cacertfile}) and checks what it read, reporting every problem as a
 * {@link TlsConfigurationException} that names the file.
 *
 * <p>Private keys may be PKCS#8 ({@code PRIVATE KEY}, {@code ENCRYPTED PRIVATE KEY}) or
 * OpenSSL's traditional RSA and EC forms ({@code RSA PRIVATE KEY}, {@code EC PRIVATE KEY},
 * optionally encrypted with a {@code DEK-Info} header). Decryption runs on BouncyCastle's
 * provider (OpenSSL's cipher names are its names); nothing is registered globally.
 */
final class PemFiles {
  /** PEM files larger than this are not key material; refuse them before reading. */
  static final long MAX_PEM_BYTES = 4L * 1024 * 1024;

  private PemFiles() {}

  /** All certificates in {@code file}, in file order; at least one. */
  static List<X509Certificate> readCertificates(Path file) {
    List<X509Certificate> certificates = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    try (PEMParser parser = new PEMParser(open(file))) {
      Object o;
      while ((o = parser.readObject()) != null) {
        if (o instanceof X509CertificateHolder holder) {
          certificates.add(converter.getCertificate(holder));
        }
      }
    } catch (CertificateException | IOException e) {
      throw new TlsConfigurationException(file, "not a readable PEM certificate file: " + e.getMessage(), e);
    } catch (TlsConfigurationException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new TlsConfigurationException(file, "malformed PEM certificate data: " + e.getMessage(), e);
    }
    if (certificates.isEmpty()) {
      throw new TlsConfigurationException(file, "contains no PEM CERTIFICATE block");
    }
    return certificates;
  }

  /**
   * The one private key in {@code file}.
   *
   * @param password the password of an encrypted key, or null for an unencrypted one
   */
  static PrivateKey readPrivateKey(Path file, char[] password) {
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    PrivateKey key = null;
    try (PEMParser parser = new PEMParser(open(file))) {
      Object o;
      while ((o = parser.readObject()) != null) {
        PrivateKey found = null;
        if (o instanceof PrivateKeyInfo info) {
          found = converter.getPrivateKey(info);
        } else if (o instanceof PEMKeyPair pair) {
          found = converter.getPrivateKey(pair.getPrivateKeyInfo()); // SEC1 may omit the public key
        } else if (o instanceof PKCS8EncryptedPrivateKeyInfo encrypted) {
          InputDecryptorProvider decryptor = new JceOpenSSLPKCS8DecryptorProviderBuilder()
              .setProvider(Providers.BC).build(requirePassword(file, password));
          found = converter.getPrivateKey(encrypted.decryptPrivateKeyInfo(decryptor));
        } else if (o instanceof PEMEncryptedKeyPair encrypted) {
          PEMDecryptorProvider decryptor = new JcePEMDecryptorProviderBuilder()
              .setProvider(Providers.BC).build(requirePassword(file, password));
          found = converter.getPrivateKey(encrypted.decryptKeyPair(decryptor).getPrivateKeyInfo());
        } else if (o instanceof ASN1ObjectIdentifier) {
          continue; // an "EC PARAMETERS" block, as openssl ecparam writes before the key
        }
        if (found != null) {
          if (key != null) {
            throw new TlsConfigurationException(file, "contains more than one private key");
          }
          key = found;
        }
      }
    } catch (PKCSException | OperatorCreationException e) {
      throw new TlsConfigurationException(file, "cannot decrypt the private key (wrong password?)", e);
    } catch (PEMException e) {
      throw new TlsConfigurationException(file, "cannot read the private key: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new TlsConfigurationException(file, "not a readable PEM key file: " + e.getMessage(), e);
    } catch (TlsConfigurationException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new TlsConfigurationException(file, "malformed PEM key data: " + e.getMessage(), e);
    }
    if (key == null) {
      throw new TlsConfigurationException(
          file, "contains no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block)");
    }
    return key;
  }

  private static char[] requirePassword(Path file, char[] password) {
    if (password == null) {
      throw new TlsConfigurationException(file, "the private key is encrypted but no password was given");
    }
    return password;
  }

  private static Reader open(Path file) throws IOException {
    try {
      long size = Files.size(file);
      if (size > MAX_PEM_BYTES) {
        throw new TlsConfigurationException(
            file, "is " + size + " bytes, more than the " + MAX_PEM_BYTES + " a PEM file may have");
      }
      return Files.newBufferedReader(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new TlsConfigurationException(file, "file not found", e);
    } catch (java.nio.file.AccessDeniedException e) {
      throw new TlsConfigurationException(file, "permission denied: this user cannot read it", e);
    }
  }

  /**
   * Fails unless {@code key} is the private half of {@code certificate}'s public key:
   * RSA keys compare moduli, other keys sign a random message that the certificate's key
   * must verify.
   */
  static void checkKeyMatches(Path keyFile, PrivateKey key, X509Certificate certificate, Path certFile) {
    PublicKey publicKey = certificate.getPublicKey();
    String problem = "the private key in " + keyFile + " does not match the certificate "
        + certificate.getSubjectX500Principal().getName();
    if (!publicKey.getAlgorithm().equals(key.getAlgorithm())
        && !(key.getAlgorithm().startsWith("EC") && publicKey.getAlgorithm().startsWith("EC"))) {
      throw new TlsConfigurationException(certFile, problem + " (a " + key.getAlgorithm()
          + " key for a " + publicKey.getAlgorithm() + " certificate)");
    }
    if (key instanceof RSAPrivateCrtKey rsa && publicKey instanceof RSAPublicKey rsaPublic) {
      if (!rsa.getModulus().equals(rsaPublic.getModulus())) {
        throw new TlsConfigurationException(certFile, problem);
      }
      return;
    }
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC", "ECDSA" -> "SHA256withECDSA";
      case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
      case "DSA" -> "SHA256withDSA";
      default -> null;
    };
    if (algorithm == null) {
      return; // a key type without a signature check here (RSASSA-PSS); the handshake will tell
    }
    try {
      byte[] message = new byte[32];
      new SecureRandom().nextBytes(message);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(message);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(message);
      if (!verifier.verify(signature)) {
        throw new TlsConfigurationException(certFile, problem);
      }
    } catch (GeneralSecurityException e) {
      throw new TlsConfigurationException(certFile, problem + ": " + e.getMessage(), e);
    }
  }

  /** Fails when {@code certificate} is expired or not yet valid at {@code now}. */
  static void checkValidity(Path file, X509Certificate certificate, Instant now) {
    try {
      certificate.checkValidity(Date.from(now));
    } catch (CertificateExpiredException e) {
      throw new TlsConfigurationException(file, "the certificate "
          + certificate.getSubjectX500Principal().getName() + " expired on "
          + certificate.getNotAfter().toInstant(), e);
    } catch (CertificateNotYetValidException e) {
      throw new TlsConfigurationException(file, "the certificate "
          + certificate.getSubjectX500Principal().getName() + " is not valid before "
          + certificate.getNotBefore().toInstant(), e);
    }
  }
}
