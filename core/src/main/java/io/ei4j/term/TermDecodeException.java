package io.ei4j.term;

import java.io.IOException;

/**
 * Bytes that are not a valid external-format term, or that exceed a {@link DecodeLimits}
 * bound. The message names what was expected and what was found; {@link #offset()} is where.
 */
public class TermDecodeException extends IOException {
  private static final long serialVersionUID = 1L;

  private final long offset;

  /**
   * @param offset the position in the input (for a compressed term: in the inflated bytes,
   *     as the message says) where the problem is
   */
  public TermDecodeException(String message, long offset) {
    super(message + " (at offset " + offset + ")");
    this.offset = offset;
  }

  /** As {@link #TermDecodeException(String, long)}, with the underlying cause. */
  public TermDecodeException(String message, long offset, Throwable cause) {
    super(message + " (at offset " + offset + ")", cause);
    this.offset = offset;
  }

  /** The byte offset in the decoded input where the problem was found. */
  public long offset() {
    return offset;
  }
}
