package io.ei4j.node;

import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The links, monitors and aliases of one {@link Mailbox}. The mailbox holds it but never
 * looks inside: {@link Signals} reads and writes the links and monitors,
 * {@link ProcessTable} the aliases. Concurrent sets and maps, since any thread may link or
 * monitor while a reader thread applies the peer's signals (see {@code CONCURRENCY.md}).
 */
final class ProcessSignals {
  /** A monitor the mailbox holds on another process. */
  record Monitoring(ErlTerm target, String nodeName, ErlTerm downObject) {}

  /** A monitor another process holds on the mailbox; {@code toProc} is what it named (pid or atom). */
  record Watcher(ErlPid watcher, ErlTerm toProc) {}

  final Set<ErlPid> links = ConcurrentHashMap.newKeySet();
  final Map<ErlRef, Monitoring> monitoring = new ConcurrentHashMap<>();
  final Map<ErlRef, Watcher> watchers = new ConcurrentHashMap<>();
  final Set<ErlRef> aliases = ConcurrentHashMap.newKeySet();
}
