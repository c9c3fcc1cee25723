package io.ei4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ei4j.internal.dist.DistFrameDecoder;
import io.ei4j.term.TermDecoder;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Fuzzes {@link DistFrameDecoder} directly, with the state it keeps across frames (the
 * atom cache, fragments being reassembled): the input is a sequence of frame bodies, each
 * preceded by a 2-byte length, decoded by one decoder with distribution headers on and a
 * 64 KiB message limit. Invariant: every frame either decodes, completes nothing yet (a
 * fragment), or throws the decoder's typed {@link IOException}s
 * ({@code DistHeaderException}, {@code TermDecodeException}); never more sequences in
 * progress than {@link DistFrameDecoder#MAX_SEQUENCES}, nothing else escapes.
 */
class DistFrameDecoderFuzzTest {
  @FuzzTest(maxDuration = "10s")
  void fuzz(byte[] input) {
    DistFrameDecoder decoder = new DistFrameDecoder(true, 1 << 16, new TermDecoder());
    ByteBuffer in = ByteBuffer.wrap(input);
    while (in.remaining() >= 2) {
      int len = Math.min(in.getShort() & 0xffff, in.remaining());
      byte[] frame = new byte[len];
      in.get(frame);
      try {
        decoder.decode(ByteBuffer.wrap(frame), (len & 1) == 0);
      } catch (IOException endsTheConnection) {
        return;
      }
      if (decoder.sequencesInProgress() > DistFrameDecoder.MAX_SEQUENCES) {
        throw new AssertionError(decoder.sequencesInProgress() + " sequences in progress");
      }
    }
  }
}
