package io.ei4j.internal.dist;

import static io.ei4j.internal.dist.FragmentFrames.concat;
import static io.ei4j.internal.dist.FragmentFrames.term;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
 * A fragmented message's reassembly buffer is sized from the announced fragment count, so
 * that a large message is copied once, and what all announcements together may reserve
 * ahead of the bytes that arrived is bounded per connection.
 */
class FragmentReservationTest {
  private static final int MAX = 64 << 20;

  private static ByteBuffer first(long seq, long count, byte[] chunk) {
    return ByteBuffer.wrap(FragmentFrames.first(seq, count, FragmentFrames.NO_REFS, chunk));
  }

  private static ByteBuffer cont(long seq, long id, byte[] chunk) {
    return ByteBuffer.wrap(FragmentFrames.cont(seq, id, chunk));
  }

  @Test
  void aMessageCutIntoEqualFragmentsIsReassembledInTheBufferItAnnounced() throws Exception {
    DistFrameDecoder d = new DistFrameDecoder(true, MAX, new TermDecoder());
    ErlPid to = ErlPid.of(ErlAtom.of("r@localhost"), 3, 0, 5);
    byte[] body = new byte[100_000];
    Arrays.fill(body, (byte) 7);
    byte[] whole = concat(term(ErlTuple.of(ErlInteger.of(2), ErlAtom.of(""), to)), term(ErlBinary.of(body)));
    int size = 10_000;
    int count = (whole.length + size - 1) / size;
    assertNull(d.decode(first(1, count, Arrays.copyOfRange(whole, 0, size)), false));
    assertEquals((long) count * size, d.reservedBytes(), "the announced size, reserved once");
    DistFrameDecoder.Message m = null;
    for (int i = 1; i < count; i++) {
      m = d.decode(cont(1, count - i, Arrays.copyOfRange(whole, i * size, Math.min(whole.length, (i + 1) * size))), false);
    }
    assertEquals(ErlBinary.of(body), m.payload());
    assertEquals(0, d.reservedBytes(), "given back with the message");
    assertEquals(0, d.bufferedBytes());
  }

  @Test
  void announcementsReserveAtMostTheBoundInAllThenBuffersGrowWithWhatArrives() throws Exception {
    DistFrameDecoder d = new DistFrameDecoder(true, MAX, new TermDecoder());
    byte[] chunk = new byte[4096];
    // Each announces 4 MiB (1,024 fragments of 4 KiB) and sends only its first fragment.
    for (long seq = 1; seq <= 40; seq++) {
      assertNull(d.decode(first(seq, 1024, chunk), false));
    }
    assertEquals(40, d.sequencesInProgress());
    assertTrue(d.reservedBytes() <= DistFrameDecoder.MAX_RESERVED_BYTES + 40L * 2 * chunk.length,
        "reserved " + d.reservedBytes());
    assertEquals(DistFrameDecoder.MAX_RESERVED_BYTES + 36L * 2 * chunk.length, d.reservedBytes(),
        "four announcements fit the bound, the other 36 get twice their first fragment");
    // A dropped sequence gives its reservation back.
    d.discard(cont(1, 1023, chunk));
    assertEquals(DistFrameDecoder.MAX_RESERVED_BYTES - (4 << 20) + 36L * 2 * chunk.length, d.reservedBytes());
  }
}
