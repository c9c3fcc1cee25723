package io.ei4j.internal.node;

/**
 * Argument checks shared by {@code EiNode.Builder}, {@code Node.Builder} and
 * {@code Mailbox}, so that the same option is refused with the same message wherever it is
 * given.
 */
public final class Checks {
  private Checks() {}

  /**
   * Checks a queue limit: of a connection's receive queue or of a mailbox.
   *
   * @param messages the limit asked for
   * @return {@code messages}, when it is at least 1
   * @throws IllegalArgumentException when it is below 1
   */
  public static int queueLength(int messages) {
    if (messages < 1) {
      throw new IllegalArgumentException("maxQueueLength must be at least 1, got " + messages);
    }
    return messages;
  }
}
