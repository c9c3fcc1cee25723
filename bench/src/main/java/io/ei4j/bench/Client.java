package io.ei4j.bench;

/** One side of the comparison: something that runs a {@link Workload} against the server node. */
interface Client extends AutoCloseable {

  /** The name in the table: {@code ei4j}, {@code C ei}, {@code JInterface}, {@code Erlang}. */
  String name();

  /**
   * Runs {@code w} once untimed for {@code warmupMillis}, then once timed for about
   * {@code millis}, and returns the timed run.
   *
   * @throws Exception when the run fails or the server's answer does not match what was sent
   */
  Measurement run(String transport, Workload w, long warmupMillis, long millis) throws Exception;

  @Override
  default void close() {}
}
