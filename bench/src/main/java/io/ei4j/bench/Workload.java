package io.ei4j.bench;

import java.util.List;

/**
 * One measurement of the side-by-side harness, the same for every client.
 *
 * <ul>
 *   <li>{@code pingpong}: {@code {SelfPid, hello}} to the registered {@code echo}, wait for
 *       {@code hello}, repeat; round trips per second.
 *   <li>{@code send}: {@code {seq, N, <<Size bytes>>}} to the registered {@code sink} as
 *       fast as the client can, then {@code {done, SelfPid}}; the sink answers
 *       {@code {count, Count, Bytes}}, which must match what was sent. Messages per second
 *       and MB/s, from the first send to the answer.
 *   <li>{@code msend}: {@code send} from several senders at once ({@link #MSEND_SMALL}).
 *   <li>{@code flood}: {@code {flood, SelfPid, Size, Max, Millis}} to the registered
 *       {@code flooder}, which sends {@code {seq, N, <<Size bytes>>}} as fast as it can,
 *       then {@code {flood_done, Sent}}; the client counts and checks. Messages per second,
 *       from the request to the last message.
 * </ul>
 *
 * Each run is bounded by the harness's time budget and by {@code max} messages.
 *
 * @param key the name on the harness's command line ({@code --workloads})
 * @param id the short name in the table and the CSV
 * @param mode {@code pingpong}, {@code send} or {@code flood}
 * @param size the binary size in bytes ({@code send}, {@code flood})
 * @param max the most messages or round trips in one run
 * @param throughputInMegabytes whether the table shows MB/s rather than operations/s
 */
record Workload(String key, String id, String mode, int size, long max, boolean throughputInMegabytes) {
  static final Workload PING_PONG = new Workload("pingpong", "ping-pong", "pingpong", 0, 2_000_000, false);
  static final Workload SEND_SMALL = new Workload("send10", "send 10 B", "send", 10, 10_000_000, false);
  static final Workload SEND_1K = new Workload("send1k", "send 1 KiB", "send", 1024, 5_000_000, true);
  static final Workload SEND_1M = new Workload("send1m", "send 1 MiB", "send", 1 << 20, 20_000, true);
  static final Workload FLOOD_SMALL = new Workload("flood10", "Erlang->client 10 B", "flood", 10, 10_000_000, false);
  /**
   * {@code send} of 10 B from {@link #SENDERS} threads (C), processes (Erlang) or threads
   * sharing one connection or mailbox (ei4j) at once, then one {@code {done, SelfPid}}
   * after all have finished: many senders to one receiver (issue 21). {@code max} is
   * shared out among the senders. Not run against JInterface or encon.
   */
  static final Workload MSEND_SMALL = new Workload("msend10", "4 senders 10 B", "msend", 10, 10_000_000, false);
  /** How many senders {@link #MSEND_SMALL} has (also in cbench.c and bench_peer.erl). */
  static final int SENDERS = 4;
  /** The side-by-side workloads, in the order the harness runs them. */
  static final List<Workload> ALL = List.of(PING_PONG, SEND_SMALL, SEND_1K, SEND_1M, FLOOD_SMALL);
  /** Erlang sends 1 MiB binaries to the client: the receiving side of issue 21's CPU per message for large messages. */
  static final Workload FLOOD_1M = new Workload("flood1m", "Erlang->client 1 MiB", "flood", 1 << 20, 20_000, true);
  /** The ceiling's workloads (issue 21): every peer pair, same workloads. */
  static final List<Workload> CEILING = List.of(PING_PONG, SEND_SMALL, SEND_1K, SEND_1M, MSEND_SMALL);
  private static final List<Workload> KNOWN = List.of(PING_PONG, SEND_SMALL, SEND_1K, SEND_1M, FLOOD_SMALL, FLOOD_1M,
      MSEND_SMALL);

  /** The workload whose {@link #key()} is {@code key}. */
  static Workload byKey(String key) {
    for (Workload w : KNOWN) {
      if (w.key().equals(key)) {
        return w;
      }
    }
    throw new IllegalArgumentException("no workload '" + key + "'; known: "
        + KNOWN.stream().map(Workload::key).toList());
  }
}
