package io.ei4j.api;

import java.nio.ByteBuffer;

/**
 * Arithmetic on the buffer arrays of a gathering write, for implementations of
 * {@link SocketCallbacks#writev}, which must advance the buffers' positions by what was
 * written, and for the code that calls it.
 */
public final class ByteBuffers {
  private ByteBuffers() {}

  /** The sum of the buffers' remaining bytes. */
  public static long remaining(ByteBuffer[] buffers) {
    long n = 0;
    for (ByteBuffer b : buffers) {
      n += b.remaining();
    }
    return n;
  }

  /** Whether any of the buffers has bytes remaining. */
  public static boolean hasRemaining(ByteBuffer[] buffers) {
    for (ByteBuffer b : buffers) {
      if (b.hasRemaining()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Advances the positions of {@code buffers}, in order, past {@code written} bytes, as a
   * gathering write of that many bytes would: each buffer is used up before the next moves.
   *
   * @throws IllegalArgumentException if {@code written} is negative or more than remains
   */
  public static void advance(ByteBuffer[] buffers, long written) {
    if (written < 0) {
      throw new IllegalArgumentException("cannot advance by " + written + " bytes");
    }
    long left = written;
    for (ByteBuffer b : buffers) {
      if (left == 0) {
        return;
      }
      int n = (int) Math.min(left, b.remaining());
      b.position(b.position() + n);
      left -= n;
    }
    if (left > 0) {
      throw new IllegalArgumentException("cannot advance by " + written + " bytes: "
          + (written - left) + " remained");
    }
  }
}
