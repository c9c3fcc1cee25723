package io.ei4j.epmd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The embedded EPMD's request decoder, reply encoder and registry without sockets: expected
 * bytes written out by hand from epmd's formats, and the creation rules of
 * {@code epmd_srv.c}.
 */
class EpmdServerCodecTest {

  /** The body of ALIVE2_REQ for "ab" at port 0x1234, type 'M', proto 0, 6/5, extra {7, 8}. */
  private static final byte[] ALIVE2 = {
    'x', 0x12, 0x34, 77, 0, 0, 6, 0, 5, 0, 2, 'a', 'b', 0, 2, 7, 8
  };

  @Test
  void alive2DecodesAndItsRequestEncoderIsItsTwin() throws Exception {
    EpmdServerCodec.Alive2Request a = EpmdServerCodec.decodeAlive2(ALIVE2);
    assertEquals(0x1234, a.port());
    assertEquals(77, a.nodeType());
    assertEquals(0, a.protocol());
    assertEquals(6, a.highVersion());
    assertEquals(5, a.lowVersion());
    assertEquals("ab", a.name());
    assertArrayEquals(new byte[] {7, 8}, a.extra());
    byte[] framed = EpmdWire.alive2Request("ab".getBytes(StandardCharsets.UTF_8), 0x1234, 77);
    EpmdServerCodec.Alive2Request fromClient =
        EpmdServerCodec.decodeAlive2(Arrays.copyOfRange(framed, 2, framed.length));
    assertEquals("ab", fromClient.name());
    assertEquals(6, fromClient.highVersion());
    assertEquals(5, fromClient.lowVersion());
    assertEquals(0, fromClient.extra().length);
  }

  @Test
  void malformedAlive2IsDroppedAndABadNameIsAnsweredWithResultOne() throws Exception {
    assertThrows(EpmdServerCodec.MalformedRequestException.class,
        () -> EpmdServerCodec.decodeAlive2(Arrays.copyOf(ALIVE2, 13)));
    byte[] longName = ALIVE2.clone();
    longName[10] = 9; // name length beyond the request
    assertThrows(EpmdServerCodec.MalformedRequestException.class, () -> EpmdServerCodec.decodeAlive2(longName));
    byte[] longExtra = ALIVE2.clone();
    longExtra[14] = 3;
    assertThrows(EpmdServerCodec.MalformedRequestException.class, () -> EpmdServerCodec.decodeAlive2(longExtra));
    byte[] nul = ALIVE2.clone();
    nul[12] = 0;
    assertThrows(EpmdServerCodec.MalformedRequestException.class, () -> EpmdServerCodec.decodeAlive2(nul));
    byte[] badUtf8 = ALIVE2.clone();
    badUtf8[12] = (byte) 0xC3; // a lead byte without its continuation
    assertNull(EpmdServerCodec.decodeAlive2(badUtf8).name());
  }

  @Test
  void portPlease2ToleratesOneTrailingNulOnly() throws Exception {
    assertEquals("ab", EpmdServerCodec.decodePortPlease2(new byte[] {'z', 'a', 'b'}));
    assertEquals("ab", EpmdServerCodec.decodePortPlease2(new byte[] {'z', 'a', 'b', 0}));
    for (byte[] bad : List.of(new byte[] {'z'}, new byte[] {'z', 0}, new byte[] {'z', 'a', 0, 'b'})) {
      assertThrows(EpmdServerCodec.MalformedRequestException.class, () -> EpmdServerCodec.decodePortPlease2(bad));
    }
  }

  @Test
  void repliesAreEpmdsBytes() throws Exception {
    EpmdRegistry registry = new EpmdRegistry();
    EpmdRegistry.Entry e = registry.register(EpmdServerCodec.decodeAlive2(ALIVE2), 42);
    e.counter = 0x01020304L;
    assertArrayEquals(new byte[] {'v', 0, 1, 2, 3, 4}, EpmdServerCodec.alive2Reply(6, e));
    assertArrayEquals(new byte[] {'y', 0, 0, (byte) (0x01020304L % 3 + 1)}, EpmdServerCodec.alive2Reply(5, e));
    assertArrayEquals(new byte[] {'v', 1, 0, 0, 0, 99}, EpmdServerCodec.alive2Reply(6, null));
    assertArrayEquals(new byte[] {'y', 1, 0, 99}, EpmdServerCodec.alive2Reply(5, null));
    assertArrayEquals(new byte[] {'w', 1}, EpmdServerCodec.port2Reply(null));
    assertArrayEquals(new byte[] {'w', 0, 0x12, 0x34, 77, 0, 0, 6, 0, 5, 0, 2, 'a', 'b', 0, 2, 7, 8},
        EpmdServerCodec.port2Reply(e));
    assertArrayEquals(concat(new byte[] {0, 0, 0x11, 0x11}, "name ab at port 4660\n"),
        EpmdServerCodec.namesReply(0x1111, registry.newestFirst()));
    assertArrayEquals(concat(new byte[] {0, 0, 0x11, 0x11}, "active name     <ab> at port 4660, fd = 42\n\0"),
        EpmdServerCodec.dumpReply(0x1111, registry.newestFirst(), registry.released()));
    assertTrue(registry.release(e));
    assertArrayEquals(concat(new byte[] {0, 0, 0x11, 0x11}, "old/unused name <ab>, port = 4660, fd = 42 \n\0"),
        EpmdServerCodec.dumpReply(0x1111, registry.newestFirst(), registry.released()));
    assertArrayEquals("OK".getBytes(StandardCharsets.US_ASCII), EpmdServerCodec.killReply(true));
    assertArrayEquals("NO".getBytes(StandardCharsets.US_ASCII), EpmdServerCodec.killReply(false));
  }

  @Test
  void registryKeepsEpmdsCreationRules() throws Exception {
    EpmdRegistry registry = new EpmdRegistry();
    EpmdServerCodec.Alive2Request ab = EpmdServerCodec.decodeAlive2(ALIVE2);
    EpmdRegistry.Entry first = registry.register(ab, 1);
    long now = System.currentTimeMillis() / 1000;
    assertTrue(Math.abs(first.counter - (now + 1)) <= 2, "a new name starts from the time in seconds");
    assertNull(registry.register(ab, 2), "a taken name");
    assertEquals(List.of("ab"), registry.snapshot().stream().map(NodeInfo::name).toList());
    registry.release(first);
    assertEquals(List.of(), registry.snapshot());
    long before = first.counter;
    EpmdRegistry.Entry again = registry.register(ab, 3);
    assertSame(first, again, "a released name keeps its entry");
    assertEquals(before + 1, again.counter);
    registry.release(again);
    again.counter = 0xFFFF_FFFFL;
    assertEquals(4, registry.register(ab, 4).counter, "wraps at 32 bits, never below 4");
  }

  @Test
  void atMostAThousandReleasedNamesAreKept() throws Exception {
    EpmdRegistry registry = new EpmdRegistry();
    for (int i = 0; i < EpmdRegistry.MAX_RELEASED + 5; i++) {
      byte[] name = ("n" + i).getBytes(StandardCharsets.US_ASCII);
      byte[] framed = EpmdWire.alive2Request(name, 1, 77);
      registry.release(registry.register(
          EpmdServerCodec.decodeAlive2(Arrays.copyOfRange(framed, 2, framed.length)), i));
    }
    assertEquals(EpmdRegistry.MAX_RELEASED, registry.released().size());
    assertEquals("n5", registry.released().iterator().next().name, "the oldest go first");
  }

  private static byte[] concat(byte[] head, String tail) {
    byte[] t = tail.getBytes(StandardCharsets.UTF_8);
    byte[] all = Arrays.copyOf(head, head.length + t.length);
    System.arraycopy(t, 0, all, head.length, t.length);
    return all;
  }
}
