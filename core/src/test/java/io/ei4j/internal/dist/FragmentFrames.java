package io.ei4j.internal.dist;

import io.ei4j.term.ErlTerm;
import io.ei4j.term.TermBuffer;
import io.ei4j.term.TermEncoder;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** Frame bodies of fragmented messages, for the tests of {@link DistFrameDecoder}. */
final class FragmentFrames {
  /** Atom cache references of a fragment that uses none: {@code N = 0}. */
  static final byte[] NO_REFS = {0};

  private FragmentFrames() {}

  /** {@code 131 69 seq count refs chunk}: the first of {@code count} fragments. */
  static byte[] first(long seq, long count, byte[] refs, byte[] chunk) {
    return ByteBuffer.allocate(18 + refs.length + chunk.length).put((byte) 131).put((byte) 69).putLong(seq).putLong(count)
        .put(refs).put(chunk).array();
  }

  /** {@code 131 70 seq id chunk}: a continuation fragment. */
  static byte[] cont(long seq, long id, byte[] chunk) {
    return ByteBuffer.allocate(18 + chunk.length).put((byte) 131).put((byte) 70).putLong(seq).putLong(id).put(chunk).array();
  }

  /** A term as a distribution header's message carries it: without the version byte. */
  static byte[] term(ErlTerm t) {
    TermBuffer b = new TermBuffer();
    TermEncoder.encodeTerm(t, b);
    return b.toByteArray();
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
