package io.ei4j.epmd;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The names an {@link EmbeddedEpmd} knows: the registered ones, and up to
 * {@link #MAX_RELEASED} released ones that keep their creation counter, as {@code epmd}
 * keeps them ({@code MAX_UNREG_COUNT}).
 *
 * <p>Only the server's loop thread calls the mutators and the listing methods;
 * {@link #snapshot()} may be read from any thread (it is republished after every change).
 * This class knows nothing of sockets or bytes on the wire: a registration is tied to its
 * connection only by the connection's number, which DUMP shows.
 */
final class EpmdRegistry {
  /** How many released names keep their creation counter, as epmd's MAX_UNREG_COUNT. */
  static final int MAX_RELEASED = 1000;

  /** Registered names, oldest first. */
  private final Map<String, Entry> registered = new LinkedHashMap<>();
  /** Released names, oldest first, with what DUMP shows and the creation counter. */
  private final LinkedHashMap<String, Entry> released =
      new LinkedHashMap<>() {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, EpmdRegistry.Entry> eldest) {
          return size() > MAX_RELEASED;
        }
      };

  private volatile List<NodeInfo> snapshot = List.of();

  /**
   * One name EPMD knows: live while its registration connection stays open, then released
   * (kept only for its counter and for DUMP).
   */
  static final class Entry {
    final String name;
    final byte[] nameBytes;
    int port;
    int nodeType;
    int protocol;
    int highVersion;
    int lowVersion;
    byte[] extra;
    /** epmd's creation counter, unsigned 32 bits. */
    long counter;
    /** The number of the connection that registered the name last. */
    long connectionId;

    private Entry(String name) {
      this.name = name;
      this.nameBytes = name.getBytes(StandardCharsets.UTF_8);
    }

    NodeInfo info() {
      return new NodeInfo(name, port, nodeType, protocol, highVersion, lowVersion, extra);
    }
  }

  /**
   * Registers {@code request}'s name for connection {@code connectionId}, with epmd's
   * creation rule: a new name starts from the current time in seconds, a released name
   * continues its own counter; either way the next value is taken, never below 4,
   * wrapping at 32 bits.
   *
   * @return the new live entry, or null when the name is already registered
   */
  Entry register(EpmdServerCodec.Alive2Request request, long connectionId) {
    String name = request.name();
    if (registered.containsKey(name)) {
      return null;
    }
    Entry e = released.remove(name);
    if (e == null) {
      e = new Entry(name);
      e.counter = (System.currentTimeMillis() / 1000) & 0xFFFF_FFFFL;
    }
    e.counter = (e.counter + 1) & 0xFFFF_FFFFL;
    if (e.counter < 4) {
      e.counter = 4;
    }
    e.port = request.port();
    e.nodeType = request.nodeType();
    e.protocol = request.protocol();
    e.highVersion = request.highVersion();
    e.lowVersion = request.lowVersion();
    e.extra = request.extra();
    e.connectionId = connectionId;
    registered.put(name, e);
    publish();
    return e;
  }

  /**
   * Ends {@code e}'s registration, keeping its counter for the next registration of the
   * name.
   *
   * @return false when {@code e} was not live (already released)
   */
  boolean release(Entry e) {
    if (registered.get(e.name) != e) {
      return false;
    }
    registered.remove(e.name);
    released.put(e.name, e);
    publish();
    return true;
  }

  /** The live entry for {@code name}, or null. */
  Entry lookup(String name) {
    return registered.get(name);
  }

  /** Live entries, newest first, as NAMES and DUMP list them. */
  List<Entry> newestFirst() {
    List<Entry> list = new ArrayList<>(registered.values());
    Collections.reverse(list);
    return list;
  }

  /** Released entries, oldest first. */
  Collection<Entry> released() {
    return Collections.unmodifiableCollection(released.values());
  }

  /** The live registrations, newest first; safe to read from any thread. */
  List<NodeInfo> snapshot() {
    return snapshot;
  }

  /** Publishes an empty snapshot, once the server has stopped. */
  void clearSnapshot() {
    snapshot = List.of();
  }

  private void publish() {
    List<NodeInfo> list = new ArrayList<>(registered.size());
    for (Entry e : newestFirst()) {
      list.add(e.info());
    }
    snapshot = Collections.unmodifiableList(list);
  }
}
