package io.ei4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class ByteBuffersTest {

  private static ByteBuffer[] buffers(int... sizes) {
    ByteBuffer[] out = new ByteBuffer[sizes.length];
    for (int i = 0; i < sizes.length; i++) {
      out[i] = ByteBuffer.allocate(sizes[i]);
    }
    return out;
  }

  @Test
  void remainingSumsEveryBuffer() {
    ByteBuffer[] b = buffers(3, 0, 5);
    b[2].position(1);
    assertEquals(7, ByteBuffers.remaining(b));
    assertTrue(ByteBuffers.hasRemaining(b));
  }

  @Test
  void emptyBuffersHaveNothingRemaining() {
    assertFalse(ByteBuffers.hasRemaining(buffers(0, 0)));
    assertEquals(0, ByteBuffers.remaining(buffers()));
  }

  @Test
  void advanceUsesUpEachBufferBeforeMovingTheNext() {
    ByteBuffer[] b = buffers(3, 0, 5, 2);
    ByteBuffers.advance(b, 6);
    assertEquals(3, b[0].position());
    assertEquals(0, b[1].position());
    assertEquals(3, b[2].position());
    assertEquals(0, b[3].position());
    ByteBuffers.advance(b, 4);
    assertFalse(ByteBuffers.hasRemaining(b));
  }

  @Test
  void advancingPastWhatRemainsIsRefused() {
    ByteBuffer[] b = buffers(2, 2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteBuffers.advance(b, 5));
    assertTrue(e.getMessage().contains("4 remained"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ByteBuffers.advance(buffers(1), -1));
  }
}
