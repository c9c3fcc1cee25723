package io.ei4j.node;

import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;

/**
 * The mailbox is dead: it was closed, or an exit signal it did not trap ended it. Every
 * later receive throws it again, as an Erlang process that has exited receives nothing
 * more.
 */
public final class ExitException extends Exception {
  private static final long serialVersionUID = 1L;

  /** The exit reason (a term; not serializable, so not kept across serialization). */
  private final transient ErlTerm reason;
  /** Who sent the fatal exit signal, or null when the mailbox closed itself. */
  private final transient ErlPid from;

  /**
   * @param from the process whose exit signal ended the mailbox, or null
   * @param reason the exit reason
   */
  public ExitException(ErlPid from, ErlTerm reason) {
    super("mailbox exited with reason " + reason + (from == null ? "" : " (exit signal from " + from + ")"));
    this.from = from;
    this.reason = reason;
  }

  /**
   * The exit reason.
   *
   * @return {@code normal} after {@link Mailbox#close()}, {@code killed} after an
   *     untrappable {@code kill}, {@code noconnection} after the node closed, or the reason
   *     of the exit signal or of {@link Mailbox#close(ErlTerm)}
   */
  public ErlTerm reason() {
    return reason;
  }

  /**
   * Who ended the mailbox.
   *
   * @return the process whose exit signal ended the mailbox, or null when it closed itself
   */
  public ErlPid from() {
    return from;
  }
}
