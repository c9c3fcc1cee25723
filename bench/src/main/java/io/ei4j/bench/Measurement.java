package io.ei4j.bench;

/**
 * The outcome of one timed run: {@code count} operations (round trips or messages) and
 * {@code bytes} of binary payload in {@code nanos} nanoseconds, or the error that stopped
 * it ({@code error} non-null, figures zero). {@code round} numbers the harness's passes
 * over all clients, from 1 (0 before the harness assigns it). {@code cpuNanos} is the CPU
 * time (user + system, every thread) of the client's process over the timed run, or -1
 * where the client does not report it (issue 21's CPU per message).
 */
record Measurement(String transport, Workload workload, String client, long count, long nanos, long bytes,
    String error, int round, long cpuNanos) {

  /** A successful run, not yet assigned to a round, without a CPU figure. */
  Measurement(String transport, Workload workload, String client, long count, long nanos, long bytes) {
    this(transport, workload, client, count, nanos, bytes, null, 0, -1);
  }

  /** A successful run, not yet assigned to a round, with the process's CPU time over it. */
  Measurement(String transport, Workload workload, String client, long count, long nanos, long bytes, long cpuNanos) {
    this(transport, workload, client, count, nanos, bytes, null, 0, cpuNanos);
  }

  static Measurement failed(String transport, Workload workload, String client, String error) {
    return new Measurement(transport, workload, client, 0, 0, 0, error, 0, -1);
  }

  /** This run as part of round {@code r}. */
  Measurement inRound(int r) {
    return new Measurement(transport, workload, client, count, nanos, bytes, error, r, cpuNanos);
  }

  /** CPU seconds of the client's process per million operations, or NaN without a CPU figure. */
  double cpuSecondsPerMillion() {
    return ok() && cpuNanos >= 0 && count > 0 ? cpuNanos / 1e3 / count : Double.NaN;
  }

  boolean ok() {
    return error == null && nanos > 0;
  }

  /** Operations per second. */
  double opsPerSecond() {
    return ok() ? count * 1e9 / nanos : Double.NaN;
  }

  /** Binary payload in MB (10^6 bytes) per second. */
  double megabytesPerSecond() {
    return ok() ? bytes * 1e3 / nanos : Double.NaN;
  }

  /** The figure the table shows: MB/s or operations per second, as the workload says. */
  double figure() {
    return workload.throughputInMegabytes() ? megabytesPerSecond() : opsPerSecond();
  }
}
