package io.ei4j.node;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.io.IOException;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's {@code rex} server: what Erlang's {@code rpc} module runs on every node, backed
 * by the functions of {@link Node#registerFunction} (the same ones spawn requests run), so
 * that the callers that still go through {@code rex} reach Java functions: C
 * {@code ei_rpc} and {@code erl_call -a}, JInterface's {@code OtpConnection.sendRPC}, ei4j's
 * own {@code EiConnection.rpc}, {@code rpc:block_call}, {@code rpc:cast} and
 * {@link Node#rpc}.
 *
 * <p>Requests, as OTP's {@code rpc.erl} takes them:
 * <ul>
 *   <li>{@code {'$gen_call', From, {call, M, F, A, GroupLeader}}} (also {@code block_call}):
 *       answered with {@code gen_server:reply(From, Result)};
 *   <li>{@code {Pid, {call, M, F, A, GroupLeader}}}, the form of C nodes and JInterface:
 *       answered with {@code Pid ! {rex, Result}};
 *   <li>{@code {'$gen_cast', {cast, M, F, A, GroupLeader}}}: run, no answer;
 *   <li>{@code {Pid, features_request}}: {@code {features_reply, Node, [erpc]}};
 *   <li>{@code {Pid, {send, Name, Msg}}} and {@code {Pid, {sbcast, Name, Msg}}}: delivered to
 *       the local name, as {@code rpc} does for {@code rpc:send}/{@code sbcast};
 *   <li>{@code {io_request, From, ReplyAs, Request}} from processes that {@link Node#erpc}
 *       spawned on other nodes with rex as their group leader: output is logged and
 *       acknowledged, input refused ({@code {error, enotsup}}).
 * </ul>
 * {@code Result} is what {@code rpc:call} returns: the value, a thrown value as is,
 * {@code {badrpc, {'EXIT', Reason}}} for an exit and {@code {badrpc, {'EXIT', {Reason, Stack}}}}
 * for an error (so an unknown function gives {@code {badrpc, {'EXIT', {undef, [{M, F, A, []}]}}}}
 * at once). The group leader is ignored: a Java function has no I/O to redirect.
 *
 * <p>Each call runs on a worker thread of the node as a process of its own (a fresh
 * {@link Mailbox}), as {@code rex} spawns one per call; when {@link Node.Builder#maxFunctionThreads}
 * are busy the call is answered {@code {badrpc, {'EXIT', system_limit}}}, which is what
 * {@code rex} answers when its spawn fails. The server's own thread only reads requests and
 * hands them on, so a slow function never holds up other calls.
 *
 * <p>The server is a mailbox registered as {@code rex}; {@code gen_server:call({rex, Node}, ...)}
 * can monitor it. It ends with the node; closing it ({@code node.whereis("rex").close()})
 * frees the name for an application's own {@code rex}.
 */
final class RexServer implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(RexServer.class);

  /** The registered name: {@value}. */
  static final String NAME = "rex";
  static final ErlAtom REX = ErlAtom.of(NAME);
  static final ErlAtom CALL = ErlAtom.of("call");
  static final ErlAtom BLOCK_CALL = ErlAtom.of("block_call");
  static final ErlAtom CAST = ErlAtom.of("cast");
  static final ErlAtom BADRPC = ErlAtom.of("badrpc");
  static final ErlAtom EXIT = ErlAtom.of("EXIT");
  private static final ErlAtom FEATURES_REQUEST = ErlAtom.of("features_request");
  private static final ErlAtom FEATURES_REPLY = ErlAtom.of("features_reply");
  private static final ErlAtom SEND = ErlAtom.of("send");
  private static final ErlAtom SBCAST = ErlAtom.of("sbcast");
  private static final ErlAtom NONEXISTING_NAME = ErlAtom.of("nonexisting_name");
  private static final ErlAtom SYSTEM_LIMIT = ErlAtom.of("system_limit");
  private static final ErlAtom IO_REQUEST = ErlAtom.of("io_request");
  private static final ErlAtom IO_REPLY = ErlAtom.of("io_reply");
  private static final ErlAtom PUT_CHARS = ErlAtom.of("put_chars");
  private static final ErlAtom REQUESTS = ErlAtom.of("requests");
  private static final ErlAtom ENOTSUP = ErlAtom.of("enotsup");
  private static final ErlAtom OK = ErlAtom.of("ok");
  private static final ErlAtom THROW = ErlangException.Kind.THROW.atom();
  private static final ErlAtom EXIT_CLASS = ErlangException.Kind.EXIT.atom();
  private static final ErlAtom ERROR_CLASS = ErlangException.Kind.ERROR.atom();

  private final Node node;
  private final Mailbox box;

  private RexServer(Node node, Mailbox box) {
    this.node = node;
    this.box = box;
  }

  /**
   * Registers {@code rex} on {@code node} and starts its thread.
   *
   * @param node the node, open
   * @return the server
   */
  static RexServer start(Node node) {
    RexServer rex = new RexServer(node, node.createMailbox(NAME));
    Thread t = new Thread(rex, "ei4j-rex-" + node.nodeName());
    t.setDaemon(true);
    t.start();
    return rex;
  }

  @Override
  public void run() {
    while (true) {
      ErlTerm m;
      try {
        m = box.receive();
      } catch (ExitException | InterruptedException e) {
        return; // the node closed, or someone closed rex
      }
      try {
        handle(m);
      } catch (RuntimeException e) {
        LOG.warn("{}: rex dropped a malformed request {}: {}", node.nodeName(), m, e.toString());
      }
    }
  }

  private void handle(ErlTerm m) {
    GenServer.Call gc = GenServer.Call.of(m).orElse(null);
    if (gc != null) {
      if (gc.request() instanceof ErlTuple r && r.arity() == 5 && (CALL.equals(r.get(0)) || BLOCK_CALL.equals(r.get(0)))
          && r.get(1) instanceof ErlAtom mod && r.get(2) instanceof ErlAtom fun && r.get(3) instanceof ErlList args && args.isProper()) {
        call(mod, fun, args, (self, result) -> gc.reply(self, result));
      } else {
        LOG.debug("{}: rex ignored the call {}", node.nodeName(), gc.request()); // as rpc.erl: no reply
      }
      return;
    }
    if (m instanceof ErlTuple io && io.arity() == 4 && IO_REQUEST.equals(io.get(0)) && io.get(1) instanceof ErlPid from) {
      reply(from, ErlTuple.of(IO_REPLY, io.get(2), io(io.get(3))));
      return;
    }
    if (m instanceof ErlTuple sr && sr.arity() == 4 && RemoteCalls.SPAWN_REPLY.equals(sr.get(0))) {
      return; // the reply to an erpc cast, which this server sent
    }
    if (!(m instanceof ErlTuple t) || t.arity() != 2) {
      LOG.debug("{}: rex ignored {}", node.nodeName(), m);
      return;
    }
    if (GenServer.GEN_CAST.equals(t.get(0))) {
      if (t.get(1) instanceof ErlTuple r && r.arity() == 5 && CAST.equals(r.get(0)) && r.get(1) instanceof ErlAtom mod
          && r.get(2) instanceof ErlAtom fun && r.get(3) instanceof ErlList args && args.isProper()) {
        cast(mod, fun, args);
      }
      return;
    }
    if (!(t.get(0) instanceof ErlPid from)) {
      LOG.debug("{}: rex ignored {}", node.nodeName(), m);
      return;
    }
    ErlTerm req = t.get(1);
    if (req instanceof ErlTuple r && r.arity() == 5 && CALL.equals(r.get(0)) && r.get(1) instanceof ErlAtom mod
        && r.get(2) instanceof ErlAtom fun && r.get(3) instanceof ErlList args && args.isProper()) {
      call(mod, fun, args, (self, result) -> self.send(from, ErlTuple.of(REX, result)));
    } else if (FEATURES_REQUEST.equals(req)) {
      reply(from, ErlTuple.of(FEATURES_REPLY, node.nodeAtom(), ErlList.of(ErlAtom.of("erpc"))));
    } else if (req instanceof ErlTuple r && r.arity() == 3 && (SEND.equals(r.get(0)) || SBCAST.equals(r.get(0)))
        && r.get(1) instanceof ErlAtom name) {
      boolean sbcast = SBCAST.equals(r.get(0));
      Mailbox target = node.whereis(name.name());
      if (target == null) {
        reply(from, ErlTuple.of(REX, node.nodeAtom(), ErlTuple.of(NONEXISTING_NAME, name)));
        return;
      }
      box.send(name.name(), sbcast ? r.get(2) : ErlTuple.of(from, r.get(2)));
      if (sbcast) {
        reply(from, ErlTuple.of(REX, node.nodeAtom(), node.nodeAtom()));
      }
    } else {
      LOG.debug("{}: rex ignored {}", node.nodeName(), m);
    }
  }

  /**
   * Answers an I/O request of a process this node spawned elsewhere (rex is their group
   * leader): output is logged at INFO and acknowledged, anything else is refused, so that
   * the process goes on instead of waiting for ever.
   */
  private ErlTerm io(ErlTerm request) {
    if (request instanceof ErlTuple r && r.arity() >= 2 && PUT_CHARS.equals(r.get(0))) {
      ErlTerm chars = r.get(r.arity() == 3 ? 2 : r.arity() == 2 ? 1 : 0);
      if (LOG.isInfoEnabled()) {
        String text = chars instanceof io.ei4j.term.ErlBinary b ? new String(b.toByteArray(), java.nio.charset.StandardCharsets.UTF_8)
            : r.arity() > 3 ? r.toString() : chars.toString();
        LOG.info("{}: output of a remote process: {}", node.nodeName(), text.strip());
      }
      return OK;
    }
    if (request instanceof ErlTuple r && r.arity() == 2 && REQUESTS.equals(r.get(0)) && r.get(1) instanceof ErlList l && l.isProper()) {
      ErlTerm last = OK;
      for (ErlTerm each : l.elements()) {
        last = io(each);
      }
      return last;
    }
    return ErlTuple.of(ERROR_CLASS, ENOTSUP);
  }

  private interface Replier {
    void reply(Mailbox self, ErlTerm result) throws IOException;
  }

  /** Runs {@code mod:fun(args)} as a new process on a worker, which then sends the reply. */
  private void call(ErlAtom mod, ErlAtom fun, ErlList args, Replier replier) {
    Mailbox self;
    try {
      self = node.createMailbox();
    } catch (IllegalStateException closed) {
      return;
    }
    try {
      node.functions().execute(() -> {
        try {
          replier.reply(self, rpcResult(node.functions().executeCall(self, REX, mod, fun, args)));
        } catch (IOException e) {
          LOG.debug("{}: rex reply for {}:{} not sent: {}", node.nodeName(), mod, fun, e.toString());
        } finally {
          self.close();
        }
      });
    } catch (RejectedExecutionException full) {
      try {
        replier.reply(self, badrpc(SYSTEM_LIMIT));
      } catch (IOException e) {
        LOG.debug("{}: rex system_limit reply not sent: {}", node.nodeName(), e.toString());
      } finally {
        self.close();
      }
    }
  }

  private void cast(ErlAtom mod, ErlAtom fun, ErlList args) {
    Mailbox self;
    try {
      self = node.createMailbox();
    } catch (IllegalStateException closed) {
      return;
    }
    try {
      node.functions().execute(() -> self.close(node.functions().plainRun(self, mod, fun, args)));
    } catch (RejectedExecutionException full) {
      self.close(); // rpc.erl drops a cast whose spawn fails
    }
  }

  private void reply(ErlPid to, ErlTerm msg) {
    try {
      box.send(to, msg);
    } catch (IOException e) {
      LOG.debug("{}: rex reply to {} not sent: {}", node.nodeName(), to, e.toString());
    }
  }

  /**
   * {@code rpc.erl}'s translation of {@code erpc:execute_call}'s outcome
   * ({@code {Ref, return, V}}, {@code {Ref, throw, V}}, {@code {Ref, exit, R}},
   * {@code {Ref, error, R, Stack}}) into an rpc reply.
   */
  static ErlTerm rpcResult(ErlTerm outcome) {
    ErlTuple o = (ErlTuple) outcome;
    ErlTerm kind = o.get(1);
    if (RemoteFunctions.RETURN.equals(kind) || THROW.equals(kind)) {
      return o.get(2);
    }
    if (EXIT_CLASS.equals(kind)) {
      return badrpc(o.get(2));
    }
    if (ERROR_CLASS.equals(kind) && o.arity() == 4) {
      return badrpc(ErlTuple.of(o.get(2), o.get(3)));
    }
    return badrpc(o.get(2));
  }

  /** {@code {badrpc, {'EXIT', Reason}}}. */
  static ErlTerm badrpc(ErlTerm reason) {
    return ErlTuple.of(BADRPC, ErlTuple.of(EXIT, reason));
  }
}
