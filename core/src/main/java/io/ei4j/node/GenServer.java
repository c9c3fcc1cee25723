package io.ei4j.node;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.io.IOException;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code gen_server} calls and casts between Java mailboxes and Erlang processes, with
 * the message formats of OTP 24+ {@code gen}:
 *
 * <pre>
 *  call:   {'$gen_call', {CallerPid, [alias | Mref]}, Request}   to the server
 *  reply:  {[alias | Mref], Reply}                                 to the alias Mref
 *          {Tag, Reply}                                           to CallerPid, for any other Tag
 *  cast:   {'$gen_cast', Request}
 * </pre>
 *
 * <p>A call from Java monitors the server with a reference that is also an alias of the
 * caller's mailbox, so a reply reaches it through {@code ALIAS_SEND}, a server that dies
 * or is missing turns into a {@link CallException} with its reason, and a late reply after
 * a timeout is dropped (the alias is gone), as {@code gen:call} does.
 */
public final class GenServer {
  static final ErlAtom GEN_CALL = ErlAtom.of("$gen_call");
  static final ErlAtom GEN_CAST = ErlAtom.of("$gen_cast");
  static final ErlAtom ALIAS = ErlAtom.of("alias");
  static final ErlAtom TIMEOUT = ErlAtom.of("timeout");

  private GenServer() {}

  /**
   * {@code gen_server:call(Server, Request, Timeout)} from {@code self} to the process
   * {@code server}. Other messages arriving meanwhile stay queued in {@code self}.
   *
   * @param self the calling mailbox; it receives the reply
   * @param server the gen_server's pid
   * @param request the request ({@code handle_call}'s first argument)
   * @param timeoutMillis negative: wait for ever
   * @return the reply
   * @throws CallException with {@code noproc}, {@code noconnection}, the server's exit
   *     reason, or {@code timeout}
   * @throws IOException when the request cannot be sent over a broken connection
   * @throws ExitException when {@code self} is killed while it waits
   * @throws InterruptedException when the waiting thread is interrupted
   */
  public static ErlTerm call(Mailbox self, ErlPid server, ErlTerm request, long timeoutMillis)
      throws CallException, IOException, ExitException, InterruptedException {
    ErlRef mref = self.monitor(server);
    return await(self, mref, server, request, timeoutMillis, tag -> self.send(server, call(self, tag, request)));
  }

  /**
   * {@code gen_server:call({Name, Node}, Request, Timeout)}: to the process registered as
   * {@code name} on {@code nodeName}. The {@code 'DOWN'} and the failure name the server
   * {@code {Name, Node}}.
   *
   * @param self the calling mailbox; it receives the reply
   * @param name the server's registered name
   * @param nodeName the server's node (this node's own name for a local mailbox)
   * @param request the request
   * @param timeoutMillis negative: wait for ever
   * @return the reply
   * @throws CallException with {@code noproc}, {@code noconnection}, the server's exit
   *     reason, or {@code timeout}
   * @throws IOException when the request cannot be sent over a broken connection
   * @throws ExitException when {@code self} is killed while it waits
   * @throws InterruptedException when the waiting thread is interrupted
   */
  public static ErlTerm call(Mailbox self, String name, String nodeName, ErlTerm request, long timeoutMillis)
      throws CallException, IOException, ExitException, InterruptedException {
    ErlRef mref = self.monitor(name, nodeName);
    return await(self, mref, ErlTuple.of(ErlAtom.of(name), ErlAtom.of(nodeName)), request, timeoutMillis,
        tag -> self.send(name, nodeName, call(self, tag, request)));
  }

  /**
   * {@code gen_server:cast(Server, Request)}: fire and forget.
   *
   * @param self the sending mailbox
   * @param server the gen_server's pid
   * @param request the request ({@code handle_cast}'s first argument)
   * @throws IOException when the server's node cannot be reached
   */
  public static void cast(Mailbox self, ErlPid server, ErlTerm request) throws IOException {
    self.send(server, ErlTuple.of(GEN_CAST, request));
  }

  /**
   * {@code gen_server:cast({Name, Node}, Request)}.
   *
   * @param self the sending mailbox
   * @param name the server's registered name
   * @param nodeName the server's node
   * @param request the request
   * @throws IOException when the server's node cannot be reached
   */
  public static void cast(Mailbox self, String name, String nodeName, ErlTerm request) throws IOException {
    self.send(name, nodeName, ErlTuple.of(GEN_CAST, request));
  }

  private interface Sender {
    void send(ErlTerm tag) throws IOException;
  }

  private static ErlTuple call(Mailbox self, ErlTerm tag, ErlTerm request) {
    return ErlTuple.of(GEN_CALL, ErlTuple.of(self.pid(), tag), Objects.requireNonNull(request, "request"));
  }

  private static ErlTerm await(Mailbox self, ErlRef mref, ErlTerm server, ErlTerm request, long timeoutMillis, Sender sender)
      throws CallException, IOException, ExitException, InterruptedException {
    self.node().processTable().addAlias(self, mref);
    ErlTerm tag = ErlList.improper(java.util.List.of(ALIAS), mref);
    try {
      // A monitor that failed at once (noproc, or noconnection when the node cannot be
      // reached) ends the call before anything is sent, as gen:call does.
      ErlTerm early = self.receive(x -> isDown(x, mref), 0);
      if (early != null) {
        ErlTerm reason = ((ErlTuple) early).get(4);
        throw new CallException("gen_server call to " + server + " failed: " + reason, reason);
      }
      try {
        sender.send(tag);
      } catch (IOException e) {
        self.demonitorFlush(mref);
        throw e;
      }
      ErlTerm m = self.receive(x -> (x instanceof ErlTuple t && t.arity() == 2 && tag.equals(t.get(0))) || isDown(x, mref), timeoutMillis);
      if (m == null) {
        self.demonitorFlush(mref);
        throw new CallException("gen_server call to " + server + " with " + request + ": no reply within " + timeoutMillis + " ms", TIMEOUT);
      }
      ErlTuple t = (ErlTuple) m;
      if (t.arity() == 2) {
        self.demonitorFlush(mref);
        return t.get(1);
      }
      throw new CallException("gen_server call to " + server + " failed: the server exited with " + t.get(4), t.get(4));
    } finally {
      self.node().processTable().removeAlias(self, mref);
    }
  }

  private static boolean isDown(ErlTerm x, ErlRef mref) {
    return x instanceof ErlTuple t && t.arity() == 5 && Mailbox.DOWN.equals(t.get(0)) && mref.equals(t.get(1));
  }

  /**
   * A {@code gen_server:call} that reached a Java mailbox:
   * {@code {'$gen_call', From, Request}}; {@link #reply} answers it.
   *
   * @param from the caller's {@code {Pid, Tag}}; {@code Tag} may be {@code [alias | Ref]}
   */
  public record Call(ErlTuple from, ErlTerm request) {
    /**
     * The call in a received message.
     *
     * @param message any message
     * @return the call, or empty when the message is not a {@code '$gen_call'}
     */
    public static Optional<Call> of(ErlTerm message) {
      if (message instanceof ErlTuple t && t.arity() == 3 && GEN_CALL.equals(t.get(0))
          && t.get(1) instanceof ErlTuple from && from.arity() == 2 && from.get(0) instanceof ErlPid) {
        return Optional.of(new Call(from, t.get(2)));
      }
      return Optional.empty();
    }

    /**
     * The calling process.
     *
     * @return the pid in {@code From}
     */
    public ErlPid caller() {
      return (ErlPid) from.get(0);
    }

    /**
     * The caller's tag.
     *
     * @return a reference, or {@code [alias | Ref]} from an OTP 24+ caller
     */
    public ErlTerm tag() {
      return from.get(1);
    }

    /**
     * Sends {@code {Tag, Reply}}, as {@code gen_server:reply/2}: to the alias when the tag
     * is {@code [alias | Alias]}, else to the caller's pid.
     *
     * @param self the replying mailbox
     * @param reply the reply
     * @throws IOException when the caller's node cannot be reached
     */
    public void reply(Mailbox self, ErlTerm reply) throws IOException {
      ErlTuple msg = ErlTuple.of(tag(), Objects.requireNonNull(reply, "reply"));
      if (tag() instanceof ErlList l && !l.isProper() && l.size() == 1 && ALIAS.equals(l.get(0)) && l.tail() instanceof ErlRef alias) {
        self.sendAlias(alias, msg);
      } else {
        self.send(caller(), msg);
      }
    }
  }
}
