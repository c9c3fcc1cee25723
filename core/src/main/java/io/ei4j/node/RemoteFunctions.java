package io.ei4j.node;

import io.ei4j.connect.EiConnection;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Java functions Erlang may call on this node ({@link Node#registerFunction}) and the
 * {@code SPAWN_REQUEST}s that run them: {@code erpc:call}/{@code cast} (which
 * {@code rpc:call} uses) and {@code spawn/4}. Each call is a new process (a
 * {@link Mailbox}) on a thread of its own, at most {@link Node.Builder#maxFunctionThreads}
 * at a time; a request beyond that gets {@code system_limit} at once, as Erlang refuses a
 * spawn when its process table is full.
 */
final class RemoteFunctions {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);

  static final ErlAtom ERPC = ErlAtom.of("erpc");
  static final ErlAtom EXECUTE_CALL = ErlAtom.of("execute_call");
  static final ErlAtom EXECUTE_CAST = ErlAtom.of("execute_cast");
  static final ErlAtom RETURN = ErlAtom.of("return");
  static final ErlAtom UNDEF = ErlAtom.of("undef");
  static final ErlAtom MONITOR = ErlAtom.of("monitor");
  static final ErlAtom LINK = ErlAtom.of("link");

  /** Operation numbers {@code ControlMessages} does not list (yet). */
  static final int SPAWN_REQUEST = 29;
  static final int SPAWN_REQUEST_TT = 30;
  static final int SPAWN_REPLY = 31;

  private static final int SPAWN_REPLY_LINKED = 1;
  private static final int SPAWN_REPLY_MONITORED = 2;

  private final Node node;
  private final ProcessTable table;
  private final Signals signals;
  private final Outgoing out;
  private final Map<String, ErlangFunction> functions = new ConcurrentHashMap<>();
  private final ExecutorService workers;

  RemoteFunctions(Node node, ProcessTable table, Signals signals, Outgoing out, int maxFunctionThreads) {
    this.node = node;
    this.table = table;
    this.signals = signals;
    this.out = out;
    // One thread per running call, up to the limit; beyond it a spawn request is refused
    // with system_limit, as Erlang refuses a spawn when its process table is full.
    this.workers = new ThreadPoolExecutor(0, maxFunctionThreads, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
        node.daemon("ei4j-fn-" + node.nodeName()));
  }

  /** See {@link Node#registerFunction}. */
  void register(String module, String function, int arity, ErlangFunction f) {
    if (arity < 0 || arity > 255) {
      throw new IllegalArgumentException("arity must be 0..255, got " + arity);
    }
    ErlAtom.of(module);
    ErlAtom.of(function);
    functions.put(key(module, function, arity), Objects.requireNonNull(f, "f"));
  }

  void unregister(String module, String function, int arity) {
    functions.remove(key(module, function, arity));
  }

  /** The registered function a call names, else a built-in one ({@link CallTarget#builtin}), else null. */
  private ErlangFunction function(CallTarget t) {
    ErlangFunction fn = functions.get(key(t.module().name(), t.function().name(), t.args().size()));
    return fn != null ? fn : t.builtin();
  }

  /** Runs a task on a function worker; rejected when {@code maxFunctionThreads} are busy. */
  void execute(Runnable task) {
    workers.execute(task);
  }

  private static String key(String m, String f, int arity) {
    return m + ":" + f + "/" + arity;
  }

  /** Stops the running calls' threads (the node is closing). */
  void shutdown() {
    workers.shutdownNow();
  }


  /**
   * {@code {29, ReqId, From, GroupLeader, {M, F, Arity}, OptList}} with the argument list
   * as payload. The new process is a mailbox; the reply
   * {@code {31, ReqId, From, Flags, Pid}} goes out before the function runs, so the
   * requester knows the pid before any exit or {@code 'DOWN'} of it.
   */
  void spawnRequest(EiConnection c, ErlTuple t, ErlTerm payload) {
    if (t.arity() != 6 || !(t.get(1) instanceof ErlRef reqId) || !(t.get(2) instanceof ErlPid from)
        || !(t.get(4) instanceof ErlTuple mfa) || mfa.arity() != 3
        || !(mfa.get(0) instanceof ErlAtom mod) || !(mfa.get(1) instanceof ErlAtom fun)
        || !(t.get(5) instanceof ErlList opts) || !(payload instanceof ErlList args) || !args.isProper()) {
      LOG.debug("{}: malformed SPAWN_REQUEST from {}: {}", node.nodeName(), c.peerNodeName(), t);
      return;
    }
    boolean link = false;
    boolean monitor = false;
    if (opts.isProper()) {
      for (ErlTerm o : opts.elements()) {
        if (LINK.equals(o)) {
          link = true;
        } else if (MONITOR.equals(o) || (o instanceof ErlTuple ot && ot.arity() == 2 && MONITOR.equals(ot.get(0)))) {
          monitor = true;
        }
      }
    }
    if (node.isClosed()) {
      sendSpawnReply(c, reqId, from, 0, ErlAtom.of("system_limit"), out.signalTimeoutMillis());
      return;
    }
    Mailbox self = node.createMailbox();
    int flags = 0;
    if (link) {
      signals.linkAtSpawn(self, from);
      flags |= SPAWN_REPLY_LINKED;
    }
    if (monitor) {
      signals.monitorAtSpawn(self, reqId, from);
      flags |= SPAWN_REPLY_MONITORED;
    }
    int replyFlags = flags;
    List<ErlTerm> argList = args.elements();
    try {
      workers.execute(() -> {
        if (!sendSpawnReply(c, reqId, from, replyFlags, self.pid(), out.sendTimeoutMillis())) {
          self.abandon(Mailbox.NOCONNECTION);
          signals.exited(self, Mailbox.NOCONNECTION);
          return;
        }
        self.close(runSpawned(self, mod, fun, argList));
      });
    } catch (RuntimeException rejected) {
      self.abandon(Mailbox.NOCONNECTION);
      table.removePid(self.pid());
      sendSpawnReply(c, reqId, from, 0, ErlAtom.of("system_limit"), out.signalTimeoutMillis());
    }
  }

  private boolean sendSpawnReply(EiConnection c, ErlRef reqId, ErlPid to, int flags, ErlTerm result, long timeoutMillis) {
    try {
      out.sendControl(c, ErlTuple.of(ErlInteger.of(SPAWN_REPLY), reqId, to, ErlInteger.of(flags), result), null, timeoutMillis);
      return true;
    } catch (IOException e) {
      LOG.debug("{}: SPAWN_REPLY to {} not sent: {}", node.nodeName(), to, e.toString());
      return false;
    }
  }

  /** Runs a spawned process's function and returns its exit reason. */
  private ErlTerm runSpawned(Mailbox self, ErlAtom mod, ErlAtom fun, List<ErlTerm> args) {
    if (ERPC.equals(mod) && EXECUTE_CALL.equals(fun) && args.size() == 4 && args.get(1) instanceof ErlAtom m
        && args.get(2) instanceof ErlAtom f && args.get(3) instanceof ErlList a && a.isProper()) {
      return executeCall(self, args.get(0), m, f, a);
    }
    if (ERPC.equals(mod) && EXECUTE_CAST.equals(fun) && args.size() == 3 && args.get(0) instanceof ErlAtom m
        && args.get(1) instanceof ErlAtom f && args.get(2) instanceof ErlList a && a.isProper()) {
      return plainRun(self, m, f, a);
    }
    return plainRun(self, mod, fun, ErlList.of(args));
  }

  /**
   * What {@code erpc:execute_call/4} makes its process exit with, which the caller's
   * {@code 'DOWN'} carries back: {@code {Ref, return, Value}}, {@code {Ref, throw, Value}},
   * {@code {Ref, exit, Reason}} or {@code {Ref, error, Reason, Stack}}.
   */
  ErlTerm executeCall(Mailbox self, ErlTerm ref, ErlAtom m0, ErlAtom f0, ErlList a0) {
    CallTarget t = CallTarget.of(m0, f0, a0);
    ErlAtom m = t.module();
    ErlAtom f = t.function();
    ErlList a = t.args();
    ErlangFunction fn = function(t);
    if (fn == null) {
      return ErlTuple.of(ref, ErlangException.Kind.ERROR.atom(), UNDEF, undefStack(m, f, a));
    }
    try {
      ErlTerm v = fn.apply(self, a.elements());
      return ErlTuple.of(ref, RETURN, v == null ? ErlAtom.UNDEFINED : v);
    } catch (ErlangException e) {
      return e.kind() == ErlangException.Kind.ERROR
          ? ErlTuple.of(ref, e.kind().atom(), e.reason(), javaStack(m, f, a))
          : ErlTuple.of(ref, e.kind().atom(), e.reason());
    } catch (Exception e) { // an Error fails the node (FailStop)
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return ErlTuple.of(ref, ErlangException.Kind.ERROR.atom(), javaReason(e), javaStack(m, f, a));
    }
  }

  /** A spawned process that is not an erpc call: it exits normal, or with Erlang's crash reason. */
  ErlTerm plainRun(Mailbox self, ErlAtom m0, ErlAtom f0, ErlList a0) {
    CallTarget t = CallTarget.of(m0, f0, a0);
    ErlAtom m = t.module();
    ErlAtom f = t.function();
    ErlList a = t.args();
    ErlangFunction fn = function(t);
    if (fn == null) {
      return ErlTuple.of(UNDEF, undefStack(m, f, a));
    }
    try {
      fn.apply(self, a.elements());
      return Mailbox.NORMAL;
    } catch (ErlangException e) {
      return switch (e.kind()) {
        case EXIT -> e.reason();
        case ERROR -> ErlTuple.of(e.reason(), javaStack(m, f, a));
        case THROW -> ErlTuple.of(ErlTuple.of(ErlAtom.of("nocatch"), e.reason()), javaStack(m, f, a));
      };
    } catch (Exception e) { // an Error fails the node (FailStop)
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return ErlTuple.of(javaReason(e), javaStack(m, f, a));
    }
  }

  private static ErlList undefStack(ErlAtom m, ErlAtom f, ErlList a) {
    return ErlList.of(ErlTuple.of(m, f, a, ErlList.NIL));
  }

  private static ErlList javaStack(ErlAtom m, ErlAtom f, ErlList a) {
    return ErlList.of(ErlTuple.of(m, f, ErlInteger.of(a.size()), ErlList.NIL));
  }

  /** {@code {java_exception, 'java.lang.IllegalStateException', <<"message">>}}. */
  static ErlTerm javaReason(Throwable e) {
    String msg = e.getMessage() == null ? "" : e.getMessage();
    return ErlTuple.of(ErlAtom.of("java_exception"), ErlAtom.of(truncate(e.getClass().getName())),
        ErlBinary.of(msg.getBytes(StandardCharsets.UTF_8)));
  }

  private static String truncate(String s) {
    return s.length() <= ErlAtom.MAX_CHARS ? s : s.substring(0, ErlAtom.MAX_CHARS);
  }
}
