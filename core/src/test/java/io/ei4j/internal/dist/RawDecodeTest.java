package io.ei4j.internal.dist;

import static io.ei4j.internal.dist.FragmentFrames.concat;
import static io.ei4j.internal.dist.FragmentFrames.cont;
import static io.ei4j.internal.dist.FragmentFrames.term;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.ei4j.connect.EiMessage;
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
 * {@link DistFrameDecoder} with a raw sink ({@link DistFrameDecoder#rawSink}): a message's
 * payload goes to the sink undecoded, in every frame layout; signals and compressed
 * payloads are decoded; a reassembled message's buffer is handed over and the sink's old
 * one reused for the next reassembly only when it is not much larger than needed.
 */
class RawDecodeTest {
  private static final int MAX = 8 << 20;
  private static final ErlPid TO = ErlPid.of(ErlAtom.of("r@localhost"), 3, 0, 5);
  private static final ErlPid FROM = ErlPid.of(ErlAtom.of("s@localhost"), 4, 0, 5);

  private static byte[] body(int size) {
    byte[] b = new byte[size];
    for (int i = 0; i < size; i++) {
      b[i] = (byte) (i * 31 % 251);
    }
    return b;
  }

  private static byte[] payloadBytes(RawPayload p) {
    return Arrays.copyOfRange(p.array(), p.offset(), p.offset() + p.length());
  }

  @Test
  void passThroughFramesLeaveThePayloadWithoutItsVersionByte() throws Exception {
    DistFrameDecoder d = new DistFrameDecoder(false, MAX, new TermDecoder());
    RawPayload sink = new RawPayload();
    ErlTerm payload = ErlTuple.of(ErlAtom.of("seq"), ErlInteger.of(7), ErlBinary.of(body(300)));
    byte[] frame = concat(concat(new byte[] {112}, TermEncoder.toBytes(ControlMessages.send(TO))), TermEncoder.toBytes(payload));
    d.rawSink(sink);
    DistFrameDecoder.Message m = d.decode(ByteBuffer.wrap(frame), false);
    assertNull(m.payload());
    EiMessage.Send s = assertInstanceOf(EiMessage.Send.class, m.raw());
    assertEquals(TO, s.to());
    assertArrayEquals(term(payload), payloadBytes(sink));
    assertEquals(payload, new TermDecoder().decodeTerm(ByteBuffer.wrap(payloadBytes(sink)), null));

    // Without a sink the same frame decodes as always.
    d.rawSink(null);
    DistFrameDecoder.Message decoded = d.decode(ByteBuffer.wrap(frame), false);
    assertNull(decoded.raw());
    assertEquals(payload, decoded.payload());
  }

  @Test
  void aCompressedPayloadAndSignalsAreDecoded() throws Exception {
    DistFrameDecoder d = new DistFrameDecoder(false, MAX, new TermDecoder());
    RawPayload sink = new RawPayload();
    d.rawSink(sink);
    byte[] zeros = new byte[10_000];
    TermBuffer compressed = new TermBuffer();
    TermEncoder.encodeCompressed(ErlBinary.of(zeros), compressed, 6);
    assertEquals(80, compressed.array()[1], "the payload is compressed: 131 80");
    byte[] frame = concat(concat(new byte[] {112}, TermEncoder.toBytes(ControlMessages.regSend(FROM, ErlAtom.of("box")))),
        compressed.toByteArray());
    DistFrameDecoder.Message m = d.decode(ByteBuffer.wrap(frame), false);
    assertNull(m.raw(), "a raw payload has no version byte to say it is compressed: decoded instead");
    assertEquals(ErlBinary.of(zeros), m.payload());

    ErlTuple exit = ErlTuple.of(ErlInteger.of(ControlMessages.PAYLOAD_EXIT), FROM, TO);
    byte[] signal = concat(concat(new byte[] {112}, TermEncoder.toBytes(exit)), TermEncoder.toBytes(ErlAtom.of("bye")));
    DistFrameDecoder.Message s = d.decode(ByteBuffer.wrap(signal), false);
    assertNull(s.raw());
    assertEquals(ErlAtom.of("bye"), s.payload());
    assertEquals(0, sink.length(), "the sink was never written");
  }

  @Test
  void reassemblyBuffersAreHandedOverAndTheOldOneReusedWhenItFits() throws Exception {
    DistFrameDecoder d = new DistFrameDecoder(true, MAX, new TermDecoder());
    RawPayload sink = new RawPayload();
    d.rawSink(sink);
    byte[] control = concat(new byte[] {104, 3}, term(ErlInteger.of(2)));
    control = concat(concat(control, term(ErlAtom.of(""))), term(TO));

    byte[][] arrays = new byte[4][];
    int[] sizes = {300_000, 300_000, 300_000, 40_000};
    for (int k = 0; k < sizes.length; k++) {
      byte[] payload = term(ErlBinary.of(body(sizes[k])));
      byte[] message = concat(control, payload);
      int half = message.length / 2;
      long seq = 100 + k;
      assertNull(d.decode(ByteBuffer.wrap(FragmentFrames.first(seq, 2, FragmentFrames.NO_REFS, Arrays.copyOf(message, half))), false));
      DistFrameDecoder.Message m = d.decode(ByteBuffer.wrap(cont(seq, 1, Arrays.copyOfRange(message, half, message.length))), false);
      assertNotNull(m.raw());
      assertArrayEquals(payload, payloadBytes(sink), "message " + k);
      arrays[k] = sink.array();
    }
    assertNotSame(arrays[0], arrays[1], "the second reassembly had no spare yet that fit");
    assertSame(arrays[0], arrays[2], "the third reused the buffer the sink gave up for the second");
    assertNotSame(arrays[1], arrays[3], "a spare more than twice the size needed is not used for a small message");
    assertNotSame(arrays[0], arrays[3]);
  }
}
