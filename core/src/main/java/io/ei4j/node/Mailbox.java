package io.ei4j.node;

import io.ei4j.connect.EiConnection;
import io.ei4j.internal.dist.ConnectionInternals;
import io.ei4j.internal.dist.ReadingRole;
import io.ei4j.internal.node.Checks;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * A Java process of a {@link Node}: a pid, an optional registered name, a message queue,
 * links, monitors and aliases, with Erlang's semantics for all of them.
 *
 * <ul>
 *   <li>Sends never block on the receiver. By default messages queue without bound, as in
 *       Erlang; with a {@linkplain #maxQueueLength(int) queue limit}, a message that arrives
 *       while the queue is full is dropped (drop-newest), counted in
 *       {@link #droppedMessages()} and logged at WARN (the 1st, 2nd, 4th, ... drop), and
 *       everything else goes on: the connection that carried it, its ticks and every other
 *       mailbox are unaffected.
 *       {@code 'EXIT'} and {@code 'DOWN'} messages from exit signals and monitors are never
 *       dropped (there are at most as many as this mailbox has links and monitors). A send
 *       to a pid or name that does not exist is dropped silently, as in Erlang; a send that
 *       cannot reach the other node (no connection can be made, or it broke during the
 *       write) throws an {@link IOException}.
 *   <li>{@link #receive(Predicate, long)} is Erlang's selective receive: it takes the
 *       oldest matching message and leaves the others in order.
 *   <li>Exit signals: with {@link #trapExits(boolean) trap_exit} on, an exit signal
 *       arrives as the message {@code {'EXIT', From, Reason}}; without it, reason
 *       {@code normal} is ignored and any other reason kills the mailbox. An
 *       {@code exit(Pid, kill)} kills it even when trapping (reason {@code killed}). A
 *       dead mailbox throws {@link ExitException} from every receive, sends
 *       {@code {'EXIT', Self, Reason}} to its links and {@code 'DOWN'} to its monitors.
 *   <li>{@code 'DOWN'} messages for this mailbox's monitors are
 *       {@code {'DOWN', Ref, process, Pid or {Name, Node}, Reason}}; when the monitored
 *       node is lost, the reason is {@code noconnection}.
 * </ul>
 *
 * <p>Thread-safety: any thread may send from a mailbox and manage its links and monitors;
 * receive is meant for one thread at a time (two concurrent receivers each get distinct
 * messages, but selective receive then loses its meaning).
 */
public final class Mailbox implements AutoCloseable {
  static final ErlAtom EXIT = ErlAtom.of("EXIT");
  static final ErlAtom DOWN = ErlAtom.of("DOWN");
  static final ErlAtom PROCESS = ErlAtom.of("process");
  static final ErlAtom NORMAL = ErlAtom.of("normal");
  static final ErlAtom KILL = ErlAtom.of("kill");
  static final ErlAtom KILLED = ErlAtom.of("killed");
  static final ErlAtom NOPROC = ErlAtom.of("noproc");
  static final ErlAtom NOCONNECTION = ErlAtom.of("noconnection");

  private final Node node;
  private final ErlPid pid;
  private volatile String name;
  private volatile boolean trapExits;

  /** The messages: intake, selective receive, parking, the queue limit. */
  private final MailboxQueue queue;

  /** Links, monitors and aliases: written by the node's {@link Signals} and {@link ProcessTable} only. */
  private final ProcessSignals signalState = new ProcessSignals();

  Mailbox(Node node, ErlPid pid, int maxQueueLength) {
    this.node = node;
    this.pid = pid;
    this.queue = new MailboxQueue(this, maxQueueLength);
  }

  /**
   * This mailbox's pid, unique within its node.
   *
   * @return the pid
   */
  public ErlPid pid() {
    return pid;
  }

  /**
   * The name the mailbox was registered under.
   *
   * @return the name, or null for an unnamed mailbox
   */
  public String name() {
    return name;
  }

  void name(String n) {
    this.name = n;
  }

  ProcessSignals signalState() {
    return signalState;
  }

  /**
   * The node the mailbox belongs to.
   *
   * @return the node
   */
  public Node node() {
    return node;
  }

  // ---- sending ----

  /**
   * Sends {@code message} to {@code to}, on this node or another (connecting to it first
   * when needed).
   *
   * @param to the receiving process
   * @param message the message
   * @throws IOException when the other node cannot be reached or the connection broke
   */
  public void send(ErlPid to, ErlTerm message) throws IOException {
    node.outgoing().send(pid, Objects.requireNonNull(to, "to"), Objects.requireNonNull(message, "message"));
  }

  /**
   * Sends to the mailbox registered as {@code name} on this node; dropped when there is none.
   *
   * @param name the registered name
   * @param message the message
   */
  public void send(String name, ErlTerm message) {
    node.outgoing().sendLocalName(name, Objects.requireNonNull(message, "message"));
  }

  /**
   * Sends to the process registered as {@code name} on {@code nodeName}, Erlang's
   * {@code {Name, Node} ! Message}. Dropped by the receiving node when nothing has the name.
   *
   * @param name the registered name
   * @param nodeName the node's full name (this node's own for a local mailbox)
   * @param message the message
   * @throws IOException when the node cannot be reached or the connection broke
   */
  public void send(String name, String nodeName, ErlTerm message) throws IOException {
    node.outgoing().sendName(pid, Objects.requireNonNull(name, "name"), Objects.requireNonNull(nodeName, "nodeName"),
        Objects.requireNonNull(message, "message"));
  }

  /**
   * Sends to a process alias ({@code ALIAS_SEND}); dropped by the receiving node when the
   * alias is no longer active.
   *
   * @param alias the alias, a reference made by {@code alias()} or {@link #createAlias()}
   * @param message the message
   * @throws IOException when the alias's node cannot be reached or the connection broke
   */
  public void sendAlias(ErlRef alias, ErlTerm message) throws IOException {
    node.outgoing().sendAlias(pid, Objects.requireNonNull(alias, "alias"), Objects.requireNonNull(message, "message"));
  }

  // ---- receiving ----

  /**
   * The next message, waiting as long as it takes.
   *
   * @return the oldest message
   * @throws ExitException when the mailbox is dead
   * @throws InterruptedException when the thread is interrupted while waiting
   */
  public ErlTerm receive() throws ExitException, InterruptedException {
    return receive(m -> true, -1);
  }

  /**
   * The next message, or null when none came within {@code timeoutMillis} (0: only look at
   * what has already arrived; negative: wait for ever).
   *
   * @param timeoutMillis how long to wait
   * @return the oldest message, or null
   * @throws ExitException when the mailbox is dead
   * @throws InterruptedException when the thread is interrupted while waiting
   */
  public ErlTerm receive(long timeoutMillis) throws ExitException, InterruptedException {
    return receive(m -> true, timeoutMillis);
  }

  /**
   * Selective receive: the oldest message {@code match} accepts, removed from the queue;
   * the others stay, in order. Null when none matched within {@code timeoutMillis}
   * (0: only what has arrived; negative: for ever).
   *
   * @param match which messages to take; called under the mailbox's lock, so while it runs
   *     it holds up other receivers of this mailbox and an exit signal that kills it (never
   *     the senders, nor the connection that carries the messages)
   * @param timeoutMillis how long to wait
   * @return the oldest matching message, or null
   * @throws ExitException when the mailbox is dead, at once, whatever is queued
   * @throws InterruptedException when the thread is interrupted while waiting
   */
  public ErlTerm receive(Predicate<? super ErlTerm> match, long timeoutMillis) throws ExitException, InterruptedException {
    return queue.receive(match, timeoutMillis);
  }

  /** Whether a receiver of this mailbox is reading a connection itself right now (for tests). */
  boolean readsConnection() {
    return queue.readsConnection();
  }

  /** Notes the connection a message from another node came through, which a waiting receiver then reads itself. */
  void arrivedVia(EiConnection c) {
    if (!(queue.source() instanceof DispatchSource.Connection s && s.connection() == c)) {
      queue.source(new DispatchSource.Connection(c));
    }
  }

  /**
   * How many messages wait in the queue.
   *
   * @return the queue's length
   */
  public int queued() {
    return queue.queued();
  }

  /**
   * The most messages the queue holds; a message that arrives when it is full is dropped.
   * The node's {@link Node.Builder#maxQueueLength} unless changed with
   * {@link #maxQueueLength(int)}; {@link Integer#MAX_VALUE} means unbounded.
   *
   * @return the limit
   */
  public int maxQueueLength() {
    return queue.maxQueueLength();
  }

  /**
   * Changes the queue limit of this mailbox. Lowering it below what is queued drops
   * nothing: messages already queued stay, and new ones are dropped until receives bring
   * the queue under the limit.
   *
   * @param messages the limit, at least 1; {@link Integer#MAX_VALUE} for unbounded
   * @return this mailbox
   */
  public Mailbox maxQueueLength(int messages) {
    queue.maxQueueLength(Checks.queueLength(messages));
    return this;
  }

  /**
   * How many messages were dropped because the queue was full.
   *
   * @return the count since the mailbox was created
   */
  public long droppedMessages() {
    return queue.droppedMessages();
  }

  /**
   * Queues a message, unless the queue is full (then it is dropped and counted). False when
   * it was dropped, or the mailbox is dead. Never takes the lock unless a receiver waits.
   */
  boolean deliver(ErlTerm message) {
    return queue.deliver(message);
  }

  /**
   * {@link #deliver(ErlTerm)} for a message that {@code c} is dispatching now, on the thread
   * that dispatches it: the message takes over its charge to the node's receive budget
   * (given back when a receive takes it, or at once if it is not queued).
   */
  boolean deliverFrom(EiConnection c, ErlTerm message) {
    ReadingRole r = ConnectionInternals.role(c);
    return queue.deliver(message, r.budgetAccount(), r.claimCharge());
  }

  /**
   * Queues the message of an exit signal or a monitor ({@code 'EXIT'}, {@code 'DOWN'})
   * whatever the queue limit. False when the mailbox is dead.
   */
  boolean deliverSignal(ErlTerm message) {
    return queue.deliverSignal(message);
  }

  // ---- links and exits ----

  /**
   * Links this mailbox to {@code other}. When {@code other} does not exist (or its node
   * cannot be reached) an exit signal {@code noproc} ({@code noconnection}) comes back, as
   * for Erlang's {@code link/1} with trap_exit on.
   *
   * @param other the process to link to
   * @throws IllegalStateException when this mailbox is dead
   */
  public void link(ErlPid other) {
    Objects.requireNonNull(other, "other");
    if (other.equals(pid)) {
      return;
    }
    ensureAlive();
    node.signals().link(this, other);
  }

  /**
   * Removes the link to {@code other}, if any ({@code UNLINK_ID} to a remote process).
   *
   * @param other the linked process
   */
  public void unlink(ErlPid other) {
    node.signals().unlink(this, other);
  }

  /**
   * Sends the exit signal {@code reason} to {@code other}, Erlang's {@code exit(Other,
   * Reason)}: {@code kill} kills it even when it traps exits.
   *
   * @param other the process to signal
   * @param reason the exit reason
   *
   * @throws IOException when the other node cannot be reached or the connection broke
   */
  public void exit(ErlPid other, ErlTerm reason) throws IOException {
    node.signals().exit2(pid, Objects.requireNonNull(other, "other"), Objects.requireNonNull(reason, "reason"));
  }

  /**
   * Whether exit signals arrive as {@code {'EXIT', From, Reason}} messages (Erlang's
   * {@code process_flag(trap_exit, true)}) instead of killing this mailbox.
   *
   * @param trap whether to trap exits
   */
  public void trapExits(boolean trap) {
    this.trapExits = trap;
  }

  /**
   * Whether exit signals are trapped.
   *
   * @return the trap_exit flag
   */
  public boolean isTrappingExits() {
    return trapExits;
  }

  /** An exit signal reached the mailbox: {@code viaLink} for EXIT, else EXIT2 ({@code exit/2}). */
  void exitSignal(ErlPid from, ErlTerm reason, boolean viaLink) {
    if (!viaLink && KILL.equals(reason)) {
      die(from, KILLED);
    } else if (trapExits) {
      deliverSignal(ErlTuple.of(EXIT, from, reason));
    } else if (!NORMAL.equals(reason)) {
      die(from, reason);
    }
  }

  // ---- monitors ----

  /**
   * Monitors {@code target}: when it exits, or its node is lost, this mailbox gets
   * {@code {'DOWN', Ref, process, Target, Reason}}; at once with {@code noproc} when it
   * does not exist, with {@code noconnection} when its node cannot be reached.
   *
   * @param target the process to monitor
   * @return the monitor reference, for {@link #demonitor}
   * @throws IllegalStateException when this mailbox is dead
   */
  public ErlRef monitor(ErlPid target) {
    ensureAlive();
    return node.signals().monitor(this, Objects.requireNonNull(target, "target"), target.node().name(), target);
  }

  /**
   * Monitors the process registered as {@code name} on {@code nodeName} (this node's own
   * name for a local mailbox); the {@code 'DOWN'} message names it {@code {Name, Node}}.
   *
   * @param name the registered name
   * @param nodeName the node's full name
   * @return the monitor reference
   * @throws IllegalStateException when this mailbox is dead
   */
  public ErlRef monitor(String name, String nodeName) {
    ensureAlive();
    ErlAtom n = ErlAtom.of(name);
    return node.signals().monitor(this, n, nodeName, ErlTuple.of(n, ErlAtom.of(nodeName)));
  }

  /**
   * Removes a monitor; a {@code 'DOWN'} already queued stays queued (Erlang's
   * {@code demonitor/1} without {@code flush}). Unknown references are ignored.
   *
   * @param ref the monitor reference
   */
  public void demonitor(ErlRef ref) {
    node.signals().demonitor(this, Objects.requireNonNull(ref, "ref"));
  }

  /**
   * Removes a monitor and any {@code 'DOWN'} message of it already queued ({@code [flush]}).
   *
   * @param ref the monitor reference
   */
  public void demonitorFlush(ErlRef ref) {
    demonitor(ref);
    queue.removeQueued(m -> m instanceof ErlTuple t && t.arity() == 5 && DOWN.equals(t.get(0)) && ref.equals(t.get(1)));
  }

  // ---- aliases ----

  /**
   * A new alias of this mailbox (Erlang's {@code alias/0}): messages sent to it with
   * {@code Alias ! Msg} or {@link #sendAlias} arrive here until it is deactivated.
   *
   * @return the alias
   * @throws IllegalStateException when this mailbox is dead
   */
  public ErlRef createAlias() {
    ensureAlive();
    ErlRef ref = node.makeRef();
    node.processTable().addAlias(this, ref);
    return ref;
  }

  /**
   * Deactivates an alias (Erlang's {@code unalias/1}); later messages to it are dropped.
   *
   * @param alias the alias
   * @return false when it was not an active alias of this mailbox
   */
  public boolean deactivateAlias(ErlRef alias) {
    return node.processTable().removeAlias(this, alias);
  }

  // ---- ending ----

  /**
   * Whether the mailbox is dead (closed or killed).
   *
   * @return true once it has exited
   */
  public boolean isClosed() {
    return queue.exit() != null;
  }

  /**
   * Ends the mailbox with reason {@code normal}: linked processes get an exit signal
   * {@code normal}, monitors get {@code 'DOWN'} with {@code normal}. Idempotent.
   */
  @Override
  public void close() {
    die(null, NORMAL);
  }

  /**
   * Ends the mailbox with {@code reason}, Erlang's {@code exit(Reason)}: linked processes
   * get an exit signal with it, monitors a {@code 'DOWN'} with it. Idempotent.
   *
   * @param reason the exit reason
   */
  public void close(ErlTerm reason) {
    die(null, Objects.requireNonNull(reason, "reason"));
  }

  void die(ErlPid from, ErlTerm reason) {
    if (queue.kill(from, reason)) {
      node.signals().exited(this, reason);
    }
  }

  /** Marks the mailbox dead without sending any signal (the node is closing). */
  void abandon(ErlTerm reason) {
    queue.kill(null, reason);
  }

  private void ensureAlive() {
    ExitException x = queue.exit();
    if (x != null) {
      throw new IllegalStateException("mailbox " + pid + " has exited: " + x.reason());
    }
  }

  /** The queued messages, oldest first (a snapshot, for diagnostics). */
  List<ErlTerm> snapshot() {
    return queue.snapshot();
  }

  @Override
  public String toString() {
    return "Mailbox[" + pid + (name == null ? "" : " " + name) + (isClosed() ? ", closed" : "") + "]";
  }
}
