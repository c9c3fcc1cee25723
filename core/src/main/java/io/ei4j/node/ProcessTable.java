package io.ei4j.node;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node's live mailboxes by pid, registered name and alias. Lookups are one
 * {@code ConcurrentHashMap} read, so a reader thread routing a message never waits
 * ({@code CONCURRENCY.md}, "Mailboxes never block the connection").
 */
final class ProcessTable {
  private final Map<ErlPid, Mailbox> processes = new ConcurrentHashMap<>();
  private final Map<String, Mailbox> names = new ConcurrentHashMap<>();
  private final Map<ErlRef, Mailbox> aliases = new ConcurrentHashMap<>();

  void add(Mailbox m) {
    processes.put(m.pid(), m);
  }

  /** Registers {@code m} as {@code name}; false when a live mailbox has the name already. */
  boolean register(String name, Mailbox m) {
    return names.putIfAbsent(name, m) == null;
  }

  /** Forgets the pid of a mailbox that was never handed out or is being abandoned. */
  void removePid(ErlPid pid) {
    processes.remove(pid);
  }

  Mailbox byPid(ErlPid pid) {
    return processes.get(pid);
  }

  Mailbox byName(String name) {
    return names.get(name);
  }

  Mailbox byAlias(ErlRef alias) {
    return aliases.get(alias);
  }

  /** The mailbox a monitor or demonitor names: a pid or a registered name's atom; else null. */
  Mailbox byTarget(ErlTerm toProc) {
    return toProc instanceof ErlPid p ? processes.get(p) : toProc instanceof ErlAtom a ? names.get(a.name()) : null;
  }

  void addAlias(Mailbox m, ErlRef ref) {
    m.signalState().aliases.add(ref);
    aliases.put(ref, m);
  }

  boolean removeAlias(Mailbox m, ErlRef ref) {
    m.signalState().aliases.remove(ref);
    return aliases.remove(ref, m);
  }

  /** Unregisters a dead mailbox: its pid, its name and its aliases. */
  void remove(Mailbox m) {
    processes.remove(m.pid());
    String name = m.name();
    if (name != null) {
      names.remove(name, m);
    }
    for (ErlRef a : m.signalState().aliases) {
      aliases.remove(a, m);
    }
  }

  /** The live mailboxes (a weakly consistent view). */
  Collection<Mailbox> all() {
    return processes.values();
  }

  /** Empties the table (the node is closing). */
  void clear() {
    processes.clear();
    names.clear();
    aliases.clear();
  }
}
