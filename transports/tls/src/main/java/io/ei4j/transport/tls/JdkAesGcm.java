package io.ei4j.transport.tls;

import java.security.GeneralSecurityException;
import java.security.Provider;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.tls.crypto.impl.TlsAEADCipherImpl;

/**
 * AES-GCM for BCJSSE's record layer on a JDK {@link Cipher}, set up for each record with a
 * {@link GCMParameterSpec}.
 *
 * <p>BouncyCastle's own JCA wrapper ({@code JceAEADCipherImpl}) passes each record's nonce
 * through a fresh {@code AlgorithmParameters} object from its JCA provider: a provider
 * lookup, a reflective constructor call and an ASN.1 round trip per record, which cost
 * about as much as encrypting a small record. This class hands the JDK cipher the nonce
 * directly. The record layer calls {@link #init}, then {@link #getOutputSize}, then
 * {@link #doFinal}, once per record; it maps the {@link IllegalStateException} thrown here
 * for a failed decryption (a bad tag) to a {@code bad_record_mac} alert, as it does for
 * BouncyCastle's wrapper. Not thread-safe: BCJSSE uses one instance per direction of one
 * connection, under its own lock.
 */
final class JdkAesGcm implements TlsAEADCipherImpl {
  private final Cipher cipher;
  private final int mode;
  private final int keySize;
  private SecretKeySpec key;
  /** The tag length of the record in progress, in bytes; -1 before the first {@link #init}. */
  private int macSize = -1;

  /**
   * An encrypting or decrypting cipher for keys of {@code keySize} bytes, from
   * {@code provider} (the JDK's SunJCE).
   */
  JdkAesGcm(Provider provider, int keySize, boolean encrypting) throws GeneralSecurityException {
    this.cipher = Cipher.getInstance("AES/GCM/NoPadding", provider);
    this.mode = encrypting ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE;
    this.keySize = keySize;
  }

  @Override
  public void setKey(byte[] bytes, int offset, int length) {
    if (length != keySize) {
      throw new IllegalStateException("an AES key of " + length + " bytes where " + keySize + " were negotiated");
    }
    key = new SecretKeySpec(bytes, offset, length, "AES");
  }

  @Override
  public void init(byte[] nonce, int macSize) {
    try {
      cipher.init(mode, key, new GCMParameterSpec(macSize * 8, nonce));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot start an AES-GCM record: " + e.getMessage(), e);
    }
    this.macSize = macSize;
  }

  @Override
  public int getOutputSize(int inputLength) {
    if (macSize < 0) {
      return cipher.getOutputSize(inputLength); // not initialized: the cipher says why
    }
    return mode == Cipher.ENCRYPT_MODE ? inputLength + macSize : Math.max(0, inputLength - macSize);
  }

  @Override
  public int doFinal(byte[] additionalData, byte[] input, int inputOffset, int inputLength,
      byte[] output, int outputOffset) {
    try {
      if (additionalData != null && additionalData.length > 0) {
        cipher.updateAAD(additionalData);
      }
      return cipher.doFinal(input, inputOffset, inputLength, output, outputOffset);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM record failed: " + e.getMessage(), e);
    }
  }
}
