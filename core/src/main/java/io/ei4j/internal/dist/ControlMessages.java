package io.ei4j.internal.dist;

import io.ei4j.connect.EiMessage;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.Terms;

/**
 * Control messages of the connected state ({@code erl_dist_protocol}, "Protocol between
 * connected nodes"): operation numbers, the tuples this node sends, and the mapping of a
 * received control tuple and payload to an {@link EiMessage}. This is the only table of
 * operation numbers in ei4j: senders build their tuples here, the trace names operations
 * with {@link #opName(int)} and formats messages with {@link #format(ErlTuple, ErlTerm)}.
 *
 * <p>Operations that {@link #decode} hands over as {@link EiMessage.Other}
 * ({@code ALIAS_SEND}, {@code SPAWN_REQUEST}, {@code SPAWN_REPLY}) have typed views here
 * ({@link AliasSend}, {@link SpawnRequest}, {@link SpawnReply}) for the layer that
 * interprets them.
 */
public final class ControlMessages {
  private ControlMessages() {}

  public static final int LINK = 1;
  public static final int SEND = 2;
  public static final int EXIT = 3;
  public static final int UNLINK = 4;
  public static final int REG_SEND = 6;
  public static final int GROUP_LEADER = 7;
  public static final int NODE_LINK = 5;
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
  public static final int SPAWN_REQUEST = 29;
  public static final int SPAWN_REQUEST_TT = 30;
  public static final int SPAWN_REPLY = 31;
  public static final int SPAWN_REPLY_TT = 32;
  public static final int ALIAS_SEND = 33;
  public static final int ALIAS_SEND_TT = 34;
  public static final int UNLINK_ID = 35;
  public static final int UNLINK_ID_ACK = 36;

  /** {@code SPAWN_REPLY}'s flag: the new process is linked to the requester. */
  public static final int SPAWN_REPLY_LINKED = 1;
  /** {@code SPAWN_REPLY}'s flag: the new process is monitored by the requester. */
  public static final int SPAWN_REPLY_MONITORED = 2;

  /** The names of the operations, indexed by number; null where the protocol has none. */
  private static final String[] NAMES = new String[UNLINK_ID_ACK + 1];

  static {
    NAMES[LINK] = "LINK";
    NAMES[SEND] = "SEND";
    NAMES[EXIT] = "EXIT";
    NAMES[UNLINK] = "UNLINK";
    NAMES[NODE_LINK] = "NODE_LINK";
    NAMES[REG_SEND] = "REG_SEND";
    NAMES[GROUP_LEADER] = "GROUP_LEADER";
    NAMES[EXIT2] = "EXIT2";
    NAMES[SEND_TT] = "SEND_TT";
    NAMES[EXIT_TT] = "EXIT_TT";
    NAMES[REG_SEND_TT] = "REG_SEND_TT";
    NAMES[EXIT2_TT] = "EXIT2_TT";
    NAMES[MONITOR_P] = "MONITOR_P";
    NAMES[DEMONITOR_P] = "DEMONITOR_P";
    NAMES[MONITOR_P_EXIT] = "MONITOR_P_EXIT";
    NAMES[SEND_SENDER] = "SEND_SENDER";
    NAMES[SEND_SENDER_TT] = "SEND_SENDER_TT";
    NAMES[PAYLOAD_EXIT] = "PAYLOAD_EXIT";
    NAMES[PAYLOAD_EXIT_TT] = "PAYLOAD_EXIT_TT";
    NAMES[PAYLOAD_EXIT2] = "PAYLOAD_EXIT2";
    NAMES[PAYLOAD_EXIT2_TT] = "PAYLOAD_EXIT2_TT";
    NAMES[PAYLOAD_MONITOR_P_EXIT] = "PAYLOAD_MONITOR_P_EXIT";
    NAMES[SPAWN_REQUEST] = "SPAWN_REQUEST";
    NAMES[SPAWN_REQUEST_TT] = "SPAWN_REQUEST_TT";
    NAMES[SPAWN_REPLY] = "SPAWN_REPLY";
    NAMES[SPAWN_REPLY_TT] = "SPAWN_REPLY_TT";
    NAMES[ALIAS_SEND] = "ALIAS_SEND";
    NAMES[ALIAS_SEND_TT] = "ALIAS_SEND_TT";
    NAMES[UNLINK_ID] = "UNLINK_ID";
    NAMES[UNLINK_ID_ACK] = "UNLINK_ID_ACK";
  }

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

  /** {@code {31, ReqId, To, Flags, Result}}: the answer to a {@link SpawnRequest}. */
  public static ErlTuple spawnReply(ErlRef reqId, ErlPid to, int flags, ErlTerm result) {
    return ErlTuple.of(ErlInteger.of(SPAWN_REPLY), reqId, to, ErlInteger.of(flags), result);
  }

  /**
   * The name of operation {@code op} as {@code erl_dist_protocol} spells it, or
   * {@code OP_<n>} for a number it does not list.
   */
  public static String opName(int op) {
    String name = op >= 0 && op < NAMES.length ? NAMES[op] : null;
    return name != null ? name : "OP_" + op;
  }

  /** The name of the operation of {@code control}, or {@code UNKNOWN} when it has no integer first. */
  public static String opName(ErlTuple control) {
    if (control.arity() == 0 || !(control.get(0) instanceof ErlInteger i) || !i.isInt()) {
      return "UNKNOWN";
    }
    return opName(i.intValue());
  }

  /**
   * A control message for people: {@code NAME {control} payload}, the terms in Erlang
   * syntax ({@link Terms#print}); {@code payload} may be null.
   */
  public static String format(ErlTuple control, ErlTerm payload) {
    StringBuilder sb = new StringBuilder(64);
    sb.append(opName(control)).append(' ').append(Terms.print(control));
    if (payload != null) {
      sb.append(' ').append(Terms.print(payload));
    }
    return sb.toString();
  }

  /**
   * A received message in the form of {@link #format(ErlTuple, ErlTerm)}: the control tuple
   * rebuilt from the record in its plain form (the trace-token and payload variants show as
   * the classic operation they were decoded to).
   */
  public static String format(EiMessage m) {
    if (m instanceof EiMessage.Other o) {
      return format(o.control(), o.payload());
    }
    return format(control(m), payload(m));
  }

  /** The control tuple of the plain operation that {@code m} stands for. */
  public static ErlTuple control(EiMessage m) {
    if (m instanceof EiMessage.Send s) {
      return s.from() == null ? send(s.to()) : sendSender(s.from(), s.to());
    } else if (m instanceof EiMessage.RegSend r) {
      return regSend(r.from(), r.toName());
    } else if (m instanceof EiMessage.Link l) {
      return ErlTuple.of(ErlInteger.of(LINK), l.from(), l.to());
    } else if (m instanceof EiMessage.Unlink u) {
      return u.id() == 0 ? ErlTuple.of(ErlInteger.of(UNLINK), u.from(), u.to())
          : ErlTuple.of(ErlInteger.of(UNLINK_ID), ErlInteger.of(u.id()), u.from(), u.to());
    } else if (m instanceof EiMessage.Exit e) {
      return ErlTuple.of(ErlInteger.of(EXIT), e.from(), e.to(), e.reason());
    } else if (m instanceof EiMessage.Exit2 e) {
      return ErlTuple.of(ErlInteger.of(EXIT2), e.from(), e.to(), e.reason());
    } else if (m instanceof EiMessage.GroupLeader g) {
      return ErlTuple.of(ErlInteger.of(GROUP_LEADER), g.from(), g.to());
    } else if (m instanceof EiMessage.Monitor mo) {
      return ErlTuple.of(ErlInteger.of(MONITOR_P), mo.from(), mo.toProc(), mo.ref());
    } else if (m instanceof EiMessage.Demonitor d) {
      return ErlTuple.of(ErlInteger.of(DEMONITOR_P), d.from(), d.toProc(), d.ref());
    } else if (m instanceof EiMessage.MonitorExit x) {
      return ErlTuple.of(ErlInteger.of(MONITOR_P_EXIT), x.fromProc(), x.to(), x.ref(), x.reason());
    }
    return ((EiMessage.Other) m).control();
  }

  /** The payload term of {@code m}, or null when its plain operation carries none. */
  public static ErlTerm payload(EiMessage m) {
    if (m instanceof EiMessage.Send s) {
      return s.message();
    } else if (m instanceof EiMessage.RegSend r) {
      return r.message();
    } else if (m instanceof EiMessage.Other o) {
      return o.payload();
    }
    return null;
  }

  /**
   * {@code ALIAS_SEND} (op 33, or 34 with a trace token): {@code {33, FromPid, Alias}}
   * with the message as payload. {@code from} is not checked: delivery needs only the
   * alias.
   */
  public record AliasSend(ErlTerm from, ErlRef alias, ErlTerm message) {
    /** The typed view of {@code o}, or null when it is no well-formed {@code ALIAS_SEND}. */
    public static AliasSend of(EiMessage.Other o) {
      ErlTuple t = o.control();
      int op = op(t);
      if ((op == ALIAS_SEND || op == ALIAS_SEND_TT) && t.arity() >= 3
          && t.get(2) instanceof ErlRef alias && o.payload() != null) {
        return new AliasSend(t.get(1), alias, o.payload());
      }
      return null;
    }
  }

  /**
   * {@code SPAWN_REQUEST} (op 29, or 30 with a trace token):
   * {@code {29, ReqId, From, GroupLeader, {Module, Function, Arity}, OptList}} with the
   * argument list as payload.
   */
  public record SpawnRequest(ErlRef reqId, ErlPid from, ErlTerm groupLeader, ErlAtom module, ErlAtom function,
      ErlList options, ErlList args) {
    /**
     * The typed view of {@code o}, or null when it is no well-formed {@code SPAWN_REQUEST}
     * (the checks {@code Node} makes: a proper argument list, an options list, atoms for
     * module and function).
     */
    public static SpawnRequest of(EiMessage.Other o) {
      ErlTuple t = o.control();
      int op = op(t);
      int arity = op == SPAWN_REQUEST ? 6 : 7; // the _TT form carries the token last
      if ((op == SPAWN_REQUEST || op == SPAWN_REQUEST_TT) && t.arity() == arity
          && t.get(1) instanceof ErlRef reqId && t.get(2) instanceof ErlPid from
          && t.get(4) instanceof ErlTuple mfa && mfa.arity() == 3
          && mfa.get(0) instanceof ErlAtom mod && mfa.get(1) instanceof ErlAtom fun
          && t.get(5) instanceof ErlList opts && o.payload() instanceof ErlList args && args.isProper()) {
        return new SpawnRequest(reqId, from, t.get(3), mod, fun, opts, args);
      }
      return null;
    }
  }

  /**
   * {@code SPAWN_REPLY} (op 31, or 32 with a trace token):
   * {@code {31, ReqId, To, Flags, Result}}, the result the new pid or an error atom.
   */
  public record SpawnReply(ErlRef reqId, ErlPid to, int flags, ErlTerm result) {
    /** The typed view of {@code o}, or null when it is no well-formed {@code SPAWN_REPLY}. */
    public static SpawnReply of(EiMessage.Other o) {
      ErlTuple t = o.control();
      int op = op(t);
      if ((op == SPAWN_REPLY || op == SPAWN_REPLY_TT) && t.arity() >= 5 && t.get(1) instanceof ErlRef reqId
          && t.get(2) instanceof ErlPid to && t.get(3) instanceof ErlInteger f && f.isInt()) {
        return new SpawnReply(reqId, to, f.intValue(), t.get(4));
      }
      return null;
    }
  }

  /** The operation number of {@code t}, or -1 when its first element is no small integer. */
  private static int op(ErlTuple t) {
    return t.arity() > 0 && t.get(0) instanceof ErlInteger i && i.isInt() ? i.intValue() : -1;
  }

  /**
   * For a raw receive, which leaves a message's payload undecoded: the {@link EiMessage.Send}
   * or {@link EiMessage.RegSend} that {@code control} addresses, with a null message; null
   * for any other control message (a signal, or a malformed message), whose payload is then
   * decoded as {@link #decode} needs it.
   */
  public static EiMessage rawMessage(ErlTerm control) {
    if (!(control instanceof ErlTuple t) || t.arity() < 3 || !(t.get(0) instanceof ErlInteger opTerm) || !opTerm.isLong()) {
      return null;
    }
    return message(t, opTerm.longValue(), null);
  }

  /**
   * The {@link EiMessage.Send} or {@link EiMessage.RegSend} carrying {@code payload} (null
   * for a raw receive) that control tuple {@code t}, of operation {@code op}, stands for;
   * null for another operation or fields of other types. The one definition of a message's
   * control tuple, for {@link #decode} and {@link #rawMessage}.
   */
  private static EiMessage message(ErlTuple t, long op, ErlTerm payload) {
    if (t.arity() < 3) {
      return null;
    }
    if ((op == SEND || op == SEND_TT) && t.get(2) instanceof ErlPid to) {
      return new EiMessage.Send(null, to, payload);
    }
    if ((op == SEND_SENDER || op == SEND_SENDER_TT) && t.get(1) instanceof ErlPid from && t.get(2) instanceof ErlPid to) {
      return new EiMessage.Send(from, to, payload);
    }
    if ((op == REG_SEND || op == REG_SEND_TT) && t.arity() >= 4 && t.get(1) instanceof ErlPid from && t.get(3) instanceof ErlAtom name) {
      return new EiMessage.RegSend(from, name, payload);
    }
    return null;
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
    if (payload != null) {
      EiMessage m = message(t, op, payload);
      if (m != null) {
        return m;
      }
    }
    try {
      switch ((int) op) {
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
