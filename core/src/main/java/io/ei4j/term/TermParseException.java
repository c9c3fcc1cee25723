package io.ei4j.term;

/**
 * Text that is not a term in the syntax {@link Terms#parse} reads. The message names what was
 * expected, what was found, and the position.
 */
public class TermParseException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final int position;

  public TermParseException(String message, int position) {
    super(message + " at position " + position);
    this.position = position;
  }

  /** The character index in the text where the problem was found. */
  public int position() {
    return position;
  }
}
