package io.ei4j.node;

/**
 * What the AF_UNIX transport's tests need to see of a {@link Mailbox} that core keeps
 * package-private: whether a receiver reads a connection itself.
 */
public final class MailboxProbe {
  private MailboxProbe() {}

  /** {@link Mailbox#readsConnection()}. */
  public static boolean readsConnection(Mailbox m) {
    return m.readsConnection();
  }
}
