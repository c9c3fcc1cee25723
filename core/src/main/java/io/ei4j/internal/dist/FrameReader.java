package io.ei4j.internal.dist;

import io.ei4j.connect.EiConnectionLostException;
import io.ei4j.term.TermDecodeException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Reads frames from a connection's socket and decodes them with its {@link DistFrameDecoder}:
 * the read state that moves with the reading role (see {@link ReadingRole}). Only the
 * holder of the reading role calls it, so it needs no lock.
 *
 * <p>Reads fill a {@link #READ_BUFFER_BYTES} buffer with whatever has arrived, so a burst of
 * small frames costs one read; a frame that fits is decoded where it lies (its binaries
 * copied, since the buffer is reused), a larger one gets a buffer of its own that the
 * decoded binaries then share. A read that fails with a timeout or an interrupt consumes
 * nothing it cannot resume: the length stays in the buffer until the whole frame is there,
 * and a large frame's partial buffer is kept for the next call.
 */
public final class FrameReader {
  /** Reads fill a buffer of this size; frames that fit are decoded where they lie. */
  private static final int READ_BUFFER_BYTES = 64 << 10;

  private final SocketIo<?> io;
  private final String peerName;
  /** What the socket calls are doing, for their error messages: built once, not per frame. */
  private final String readingWhat;
  private final int maxMessageBytes;
  private final DistFrameDecoder frames;
  /** Answers a tick (a frame of length 0). */
  private final Runnable onTick;
  /** The read buffer. */
  private final ByteBuffer in = ByteBuffer.allocate(READ_BUFFER_BYTES).flip();
  /** A frame larger than {@link #in} whose bytes are still arriving. */
  private ByteBuffer partialFrame;
  private volatile long lastReadNanos;

  /**
   * @param maxMessageBytes the largest frame accepted; a larger one ends the connection
   * @param onTick called on the reading thread for every tick that arrives
   */
  public FrameReader(SocketIo<?> io, String peerName, int maxMessageBytes, DistFrameDecoder frames, Runnable onTick) {
    this.io = io;
    this.peerName = peerName;
    this.readingWhat = "reading from " + peerName;
    this.maxMessageBytes = maxMessageBytes;
    this.frames = frames;
    this.onTick = onTick;
    this.lastReadNanos = System.nanoTime();
  }

  /** The frame decoder, for its counters (atom cache use, reassembled messages). */
  public DistFrameDecoder decoder() {
    return frames;
  }

  /** When a read last returned bytes (or the reader was made), for the ticker. */
  public long lastReadNanos() {
    return lastReadNanos;
  }

  /** Whether the read buffer holds a whole frame, so that reading it needs no read call. */
  public boolean frameBuffered() {
    if (partialFrame != null || in.remaining() < 4) {
      return false;
    }
    long n = in.getInt(in.position()) & 0xffffffffL;
    return n <= in.remaining() - 4;
  }

  /**
   * Reads one frame and decodes it.
   *
   * @param wakeable whether the read may be woken up ({@link SocketIo#wakeupRead}), which
   *     ends it as a timeout that consumed nothing
   * @return the message, or null for a tick (answered through {@code onTick}) or a fragment
   *     that did not complete a message
   * @throws EiConnectionLostException for a frame above the size limit or that does not decode
   * @throws EOFException when the peer closed the connection
   */
  public DistFrameDecoder.Message read(Deadline deadline, boolean wakeable) throws IOException {
    ByteBuffer frame;
    boolean owned;
    if (partialFrame != null) {
      readFrom(partialFrame, deadline, wakeable);
      frame = partialFrame.flip();
      partialFrame = null;
      owned = true;
    } else {
      fill(in, 4, deadline, wakeable);
      long n = in.getInt(in.position()) & 0xffffffffL;
      if (n == 0) {
        in.position(in.position() + 4);
        onTick.run(); // answer a tick, as ei does
        return null;
      }
      int max = maxMessageBytes;
      if (n > max) {
        throw new EiConnectionLostException(peerName + " sent a frame of " + n + " bytes, more than maxMessageBytes (" + max + ")");
      }
      if (n <= in.capacity() - 4) {
        fill(in, 4 + (int) n, deadline, wakeable);
        int at = in.position() + 4;
        frame = in.slice(at, (int) n);
        in.position(at + (int) n);
        owned = false;
      } else {
        in.position(in.position() + 4);
        ByteBuffer big = ByteBuffer.allocate((int) n);
        int have = Math.min(in.remaining(), (int) n);
        big.put(in.slice(in.position(), have)); // what the read buffer already holds of it
        in.position(in.position() + have);
        partialFrame = big;
        readFrom(big, deadline, wakeable);
        partialFrame = null;
        frame = big.flip();
        owned = true;
      }
    }
    try {
      return frames.decode(frame, owned);
    } catch (DistHeaderException e) {
      throw new EiConnectionLostException(peerName + " sent " + e.getMessage(), e);
    } catch (TermDecodeException e) {
      throw new EiConnectionLostException(peerName + " sent an undecodable message: " + e.getMessage(), e);
    }
  }

  /** Makes at least {@code n} bytes (at most the buffer's capacity) readable in {@code in}. */
  private void fill(ByteBuffer in, int n, Deadline deadline, boolean wakeable) throws IOException {
    if (in.remaining() >= n) {
      return;
    }
    in.compact();
    try {
      while (in.position() < n) {
        int r = io.readSome(in, deadline, readingWhat, wakeable);
        if (r < 0) {
          throw new EOFException(peerName + " closed the connection");
        }
        lastReadNanos = System.nanoTime();
      }
    } finally {
      in.flip();
    }
  }

  private void readFrom(ByteBuffer buf, Deadline deadline, boolean wakeable) throws IOException {
    while (buf.hasRemaining()) {
      int n = io.readSome(buf, deadline, readingWhat, wakeable);
      if (n < 0) {
        throw new EOFException(peerName + " closed the connection");
      }
      lastReadNanos = System.nanoTime();
    }
  }
}
