package io.ei4j.connect;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;

/**
 * A message that arrived on an {@link EiConnection}: one distribution control message
 * and its payload, decoded. Ticks never show up here, and neither do the messages the
 * connection answers itself ({@code net_kernel}'s {@code is_auth} check, replies to
 * {@link EiConnection#rpc}).
 *
 * <p>The trace-token variants ({@code SEND_TT}, {@code EXIT_TT}, ...) arrive as their
 * plain forms; the payload variants of {@code EXIT}, {@code EXIT2} and
 * {@code MONITOR_P_EXIT} (reason in the payload) arrive as the same records as the
 * classic ones. Anything else is an {@link Other}.
 */
public sealed interface EiMessage {

  /**
   * {@code SEND} (op 2) or {@code SEND_SENDER} (op 22): {@code message} sent to the pid
   * {@code to}. {@code from} is the sender for {@code SEND_SENDER}, else null.
   */
  record Send(ErlPid from, ErlPid to, ErlTerm message) implements EiMessage {}

  /** {@code REG_SEND} (op 6): {@code message} from {@code from} to the name {@code toName}. */
  record RegSend(ErlPid from, ErlAtom toName, ErlTerm message) implements EiMessage {}

  /** {@code LINK} (op 1): {@code from} linked itself to {@code to}. */
  record Link(ErlPid from, ErlPid to) implements EiMessage {}

  /**
   * {@code UNLINK_ID} (op 35), whose {@code UNLINK_ID_ACK} the connection has already
   * sent, or the obsolete {@code UNLINK} (op 4), which has {@code id} 0.
   */
  record Unlink(ErlPid from, ErlPid to, long id) implements EiMessage {}

  /** {@code EXIT} (op 3, or 24 with the reason as payload): a linked process exited. */
  record Exit(ErlPid from, ErlPid to, ErlTerm reason) implements EiMessage {}

  /** {@code EXIT2} (op 8, or 26): {@code exit(To, Reason)} called by {@code from}. */
  record Exit2(ErlPid from, ErlPid to, ErlTerm reason) implements EiMessage {}

  /** {@code GROUP_LEADER} (op 7): {@code from} made itself the group leader of {@code to}. */
  record GroupLeader(ErlPid from, ErlPid to) implements EiMessage {}

  /**
   * {@code MONITOR_P} (op 19): {@code from} monitors {@code toProc}, a pid or a
   * registered name (an atom).
   */
  record Monitor(ErlPid from, ErlTerm toProc, ErlRef ref) implements EiMessage {}

  /** {@code DEMONITOR_P} (op 20). */
  record Demonitor(ErlPid from, ErlTerm toProc, ErlRef ref) implements EiMessage {}

  /** {@code MONITOR_P_EXIT} (op 21, or 28): the monitored {@code fromProc} went away. */
  record MonitorExit(ErlTerm fromProc, ErlPid to, ErlRef ref, ErlTerm reason) implements EiMessage {}

  /**
   * Any other control message, undecoded: the control tuple and the payload (null when
   * the frame had none).
   */
  record Other(ErlTuple control, ErlTerm payload) implements EiMessage {}
}
