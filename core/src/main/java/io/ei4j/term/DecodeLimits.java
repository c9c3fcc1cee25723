package io.ei4j.term;

/**
 * Bounds that a {@link TermDecoder} enforces on untrusted input before it allocates.
 *
 * @param maxDepth how deeply tuples, lists, maps and funs may nest (a flat list of any length
 *     is depth 1); bounds the decoder's stack use
 * @param maxAtomChars the most code points an atom may have (Erlang's own limit is 255)
 * @param maxInflatedBytes the largest uncompressed size a compressed term (tag 80) may declare;
 *     checked before inflating
 * @param maxTermBytes the most input bytes one term may occupy; every length field is checked
 *     against this and against the bytes actually left before anything is allocated
 */
public record DecodeLimits(int maxDepth, int maxAtomChars, long maxInflatedBytes, long maxTermBytes) {
  /** The largest Java array, and so the largest term or inflated size a decoder can hold: {@value}. */
  public static final int MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;

  /**
   * What an Erlang node accepts: no depth limit (the decoder keeps nesting on the heap, so
   * depth is bounded by the bytes a term occupies), atoms of up to 255 code points, and
   * terms and inflated sizes up to what a Java array holds. Tighter limits are for peers
   * that are not trusted with memory; a term beyond a configured limit ends the connection
   * it came on, and the connection logs the limit's name at WARN.
   */
  public static final DecodeLimits DEFAULT = new DecodeLimits(Integer.MAX_VALUE, 255, MAX_ARRAY_BYTES, MAX_ARRAY_BYTES);

  /**
   * Validates the limits.
   *
   * @throws IllegalArgumentException if a limit is not positive or {@code maxAtomChars} is above
   *     255
   */
  public DecodeLimits {
    if (maxDepth < 1) {
      throw new IllegalArgumentException("maxDepth must be positive: " + maxDepth);
    }
    if (maxAtomChars < 1 || maxAtomChars > ErlAtom.MAX_CHARS) {
      throw new IllegalArgumentException("maxAtomChars must be 1..255: " + maxAtomChars);
    }
    if (maxInflatedBytes < 0) {
      throw new IllegalArgumentException("maxInflatedBytes must not be negative: " + maxInflatedBytes);
    }
    if (maxTermBytes < 1) {
      throw new IllegalArgumentException("maxTermBytes must be positive: " + maxTermBytes);
    }
  }

  /** These limits with another depth limit. */
  public DecodeLimits withMaxDepth(int depth) {
    return new DecodeLimits(depth, maxAtomChars, maxInflatedBytes, maxTermBytes);
  }

  /** These limits with another inflated-size limit. */
  public DecodeLimits withMaxInflatedBytes(long bytes) {
    return new DecodeLimits(maxDepth, maxAtomChars, bytes, maxTermBytes);
  }

  /** These limits with another term-size limit. */
  public DecodeLimits withMaxTermBytes(long bytes) {
    return new DecodeLimits(maxDepth, maxAtomChars, maxInflatedBytes, bytes);
  }
}
