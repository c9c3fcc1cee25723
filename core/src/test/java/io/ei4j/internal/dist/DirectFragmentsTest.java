package io.ei4j.internal.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermBuffer;
import io.ei4j.term.TermDecoder;
import io.ei4j.term.TermEncoder;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link DistFrameDecoder#startFragment}: the fragments of a message put straight into its
 * reassembly buffer give the message {@link DistFrameDecoder#decode} would; limits are
 * checked before any byte is read; every frame the path does not take is left to
 * {@code decode}, untouched.
 */
class DirectFragmentsTest {
  private static final int MAX = 1 << 20;
  private static final ErlPid TO = ErlPid.of(ErlAtom.of("r@localhost"), 3, 0, 5);

  /**
   * Frame bodies {@code 131 69 seq count} with one new atom cache entry ('' as the cookie's
   * atom, slot 0), or {@code 131 70 seq id}, then {@code chunk}.
   */
  private static byte[] first(long seq, long count, byte[] chunk) {
    return ByteBuffer.allocate(18 + 4 + chunk.length).put((byte) 131).put((byte) 69).putLong(seq).putLong(count)
        .put((byte) 1).put((byte) 0x08).put((byte) 0).put((byte) 0).put(chunk).array();
  }

  private static byte[] cont(long seq, long id, byte[] chunk) {
    return ByteBuffer.allocate(18 + chunk.length).put((byte) 131).put((byte) 70).putLong(seq).putLong(id).put(chunk).array();
  }

  private static byte[] message(int size) {
    byte[] body = new byte[size];
    for (int i = 0; i < size; i++) {
      body[i] = (byte) (i * 31 % 251);
    }
    // the control message refers to the cached atom: ATOM_CACHE_REF (82) 0
    byte[] control = concat(new byte[] {104, 3}, term(ErlInteger.of(2)));
    control = concat(control, new byte[] {82, 0});
    control = concat(control, term(TO));
    return concat(control, term(ErlBinary.of(body)));
  }

  /** Feeds one frame body through the direct path, its bytes in pieces of {@code piece}. */
  private static DistFrameDecoder.Message direct(DistFrameDecoder d, byte[] frame, int piece) throws Exception {
    int h = d.startFragment(ByteBuffer.wrap(frame, 0, Math.min(frame.length, 64)).slice(), frame.length);
    assertTrue(h > 0, "taken");
    ByteBuffer room = d.fragmentRoom();
    assertEquals(frame.length - h, room.remaining());
    for (int at = h; at < frame.length; at += piece) {
      room.put(frame, at, Math.min(piece, frame.length - at));
    }
    return d.finishFragment();
  }

  @Test
  void fragmentsPutStraightIntoTheirBufferGiveTheMessageThatDecodeGives() throws Exception {
    byte[] whole = message(100_000);
    int size = 9_000;
    int count = (whole.length + size - 1) / size;
    for (int piece : new int[] {1, 7, 9_000}) {
      DistFrameDecoder direct = new DistFrameDecoder(true, MAX, new TermDecoder());
      DistFrameDecoder decoded = new DistFrameDecoder(true, MAX, new TermDecoder());
      DistFrameDecoder.Message a = null;
      DistFrameDecoder.Message b = null;
      for (int i = 0; i < count; i++) {
        byte[] chunk = Arrays.copyOfRange(whole, i * size, Math.min(whole.length, (i + 1) * size));
        byte[] frame = i == 0 ? first(5, count, chunk) : cont(5, count - i, chunk);
        // the other sequence's fragments interleave with these on the direct decoder
        if (i == 1) {
          assertNull(direct(direct, first(6, 2, new byte[5000]), piece));
        }
        a = direct(direct, frame, piece);
        b = decoded.decode(ByteBuffer.wrap(frame), false);
      }
      assertEquals(b, a);
      assertEquals(ErlTuple.of(ErlInteger.of(2), ErlAtom.of(""), TO), a.control());
      assertEquals(1, direct.sequencesInProgress(), "sequence 6 goes on");
      assertEquals(5000, direct.bufferedBytes());
    }
  }

  @Test
  void limitsAreCheckedBeforeTheBytesAreRead() throws Exception {
    DistFrameDecoder d = new DistFrameDecoder(true, 20_000, new TermDecoder());
    assertNull(direct(d, first(1, 3, new byte[8000]), 100));
    assertNull(direct(d, cont(1, 2, new byte[8000]), 100));
    DistHeaderException e = assertThrows(DistHeaderException.class, () -> d.startFragment(ByteBuffer.wrap(cont(1, 1, new byte[8000])), 8018));
    assertTrue(e.getMessage().contains("grew to 24000 bytes, more than maxMessageBytes (20000)"), e.getMessage());
  }

  @Test
  void framesThePathDoesNotTakeAreLeftToDecodeUntouched() throws Exception {
    DistFrameDecoder d = new DistFrameDecoder(true, MAX, new TermDecoder());
    byte[] chunk = new byte[5000];
    assertEquals(-1, d.startFragment(ByteBuffer.wrap(cont(9, 3, chunk)), 5018), "an unknown sequence");
    assertEquals(-1, d.startFragment(ByteBuffer.wrap(first(9, 1, chunk)), 5022), "a message in one fragment");
    assertEquals(-1, d.startFragment(ByteBuffer.wrap(first(9, 3, chunk), 0, 20), 5022), "references not all there");
    assertEquals(-1, d.startFragment(ByteBuffer.wrap(new byte[] {(byte) 131, 68, 0}), 3), "not a fragment");
    assertEquals(0, d.sequencesInProgress());
    assertEquals(0, d.newCacheEntries(), "no reference was read");
    assertNull(direct(d, first(9, 3, chunk), 5000));
    assertEquals(-1, d.startFragment(ByteBuffer.wrap(cont(9, 1, chunk)), 5018), "a fragment out of order");
    DistHeaderException e = assertThrows(DistHeaderException.class, () -> d.decode(ByteBuffer.wrap(cont(9, 1, chunk)), false));
    assertTrue(e.getMessage().contains("where fragment 2 was expected"), e.getMessage());
  }

  /** A term as a distribution header's message carries it: without the version byte. */
  private static byte[] term(ErlTerm t) {
    TermBuffer b = new TermBuffer();
    TermEncoder.encodeTerm(t, b);
    return b.toByteArray();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
