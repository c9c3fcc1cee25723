/**
 * Erlang terms, the external term format (ETF), and Erlang text syntax.
 *
 * <h2>Model</h2>
 *
 * {@link io.ei4j.term.ErlTerm} is a sealed interface over immutable value classes, one per
 * Erlang type: {@link io.ei4j.term.ErlAtom}, {@link io.ei4j.term.ErlInteger} (any size),
 * {@link io.ei4j.term.ErlFloat}, {@link io.ei4j.term.ErlBinary} (binaries and bitstrings),
 * {@link io.ei4j.term.ErlTuple}, {@link io.ei4j.term.ErlList} (proper and improper),
 * {@link io.ei4j.term.ErlMap}, {@link io.ei4j.term.ErlPid}, {@link io.ei4j.term.ErlPort},
 * {@link io.ei4j.term.ErlRef}, {@link io.ei4j.term.ErlFun} (closures) and
 * {@link io.ei4j.term.ErlExportFun}. {@code equals} is Erlang's {@code =:=} and
 * {@code compareTo} Erlang's term order (made total and consistent with {@code equals}), both
 * as OTP 25 defines them; {@link io.ei4j.term.Terms} builds, converts, prints and parses.
 *
 * <h2>Codec</h2>
 *
 * {@link io.ei4j.term.TermEncoder} writes into a reusable {@link io.ei4j.term.TermBuffer} the
 * bytes of OTP 25's {@code term_to_binary(T, [{minor_version, 2}])} (UTF-8 atoms and the
 * other OTP 26 mandatory encodings). {@link io.ei4j.term.TermDecoder} reads every tag from a
 * {@code ByteBuffer} or array slice without copying it first, and treats input as hostile:
 *
 * <ul>
 *   <li>every length is checked against the bytes left (and
 *       {@link io.ei4j.term.DecodeLimits#maxTermBytes()}) before anything is allocated;
 *   <li>nesting is bounded by {@link io.ei4j.term.DecodeLimits#maxDepth()} and costs a
 *       bounded amount of Java stack: the first 64 levels are read by recursion, deeper
 *       containers are filled from an explicit stack on the heap;
 *   <li>a compressed term's declared size is checked against
 *       {@link io.ei4j.term.DecodeLimits#maxInflatedBytes()} and against what the remaining
 *       bytes could inflate to, before inflating;
 *   <li>everything wrong is one {@link io.ei4j.term.TermDecodeException} with an offset and a
 *       message naming what was expected and what was found.
 * </ul>
 *
 * <h2>Where ei4j follows OTP 25 rather than the obvious rule</h2>
 *
 * <ul>
 *   <li>{@code 0.0 =:= -0.0} (changed in OTP 27); the sign is still encoded.
 *   <li>References compare and hash ignoring trailing zero id words, as {@code =:=} does.
 *   <li>A closure's creator pid takes no part in equality or order.
 *   <li>Pids order by serial, id, node, creation; ports by node, creation, id; references by
 *       node, creation, then ids from the last.
 *   <li>Map keys compare exactly (every integer before every float) even inside an arithmetic
 *       comparison.
 *   <li>Ports with ids from 2<sup>28</sup> up are written as {@code V4_PORT_EXT}.
 *   <li>Maps of more than 32 entries are written in key order; Erlang writes them in its
 *       internal hash order, so only their bytes differ.
 * </ul>
 *
 * <p>All of this is checked against a real {@code erl} by the module's tests
 * ({@code ErlangOracleTest}): random terms round-tripped byte for byte, random pairs ordered,
 * printed text read by {@code erl_parse} and compared with {@code io_lib:format("~w")}.
 */
package io.ei4j.term;
