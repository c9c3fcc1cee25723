package io.ei4j.internal.dist;

import io.ei4j.term.ErlAtom;
import java.nio.ByteBuffer;

/**
 * The undecoded payload of the message a raw receive returned last: its bytes (no version
 * byte in front) in an array that this object keeps and reuses, and the atom cache
 * references its {@code ATOM_CACHE_REF}s resolve through. The array is replaced, not
 * refilled, when a reassembled message's own buffer is handed over ({@link #take}); the
 * array it held before goes back to the frame decoder for the next reassembly. Not
 * thread-safe: the receiving thread owns it, and the decoder touches it only on that thread,
 * while it holds the reading role.
 */
public final class RawPayload {
  /** Copies grow the array to the next multiple of this, so that sizes that vary a little reuse it. */
  private static final int GRAIN = 4096;

  private byte[] array = new byte[0];
  private int offset;
  private int length;
  private ErlAtom[] refs;

  /** The array that holds the payload, from {@link #offset()} for {@link #length()} bytes. */
  public byte[] array() {
    return array;
  }

  public int offset() {
    return offset;
  }

  public int length() {
    return length;
  }

  /** The atom cache references of the message, or null when its header had none. */
  public ErlAtom[] atomCacheRefs() {
    return refs;
  }

  /** The size of the array kept, what this payload costs in memory between receives. */
  public int capacity() {
    return array.length;
  }

  /**
   * Copies the remaining bytes of {@code src} in (its position is not moved), growing the
   * array when they do not fit, and copies {@code refs}, which may be the decoder's reused
   * array.
   */
  void copy(ByteBuffer src, ErlAtom[] refs) {
    int n = src.remaining();
    if (array.length < n) {
      array = new byte[(int) Math.min(Integer.MAX_VALUE - 8, (n + (long) GRAIN - 1) / GRAIN * GRAIN)];
    }
    src.get(src.position(), array, 0, n);
    offset = 0;
    length = n;
    this.refs = refs == null ? null : refs.clone();
  }

  /**
   * Takes over {@code data}, a reassembled message's buffer that nothing else refers to, as
   * the array holding bytes {@code from..to-1}, with {@code refs}, an array of its own.
   *
   * @return the array held before, which the caller may reuse
   */
  byte[] take(byte[] data, int from, int to, ErlAtom[] refs) {
    byte[] old = array;
    array = data;
    offset = from;
    length = to - from;
    this.refs = refs;
    return old;
  }

  /** Holds {@code bytes} (no version byte in front), for a message that was queued decoded. */
  public void set(byte[] bytes, int from, int to) {
    copy(ByteBuffer.wrap(bytes, from, to - from), null);
  }
}
