package io.ei4j.internal.dist;

import io.ei4j.connect.EiMessage;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;

/**
 * Control messages of the connected state ({@code erl_dist_protocol}, "Protocol between
 * connected nodes"): operation numbers, the tuples this node sends, and the mapping of a
 * received control tuple and payload to an {@link EiMessage}.
 */
public final class ControlMessages {
  private ControlMessages() {}

  public static final int LINK = 1;
  public static final int SEND = 2;
  public static final int EXIT = 3;
  public static final int UNLINK = 4;
  public static final int REG_SEND = 6;
  public static final int GROUP_LEADER = 7;
  public static final int EXIT2 = 8;
  public static final int SEND_TT = 12;
  public static final int EXIT_TT = 13;
  public static final int REG_SEND_TT = 16;
  public static final int EXIT2_TT = 18;
  public static final int MONITOR_P = 19;
  public static final int DEMONITOR_P = 20;
  public static final int MONITOR_P_EXIT = 21;
  public static final int SEND_SENDER = 22;
  public static final int SEND_SENDER_TT = 23;
  public static final int PAYLOAD_EXIT = 24;
  public static final int PAYLOAD_EXIT_TT = 25;
  public static final int PAYLOAD_EXIT2 = 26;
  public static final int PAYLOAD_EXIT2_TT = 27;
  public static final int PAYLOAD_MONITOR_P_EXIT = 28;
  public static final int UNLINK_ID = 35;
  public static final int UNLINK_ID_ACK = 36;

  /** The empty atom that fills the unused fields of SEND and REG_SEND. */
  public static final ErlAtom UNUSED = ErlAtom.of("");

  public static ErlTuple send(ErlPid to) {
    return ErlTuple.of(ErlInteger.of(SEND), UNUSED, to);
  }

  public static ErlTuple sendSender(ErlPid from, ErlPid to) {
    return ErlTuple.of(ErlInteger.of(SEND_SENDER), from, to);
  }

  public static ErlTuple regSend(ErlPid from, ErlAtom toName) {
    return ErlTuple.of(ErlInteger.of(REG_SEND), from, UNUSED, toName);
  }

  public static ErlTuple unlinkIdAck(long id, ErlPid from, ErlPid to) {
    return ErlTuple.of(ErlInteger.of(UNLINK_ID_ACK), ErlInteger.of(id), from, to);
  }

  /**
   * The message a control tuple and payload stand for; an {@link EiMessage.Other} for an
   * operation this node does not interpret or a tuple whose fields are not of the
   * expected types.
   *
   * @param payload null when the frame had no payload term
   */
  public static EiMessage decode(ErlTerm control, ErlTerm payload) {
    if (!(control instanceof ErlTuple t) || t.arity() < 1 || !(t.get(0) instanceof ErlInteger opTerm) || !opTerm.isLong()) {
      return new EiMessage.Other(control instanceof ErlTuple t2 ? t2 : ErlTuple.of(control), payload);
    }
    long op = opTerm.longValue();
    try {
      switch ((int) op) {
        case SEND, SEND_TT:
          if (payload != null && t.arity() >= 3) {
            return new EiMessage.Send(null, (ErlPid) t.get(2), payload);
          }
          break;
        case SEND_SENDER, SEND_SENDER_TT:
          if (payload != null && t.arity() >= 3) {
            return new EiMessage.Send((ErlPid) t.get(1), (ErlPid) t.get(2), payload);
          }
          break;
        case REG_SEND, REG_SEND_TT:
          if (payload != null && t.arity() >= 4) {
            return new EiMessage.RegSend((ErlPid) t.get(1), (ErlAtom) t.get(3), payload);
          }
          break;
        case LINK:
          if (t.arity() == 3) {
            return new EiMessage.Link((ErlPid) t.get(1), (ErlPid) t.get(2));
          }
          break;
        case UNLINK:
          if (t.arity() == 3) {
            return new EiMessage.Unlink((ErlPid) t.get(1), (ErlPid) t.get(2), 0);
          }
          break;
        case UNLINK_ID:
          if (t.arity() == 4) {
            return new EiMessage.Unlink((ErlPid) t.get(2), (ErlPid) t.get(3), ((ErlInteger) t.get(1)).longValue());
          }
          break;
        case EXIT:
          if (t.arity() == 4) {
            return new EiMessage.Exit((ErlPid) t.get(1), (ErlPid) t.get(2), t.get(3));
          }
          break;
        case EXIT_TT:
          if (t.arity() == 5) {
            return new EiMessage.Exit((ErlPid) t.get(1), (ErlPid) t.get(2), t.get(4));
          }
          break;
        case PAYLOAD_EXIT, PAYLOAD_EXIT_TT:
          if (payload != null && t.arity() >= 3) {
            return new EiMessage.Exit((ErlPid) t.get(1), (ErlPid) t.get(2), payload);
          }
          break;
        case EXIT2:
          if (t.arity() == 4) {
            return new EiMessage.Exit2((ErlPid) t.get(1), (ErlPid) t.get(2), t.get(3));
          }
          break;
        case EXIT2_TT:
          if (t.arity() == 5) {
            return new EiMessage.Exit2((ErlPid) t.get(1), (ErlPid) t.get(2), t.get(4));
          }
          break;
        case PAYLOAD_EXIT2, PAYLOAD_EXIT2_TT:
          if (payload != null && t.arity() >= 3) {
            return new EiMessage.Exit2((ErlPid) t.get(1), (ErlPid) t.get(2), payload);
          }
          break;
        case GROUP_LEADER:
          if (t.arity() == 3) {
            return new EiMessage.GroupLeader((ErlPid) t.get(1), (ErlPid) t.get(2));
          }
          break;
        case MONITOR_P:
          if (t.arity() == 4) {
            return new EiMessage.Monitor((ErlPid) t.get(1), t.get(2), (ErlRef) t.get(3));
          }
          break;
        case DEMONITOR_P:
          if (t.arity() == 4) {
            return new EiMessage.Demonitor((ErlPid) t.get(1), t.get(2), (ErlRef) t.get(3));
          }
          break;
        case MONITOR_P_EXIT:
          if (t.arity() == 5) {
            return new EiMessage.MonitorExit(t.get(1), (ErlPid) t.get(2), (ErlRef) t.get(3), t.get(4));
          }
          break;
        case PAYLOAD_MONITOR_P_EXIT:
          if (payload != null && t.arity() == 4) {
            return new EiMessage.MonitorExit(t.get(1), (ErlPid) t.get(2), (ErlRef) t.get(3), payload);
          }
          break;
        default:
          break;
      }
    } catch (ClassCastException | ArithmeticException malformed) {
      // A field of an unexpected type: hand the message over undecoded.
    }
    return new EiMessage.Other(t, payload);
  }
}
