package io.ei4j.internal.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The frames {@link FrameWriter} makes, byte for byte against frames written out by hand from
 * {@code erl_dist_protocol} and {@code erl_ext_dist}, and read back by its twin
 * {@link DistFrameDecoder}.
 */
class FrameWriterTest {
  private static final ErlPid TO = ErlPid.of(ErlAtom.of("a@h"), 1, 0, 7);
  private static final ErlTuple SEND = ControlMessages.send(TO);
  private static final ErlAtom HI = ErlAtom.of("hi");

  /** {@code {2,'',<a@h.1.0.7>}} without its version byte: SMALL_TUPLE, SMALL_INTEGER, atoms, NEW_PID. */
  private static final int[] SEND_TERM = {
      104, 3, 97, 2, 119, 0, 88, 119, 3, 'a', '@', 'h', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7};
  /** The atom {@code hi} without its version byte (SMALL_ATOM_UTF8_EXT). */
  private static final int[] HI_TERM = {119, 2, 'h', 'i'};

  /** What a sink received: every frame or fragment as one array, in order. */
  private static final class Frames implements FrameWriter.Sink {
    final List<byte[]> frames = new ArrayList<>();
    final List<long[]> fragments = new ArrayList<>();

    @Override
    public void frame(ByteBuffer[] frame, Deadline deadline) {
      frames.add(concat(frame));
    }

    @Override
    public void fragment(ByteBuffer[] frame, long index, long count, Deadline deadline) {
      frames.add(concat(frame));
      fragments.add(new long[] {index, count});
    }

    private static byte[] concat(ByteBuffer[] bufs) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (ByteBuffer b : bufs) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        out.writeBytes(a);
      }
      return out.toByteArray();
    }
  }

  @Test
  void passThroughFrameIsLengthPTheVersionedControlAndPayload() throws IOException {
    Frames out = write(new FrameWriter(false, false), SEND, HI);
    byte[] expected = bytes(new int[] {0, 0, 0, 31, 112, 131}, SEND_TERM, new int[] {131}, HI_TERM);
    assertEquals(1, out.frames.size());
    assertArrayEquals(expected, out.frames.get(0));
    assertDecodes(false, out.frames, SEND, HI);
  }

  @Test
  void headerFrameIsLength131_68_0AndTermsWithoutVersions() throws IOException {
    Frames out = write(new FrameWriter(true, true), SEND, HI);
    byte[] expected = bytes(new int[] {0, 0, 0, 31, 131, 68, 0}, SEND_TERM, HI_TERM);
    assertArrayEquals(expected, out.frames.get(0));
    assertDecodes(true, out.frames, SEND, HI);
  }

  @Test
  void controlWithoutPayloadIsOneTerm() throws IOException {
    Frames out = write(new FrameWriter(false, false), SEND, null);
    assertArrayEquals(bytes(new int[] {0, 0, 0, 26, 112, 131}, SEND_TERM), out.frames.get(0));
    assertDecodes(false, out.frames, SEND, null);
  }

  @Test
  void largePayloadGoesOutAsFragmentsCountingDownToOne() throws IOException {
    byte[] data = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    ErlBinary payload = ErlBinary.of(data);
    // BINARY_EXT, length 10, the bytes: 15 bytes, above 4, in fragments of 4: 4+4+4+3.
    FrameWriter w = new FrameWriter(true, true, 4, 4);
    Frames out = write(w, SEND, payload);
    int[] seq = {0, 0, 0, 0, 0, 0, 0, 1};
    assertEquals(4, out.frames.size());
    assertArrayEquals(bytes(new int[] {0, 0, 0, 2 + 16 + 1 + 24 + 4, 131, 69}, seq, new int[] {0, 0, 0, 0, 0, 0, 0, 4, 0},
        SEND_TERM, new int[] {109, 0, 0, 0}), out.frames.get(0));
    assertArrayEquals(bytes(new int[] {0, 0, 0, 2 + 16 + 4, 131, 70}, seq, new int[] {0, 0, 0, 0, 0, 0, 0, 3},
        new int[] {10, 0, 1, 2}), out.frames.get(1));
    assertArrayEquals(bytes(new int[] {0, 0, 0, 2 + 16 + 4, 131, 70}, seq, new int[] {0, 0, 0, 0, 0, 0, 0, 2},
        new int[] {3, 4, 5, 6}), out.frames.get(2));
    assertArrayEquals(bytes(new int[] {0, 0, 0, 2 + 16 + 3, 131, 70}, seq, new int[] {0, 0, 0, 0, 0, 0, 0, 1},
        new int[] {7, 8, 9}), out.frames.get(3));
    assertEquals(List.of("0/4", "1/4", "2/4", "3/4"),
        out.fragments.stream().map(f -> f[0] + "/" + f[1]).toList());
    assertDecodes(true, out.frames, SEND, payload);

    // The next fragmented message gets the next sequence id.
    Frames again = write(w, SEND, payload);
    assertEquals(2, ByteBuffer.wrap(again.frames.get(0), 6, 8).getLong());
  }

  @Test
  void withoutFragmentsNegotiatedALargePayloadIsOneFrame() throws IOException {
    ErlBinary payload = ErlBinary.of(new byte[10]);
    Frames out = write(new FrameWriter(true, false, 4, 4), SEND, payload);
    assertEquals(1, out.frames.size());
    assertEquals(0, out.fragments.size());
    assertDecodes(true, out.frames, SEND, payload);
  }

  @Test
  void controlFromItsFieldsIsTheSameBytesAsTheTuple() throws IOException {
    ErlPid from = ErlPid.of(ErlAtom.of("b@h"), 9, 0, 3);
    ErlAtom name = ErlAtom.of("sink");
    ErlBinary big = ErlBinary.of(new byte[FrameWriter.REFERENCE_BINARIES_FROM]);
    for (boolean headers : new boolean[] {false, true}) {
      FrameWriter w = new FrameWriter(headers, true);
      for (ErlTerm payload : new ErlTerm[] {HI, null, big}) {
        assertSameFrames(write(w, SEND, payload),
            write(w, ControlMessages.SEND, ControlMessages.UNUSED, TO, null, payload));
        assertSameFrames(write(w, ControlMessages.sendSender(from, TO), payload),
            write(w, ControlMessages.SEND_SENDER, from, TO, null, payload));
        assertSameFrames(write(w, ControlMessages.regSend(from, name), payload),
            write(w, ControlMessages.REG_SEND, from, ControlMessages.UNUSED, name, payload));
      }
    }
    Frames out = write(new FrameWriter(false, false), ControlMessages.SEND, ControlMessages.UNUSED, TO, null, HI);
    assertArrayEquals(bytes(new int[] {0, 0, 0, 31, 112, 131}, SEND_TERM, new int[] {131}, HI_TERM), out.frames.get(0));
  }

  private static void assertSameFrames(Frames expected, Frames actual) {
    assertEquals(expected.frames.size(), actual.frames.size());
    for (int i = 0; i < expected.frames.size(); i++) {
      assertArrayEquals(expected.frames.get(i), actual.frames.get(i));
    }
  }

  private static Frames write(FrameWriter w, int op, ErlTerm a, ErlTerm b, ErlTerm c, ErlTerm payload)
      throws IOException {
    Frames out = new Frames();
    w.write(op, a, b, c, payload, Deadline.after(1_000), out);
    return out;
  }

  private static Frames write(FrameWriter w, ErlTuple control, ErlTerm payload) throws IOException {
    Frames out = new Frames();
    w.write(control, payload, Deadline.after(1_000), out);
    return out;
  }

  /** Feeds the frames' bodies to a decoder: the last completes the message, the others none. */
  private static void assertDecodes(boolean headers, List<byte[]> frames, ErlTerm control, ErlTerm payload)
      throws IOException {
    DistFrameDecoder d = new DistFrameDecoder(headers, 1 << 20, new TermDecoder());
    DistFrameDecoder.Message m = null;
    for (int i = 0; i < frames.size(); i++) {
      byte[] f = frames.get(i);
      assertEquals(f.length - 4, ByteBuffer.wrap(f).getInt(), "the length prefix counts the rest of the frame");
      m = d.decode(ByteBuffer.wrap(Arrays.copyOfRange(f, 4, f.length)), true);
      if (i < frames.size() - 1) {
        assertNull(m);
      }
    }
    assertEquals(control, m.control());
    assertEquals(payload, m.payload());
  }

  private static byte[] bytes(int[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int[] p : parts) {
      for (int b : p) {
        out.write(b);
      }
    }
    return out.toByteArray();
  }
}
