package io.ei4j.internal.dist;

import static io.ei4j.internal.dist.FragmentFrames.concat;
import static io.ei4j.internal.dist.FragmentFrames.cont;
import static io.ei4j.internal.dist.FragmentFrames.term;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermDecoder;
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

  /** One new atom cache entry: '' (the cookie's atom) in slot 0. */
  private static final byte[] CACHED_EMPTY_ATOM = {1, 0x08, 0, 0};

  private static byte[] first(long seq, long count, byte[] chunk) {
    return FragmentFrames.first(seq, count, CACHED_EMPTY_ATOM, chunk);
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
}
