/**
 * ei4j's benchmarks: {@link io.ei4j.bench.CodecBenchmark} (JMH, the term codec against
 * JInterface) and {@link io.ei4j.bench.SideBySide} (ei4j against C ei, JInterface and
 * Erlang over real connections to a real Erlang node). JInterface, the C client and the
 * Erlang modules are compiled at run time against the installed Erlang/OTP; see
 * {@code bench/README.md}. Not a library: nothing here is meant to be depended on.
 */
package io.ei4j.bench;
