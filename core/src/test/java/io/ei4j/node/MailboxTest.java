package io.ei4j.node;

import static io.ei4j.term.Terms.atom;
import static io.ei4j.term.Terms.integer;
import static io.ei4j.term.Terms.tuple;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.transport.tcp.TcpCallbacks;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Process semantics between mailboxes of one node (no connection involved). */
class MailboxTest {
  private Node node;

  @BeforeEach
  void start() throws Exception {
    node = Node.builder(io.ei4j.testkit.ErlangPeer.uniqueName("mailbox") + "@localhost").cookie("c").transport(TcpCallbacks.create()).creation(7).build();
  }

  @AfterEach
  void stop() {
    node.close();
  }

  @Test
  void receiveTimesOutWithNullAndZeroOnlyLooks() throws Exception {
    Mailbox a = node.createMailbox();
    long t0 = System.nanoTime();
    assertNull(a.receive(100));
    assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(90));
    assertNull(a.receive(0));
    a.send(a.pid(), atom("x"));
    assertEquals(atom("x"), a.receive(0));
  }

  @Test
  void selectiveReceiveWaitsForAMatchAndKeepsTheRestInOrder() throws Exception {
    Mailbox a = node.createMailbox();
    Mailbox b = node.createMailbox();
    CompletableFuture<ErlTerm> got = CompletableFuture.supplyAsync(() -> {
      try {
        return a.receive(m -> m.equals(atom("wanted")), 5_000);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    for (int i = 0; i < 5; i++) {
      b.send(a.pid(), integer(i));
    }
    Thread.sleep(50);
    assertFalse(got.isDone());
    b.send(a.pid(), atom("wanted"));
    assertEquals(atom("wanted"), got.get(5, TimeUnit.SECONDS));
    for (int i = 0; i < 5; i++) {
      assertEquals(integer(i), a.receive(0));
    }
  }

  @Test
  void namesAreUniqueAndFreedOnClose() {
    Mailbox a = node.createMailbox("svc");
    assertSame(a, node.whereis("svc"));
    assertThrows(IllegalStateException.class, () -> node.createMailbox("svc"));
    a.close();
    assertNull(node.whereis("svc"));
    Mailbox b = node.createMailbox("svc");
    assertEquals("svc", b.name());
  }

  @Test
  void exitSignalsFollowErlangRules() throws Exception {
    Mailbox trapper = node.createMailbox();
    trapper.trapExits(true);
    Mailbox plain = node.createMailbox();
    Mailbox killer = node.createMailbox();

    killer.exit(trapper.pid(), atom("normal"));
    assertEquals(tuple(atom("EXIT"), killer.pid(), atom("normal")), trapper.receive(1_000));
    killer.exit(trapper.pid(), atom("shutdown"));
    assertEquals(tuple(atom("EXIT"), killer.pid(), atom("shutdown")), trapper.receive(1_000));
    killer.exit(plain.pid(), atom("normal"));
    assertFalse(plain.isClosed(), "normal is ignored without trap_exit");

    trapper.link(plain.pid());
    killer.exit(plain.pid(), atom("kill"));
    assertEquals(atom("killed"), assertThrows(ExitException.class, () -> plain.receive(0)).reason());
    assertEquals(tuple(atom("EXIT"), plain.pid(), atom("killed")), trapper.receive(1_000), "linked processes see killed");

    killer.exit(trapper.pid(), atom("kill"));
    assertEquals(atom("killed"), assertThrows(ExitException.class, () -> trapper.receive(0)).reason(), "kill is untrappable");
    assertThrows(IllegalStateException.class, () -> trapper.link(killer.pid()));
  }

  @Test
  void monitorsAndDemonitorFlush() throws Exception {
    Mailbox watcher = node.createMailbox();
    Mailbox target = node.createMailbox("target");
    ErlRef byPid = watcher.monitor(target.pid());
    ErlRef byName = watcher.monitor("target", node.nodeName());
    ErlRef dropped = watcher.monitor(target.pid());
    watcher.demonitor(dropped);
    target.close(atom("done"));
    ErlTerm first = watcher.receive(1_000);
    ErlTerm second = watcher.receive(1_000);
    assertTrue(first.equals(tuple(atom("DOWN"), byPid, atom("process"), target.pid(), atom("done")))
        || second.equals(tuple(atom("DOWN"), byPid, atom("process"), target.pid(), atom("done"))), first + " / " + second);
    ErlTerm named = tuple(atom("DOWN"), byName, atom("process"), tuple(atom("target"), atom(node.nodeName())), atom("done"));
    assertTrue(first.equals(named) || second.equals(named), first + " / " + second);
    assertNull(watcher.receive(50), "no DOWN for a removed monitor");

    Mailbox t2 = node.createMailbox();
    ErlRef r = watcher.monitor(t2.pid());
    t2.close();
    watcher.demonitorFlush(r);
    assertNull(watcher.receive(50), "flush removed the queued DOWN");
  }

  @Test
  void aliasesDeliverUntilDeactivated() throws Exception {
    Mailbox a = node.createMailbox();
    Mailbox b = node.createMailbox();
    ErlRef alias = a.createAlias();
    b.sendAlias(alias, atom("one"));
    assertEquals(atom("one"), a.receive(1_000));
    assertTrue(a.deactivateAlias(alias));
    assertFalse(a.deactivateAlias(alias));
    b.sendAlias(alias, atom("two"));
    assertNull(a.receive(50));
  }

  @Test
  void closingTheNodeEndsBlockedReceivers() throws Exception {
    Mailbox a = node.createMailbox();
    CompletableFuture<Throwable> failure = CompletableFuture.supplyAsync(() -> {
      try {
        a.receive();
        return null;
      } catch (Exception e) {
        return e;
      }
    });
    Thread.sleep(50);
    node.close();
    Throwable t = failure.get(5, TimeUnit.SECONDS);
    assertTrue(t instanceof ExitException, String.valueOf(t));
    assertEquals(atom("noconnection"), ((ExitException) t).reason());
    assertThrows(IllegalStateException.class, node::createMailbox);
  }
}
