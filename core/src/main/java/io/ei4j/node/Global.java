package io.ei4j.node;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.io.IOException;
import java.util.List;

/**
 * Erlang's {@code global} name registry, used from Java through {@link Node#rpc} on an
 * Erlang node of the cluster ({@code peer}): a Java mailbox registered here is found by
 * {@code global:whereis_name/1} and {@code global:send/2} on every node of that cluster,
 * and {@code global} drops the name when the mailbox exits (it monitors the pid). A Java
 * node is hidden, so it takes no part in {@code global}'s own protocol; the peer does the
 * registering for it.
 */
public final class Global {
  private static final ErlAtom GLOBAL = ErlAtom.of("global");
  private static final ErlAtom YES = ErlAtom.of("yes");

  private Global() {}

  /**
   * {@code global:register_name(Name, Pid)} on {@code peer}.
   *
   * @param box the mailbox to register
   * @param name the global name
   * @param peer an Erlang node of the cluster
   * @param timeoutMillis how long to wait for the peer
   * @return true when registered; false when the name is taken
   * @throws IOException when the call failed ({@code {badrpc, Reason}})
   * @throws InterruptedException when the waiting thread is interrupted
   */
  public static boolean register(Mailbox box, String name, String peer, long timeoutMillis)
      throws IOException, InterruptedException {
    ErlTerm r = call(box.node(), peer, "register_name", List.of(ErlAtom.of(name), box.pid()), timeoutMillis);
    return YES.equals(r);
  }

  /**
   * {@code global:unregister_name(Name)} on {@code peer}.
   *
   * @param node the calling node
   * @param name the global name
   * @param peer an Erlang node of the cluster
   * @param timeoutMillis how long to wait for the peer
   * @throws IOException when the call failed
   * @throws InterruptedException when the waiting thread is interrupted
   */
  public static void unregister(Node node, String name, String peer, long timeoutMillis) throws IOException, InterruptedException {
    call(node, peer, "unregister_name", List.of(ErlAtom.of(name)), timeoutMillis);
  }

  /**
   * {@code global:whereis_name(Name)} on {@code peer}.
   *
   * @param node the calling node
   * @param name the global name
   * @param peer an Erlang node of the cluster
   * @param timeoutMillis how long to wait for the peer
   * @return the registered pid, or null
   * @throws IOException when the call failed
   * @throws InterruptedException when the waiting thread is interrupted
   */
  public static ErlPid whereis(Node node, String name, String peer, long timeoutMillis) throws IOException, InterruptedException {
    return call(node, peer, "whereis_name", List.of(ErlAtom.of(name)), timeoutMillis) instanceof ErlPid p ? p : null;
  }

  private static ErlTerm call(Node node, String peer, String f, List<ErlTerm> args, long timeoutMillis)
      throws IOException, InterruptedException {
    ErlTerm r = node.rpc(peer, GLOBAL.name(), f, args, timeoutMillis);
    if (r instanceof ErlTuple t && t.arity() == 2 && RexServer.BADRPC.equals(t.get(0))) {
      throw new IOException("global:" + f + " on " + peer + " failed: " + t.get(1));
    }
    return r;
  }
}
