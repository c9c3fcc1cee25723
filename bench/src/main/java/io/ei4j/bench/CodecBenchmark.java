package io.ei4j.bench;

import io.ei4j.term.ErlTerm;
import io.ei4j.term.TermBuffer;
import io.ei4j.term.TermDecodeException;
import io.ei4j.term.TermDecoder;
import io.ei4j.term.TermEncoder;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Encode and decode of each {@link Corpus} term, ei4j against JInterface and against
 * encon-java 1.6.10 ({@link EnconCodec}, issue 21) on the same term. ei4j encodes into one reused {@link TermBuffer}, JInterface into one reused
 * {@code OtpOutputStream}; both decode from the same bytes (ei4j's encoding). Throughput
 * in operations per second; run with {@code -prof gc} for bytes allocated per operation.
 *
 * <p>{@link #ei4jDecode} copies each binary out of the input, as a connection does for a
 * frame that fits its reused read buffer, and as JInterface always does; it is the figure
 * compared with JInterface. {@link #ei4jDecodeShared} decodes with
 * {@link TermDecoder#sharingBinaries()}, binaries pointing into the input, as a connection
 * does for a frame too large for its read buffer (which then gets an array of its own).
 *
 * <p>Setup fails (and with it the run) unless JInterface's copy of the term, re-encoded by
 * JInterface, decodes in ei4j to a term equal to the original: both sides must work on the
 * same term.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
public class CodecBenchmark {
  /** The corpus term; see {@link Corpus#term(String)}. */
  @Param({"control", "binary1k", "list200", "map100", "bigints", "deep"})
  public String term;

  private ErlTerm ei4jTerm;
  private byte[] etf;
  private final TermBuffer buffer = new TermBuffer(64 * 1024);
  private final TermDecoder decoder = new TermDecoder();
  private final TermDecoder sharing = decoder.sharingBinaries();
  private ForeignCodec jinterface;
  private Object jinterfaceTerm;

  /** Builds the term in both libraries and checks that they agree on it. */
  @Setup(Level.Trial)
  public void setUp() throws Exception {
    ei4jTerm = Corpus.term(term);
    etf = TermEncoder.toBytes(ei4jTerm);
    jinterface = JInterface.codec();
    jinterfaceTerm = jinterface.decode(etf);
    ErlTerm back = new TermDecoder().decode(jinterface.encodeToBytes(jinterfaceTerm));
    if (!back.equals(ei4jTerm)) {
      throw new IllegalStateException("JInterface does not hold the same term for '" + term + "': "
          + ei4jTerm + " came back as " + back);
    }
    buffer.reset();
    TermEncoder.encode(ei4jTerm, buffer);
    if (!Arrays.equals(buffer.toByteArray(), etf)) {
      throw new IllegalStateException("encoding into a reused buffer differs from toBytes for '" + term + "'");
    }
  }

  /** ei4j: encode into the reused buffer; returns the length so that the work is used. */
  @Benchmark
  public int ei4jEncode() {
    buffer.reset();
    TermEncoder.encode(ei4jTerm, buffer);
    return buffer.length();
  }

  /** ei4j: decode the term's bytes into a new term. */
  @Benchmark
  public ErlTerm ei4jDecode() throws TermDecodeException {
    return decoder.decode(etf);
  }

  /** ei4j: decode the term's bytes into a new term whose binaries share the input array. */
  @Benchmark
  public ErlTerm ei4jDecodeShared() throws TermDecodeException {
    return sharing.decode(etf);
  }

  /** JInterface: encode into its reused output stream. */
  @Benchmark
  public int jinterfaceEncode() {
    return jinterface.encode(jinterfaceTerm);
  }

  /**
   * encon's copy of the benchmark's term, made by decoding ei4j's bytes and checked like
   * JInterface's. Its setup fails for a term encon cannot decode ({@code bigints}, see
   * {@link EnconCodec#holds}), which fails only the two encon benchmarks of that term.
   */
  @State(Scope.Thread)
  public static class Encon {
    final ForeignCodec codec = new EnconCodec();
    Object term;
    byte[] etf;

    /** Decodes ei4j's encoding of the benchmark's term and checks it comes back equal. */
    @Setup(Level.Trial)
    public void setUp(CodecBenchmark b) throws Exception {
      if (!EnconCodec.holds(b.term)) {
        throw new IllegalStateException("encon 1.6.10 cannot decode '" + b.term + "' (SMALL_BIG_EXT of 128 bytes and more)");
      }
      etf = b.etf;
      term = codec.decode(etf);
      ErlTerm back = new TermDecoder().decode(codec.encodeToBytes(term));
      if (!back.equals(b.ei4jTerm)) {
        throw new IllegalStateException("encon does not hold the same term for '" + b.term + "': "
            + b.ei4jTerm + " came back as " + back);
      }
    }
  }

  /** encon: encode into its reused netty buffer. */
  @Benchmark
  public int enconEncode(Encon e) {
    return e.codec.encode(e.term);
  }

  /** encon: decode the same bytes into its term objects. */
  @Benchmark
  public Object enconDecode(Encon e) throws Exception {
    return e.codec.decode(e.etf);
  }

  /** JInterface: decode the same bytes into its term objects. */
  @Benchmark
  public Object jinterfaceDecode() throws Exception {
    return jinterface.decode(etf);
  }
}
