package io.ei4j.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ei4j.term.DecodeLimits;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.TermDecodeException;
import io.ei4j.term.TermDecoder;
import io.ei4j.term.TermEncoder;
import java.nio.ByteBuffer;

/**
 * Fuzzes {@link TermDecoder} with arbitrary bytes, under the default limits and under tight
 * ones. Invariant: a decode either returns a term or throws {@link TermDecodeException};
 * nothing else escapes (no runtime exception, no {@code OutOfMemoryError}, no
 * {@code StackOverflowError}), and a decoded term encodes to bytes that decode back to an
 * equal term (under the default limits: the re-encoding may be larger than the input).
 */
class TermDecoderFuzzTest {
  private static final TermDecoder DEFAULT = new TermDecoder();
  /** Tight enough that the fuzzer reaches every limit check with short inputs. */
  private static final TermDecoder TIGHT = new TermDecoder(new DecodeLimits(8, 16, 4096, 4096));

  @FuzzTest(maxDuration = "10s")
  void fuzz(byte[] input) {
    decode(DEFAULT, input);
    decode(TIGHT, input);
  }

  private static void decode(TermDecoder decoder, byte[] input) {
    ErlTerm term;
    try {
      term = decoder.decode(ByteBuffer.wrap(input));
    } catch (TermDecodeException expected) {
      return;
    }
    byte[] again = TermEncoder.toBytes(term);
    try {
      assertEquals(term, DEFAULT.decode(again), "a decoded term must survive encode and decode");
    } catch (TermDecodeException e) {
      throw new AssertionError("the encoding of a decoded term does not decode: " + e.getMessage(), e);
    }
  }
}
