package io.ei4j.internal.dist;

import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermBuffer;
import io.ei4j.term.TermEncoder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Encodes control messages and their payloads into distribution frames: the twin of
 * {@link DistFrameDecoder}, one per connection. Without distribution headers a frame is
 * {@code len:32 112 (131 control) (131 payload)}; with them {@code len:32 131 68 0 control
 * payload} (a header without atom cache references, terms without version bytes). With
 * {@code FRAGMENTS} negotiated too, a payload above {@link #FRAGMENT_ABOVE} goes out as
 * fragments of {@link #FRAGMENT_BYTES}:
 *
 * <pre>
 *  len:32 131 69 seq:64 count:64 0 control  payload[0 .. F)
 *  len:32 131 70 seq:64 count-1:64          payload[F .. 2F)
 *  ...
 *  len:32 131 70 seq:64 1:64                payload[.. end)
 * </pre>
 *
 * <p>Encoding happens in buffers of the calling thread, before and outside any lock of the
 * connection, so senders encode in parallel; the frames are handed to a {@link Sink} (the
 * connection's send queue) that must be done with them when it returns. Binaries of at
 * least {@link #REFERENCE_BINARIES_FROM} bytes are not copied but handed over as buffers
 * of their own (see {@link TermBuffer#referenceBinariesFrom}).
 *
 * <p>Thread-safe: the only state shared between callers is the fragment sequence counter.
 */
public final class FrameWriter {
  /**
   * The payload bytes in one fragment of a large message (one above {@link #FRAGMENT_ABOVE}).
   * A fragment holds the write lock for about 1 ms at 1 GB/s, 64 ms on a 16 MB/s link.
   */
  public static final int FRAGMENT_BYTES = 1 << 20;
  /**
   * A payload above this many bytes is sent as fragments of {@link #FRAGMENT_BYTES}; up to it,
   * as one frame. Erlang copies a fragmented message together, so fragmenting a 1 MiB message
   * costs the receiver a copy of it: measured against OTP 25 on loopback, 1 MiB messages
   * sent whole took 1.2-1.5 ms each against 1.4-2.9 ms in 256 KiB fragments (three
   * alternating runs each, sender CPU 370-450 against 455-600 us per message).
   */
  public static final int FRAGMENT_ABOVE = 2 << 20;
  /**
   * Binaries of at least this many bytes in a payload are not copied into the sending
   * thread's buffer but handed to the gathering write as they are, so the write's copy is
   * their only one. Below it, the copy costs less than the extra buffers of the write. Equal
   * to {@link SendQueue#QUEUE_FRAME_BYTES}, so a frame holding such a binary is always
   * written by its sender, never copied into the send queue.
   */
  public static final int REFERENCE_BINARIES_FROM = SendQueue.QUEUE_FRAME_BYTES;
  private static final byte PASS_THROUGH = 112;
  private static final int SMALL_TUPLE_EXT = 104;
  private static final int SMALL_INTEGER_EXT = 97;
  /**
   * A sending thread's encoding buffer that grew beyond this is dropped after the message, so
   * one huge message does not hold its memory for the life of the thread. Buffers up to it
   * are kept: a thread that sends 1 MiB messages encodes each into the same array instead
   * of allocating (and zeroing) a new megabyte per send.
   */
  private static final int SHRINK_ABOVE = 4 << 20;
  /** Encoding buffers and the views of them handed to the sink, one set per sending thread. */
  private static final ThreadLocal<SendBuffers> SEND_BUFFERS = ThreadLocal.withInitial(SendBuffers::new);

  /** Where encoded frames go; the buffers are only valid until the call returns. */
  public interface Sink {
    /** One whole frame, length prefix included. */
    void frame(ByteBuffer[] frame, Deadline deadline) throws IOException;

    /**
     * Fragment {@code index} (from 0) of {@code count}, length prefix included; the first
     * carries the control message. Fragments arrive in order, each after the one before
     * returned.
     */
    void fragment(ByteBuffer[] frame, long index, long count, Deadline deadline) throws IOException;
  }

  private final boolean headers;
  private final boolean fragments;
  private final int fragmentAbove;
  private final int fragmentBytes;
  private final AtomicLong sequenceIds = new AtomicLong();

  /**
   * @param headers whether frames carry a distribution header (both sides advertised
   *     {@code DIST_HDR_ATOM_CACHE})
   * @param fragments whether large payloads are fragmented (both sides advertised
   *     {@code FRAGMENTS} too); ignored without headers
   */
  public FrameWriter(boolean headers, boolean fragments) {
    this(headers, fragments, FRAGMENT_ABOVE, FRAGMENT_BYTES);
  }

  /** With other fragment sizes, for tests that check fragments byte for byte. */
  FrameWriter(boolean headers, boolean fragments, int fragmentAbove, int fragmentBytes) {
    this.headers = headers;
    this.fragments = headers && fragments;
    this.fragmentAbove = fragmentAbove;
    this.fragmentBytes = fragmentBytes;
  }

  /** Whether frames carry a distribution header. */
  public boolean headers() {
    return headers;
  }

  /** Whether large payloads go out as fragments. */
  public boolean fragments() {
    return fragments;
  }

  /**
   * Encodes {@code control} and {@code payload} (may be null) in the calling thread's
   * buffers and hands the frame, or its fragments one after the other, to {@code sink}.
   *
   * @throws IllegalArgumentException when an unfragmented frame would exceed the 4-byte length
   */
  public void write(ErlTuple control, ErlTerm payload, Deadline deadline, Sink sink) throws IOException {
    SendBuffers buffers = SendBuffers.take();
    try {
      TermEncoder.encodeTerm(control, startHead(buffers.head));
      writeFrame(buffers, payload, deadline, sink);
    } finally {
      buffers.release();
    }
  }

  /**
   * {@link #write(ErlTuple, ErlTerm, Deadline, Sink)} of the control message
   * {@code {op, a, b}} ({@code c} null) or {@code {op, a, b, c}}, byte for byte, without
   * building the tuple: the shape of {@code SEND}, {@code SEND_SENDER} and
   * {@code REG_SEND}, so that the sends of the API allocate nothing for their control
   * message.
   *
   * @param op the operation number, 0 to 255 (a {@code SMALL_INTEGER_EXT})
   */
  public void write(int op, ErlTerm a, ErlTerm b, ErlTerm c, ErlTerm payload, Deadline deadline, Sink sink)
      throws IOException {
    if (op < 0 || op > 255) {
      throw new IllegalArgumentException("operation number out of 0..255: " + op);
    }
    SendBuffers buffers = SendBuffers.take();
    try {
      TermBuffer head = startHead(buffers.head);
      head.put(SMALL_TUPLE_EXT).put(c == null ? 3 : 4).put(SMALL_INTEGER_EXT).put(op);
      TermEncoder.encodeTerm(a, head);
      TermEncoder.encodeTerm(b, head);
      if (c != null) {
        TermEncoder.encodeTerm(c, head);
      }
      writeFrame(buffers, payload, deadline, sink);
    } finally {
      buffers.release();
    }
  }

  /**
   * Starts a frame in {@code head}: room for the length, then {@code 131 68 0} (a
   * distribution header without atom cache references) or {@code 'p'} and the control
   * term's version byte; the control term follows without its version byte.
   */
  private TermBuffer startHead(TermBuffer head) {
    head.reset();
    head.putInt(0);
    if (headers) {
      head.put(131).put(68).put(0);
    } else {
      head.put(PASS_THROUGH).put(131);
    }
    return head;
  }

  /** Encodes {@code payload} after the control message in {@code buffers.head} and hands the frame over. */
  private void writeFrame(SendBuffers buffers, ErlTerm payload, Deadline deadline, Sink sink) throws IOException {
    TermBuffer head = buffers.head;
    TermBuffer body = buffers.body;
    body.reset();
    if (payload != null) {
      if (headers) {
        TermEncoder.encodeTerm(payload, body);
      } else {
        TermEncoder.encode(payload, body);
      }
    }
    if (fragments && body.length() > fragmentAbove) {
      writeFragments(head, body, deadline, sink);
      return;
    }
    long len = (long) head.length() - 4 + body.length();
    if (len > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("message of " + len + " bytes exceeds the 4-byte frame length");
    }
    head.setInt(0, (int) len);
    ByteBuffer[] frame;
    if (body.referenceCount() == 0) {
      frame = buffers.frame();
    } else {
      frame = buffers.frame(body.asByteBuffers(0, body.length()));
    }
    sink.frame(frame, deadline);
  }

  /**
   * A sending thread's encoding buffers (head: length, header, control; body: payload) and
   * the two views of them that a frame without referenced binaries is handed to the sink
   * as, kept so that a send allocates no buffer objects. A thread that sends again while
   * its send is still on the stack (a transport or a handler that sends from inside a
   * write) gets a fresh set for the inner send, so the outer one's bytes stay intact.
   */
  private static final class SendBuffers {
    TermBuffer head = new TermBuffer(256);
    TermBuffer body = payloadBuffer();
    private final ByteBuffer[] frame = new ByteBuffer[2];
    /** The last frame with referenced binaries, emptied after each send. */
    private ByteBuffer[] large = new ByteBuffer[0];
    private ByteBuffer headView;
    private ByteBuffer bodyView;
    private boolean inUse;

    /** The calling thread's set, or a fresh one when the thread's own is in use. */
    static SendBuffers take() {
      SendBuffers b = SEND_BUFFERS.get();
      if (b.inUse) {
        b = new SendBuffers();
      }
      b.inUse = true;
      return b;
    }

    /**
     * {@code {head, body}} as views of bytes {@code 0..length()-1} of each buffer's array,
     * for a body without referenced binaries; valid until the buffers are next written.
     */
    ByteBuffer[] frame() {
      headView = view(headView, head);
      bodyView = view(bodyView, body);
      frame[0] = headView;
      frame[1] = bodyView;
      return frame;
    }

    /**
     * {@code {head, pieces...}} for a body with referenced binaries, in an array kept for the
     * next frame of as many pieces; {@link #release} clears it, so that it does not hold on
     * to the caller's binaries.
     */
    ByteBuffer[] frame(ByteBuffer[] pieces) {
      headView = view(headView, head);
      ByteBuffer[] f = pieces.length + 1 == large.length ? large : new ByteBuffer[pieces.length + 1];
      f[0] = headView;
      System.arraycopy(pieces, 0, f, 1, pieces.length);
      large = f;
      return f;
    }

    /** {@code v} reset to bytes {@code 0..length()-1} of {@code t}, or a new view once its array changed. */
    private static ByteBuffer view(ByteBuffer v, TermBuffer t) {
      byte[] a = t.array();
      if (v == null || v.array() != a) {
        v = ByteBuffer.wrap(a);
      }
      v.clear().limit(t.length());
      return v;
    }

    /**
     * After the message: forgets the caller's binaries, and does not keep the memory of one
     * huge message for the life of the thread.
     */
    void release() {
      body.reset();
      Arrays.fill(large, null);
      if (head.capacity() > SHRINK_ABOVE) {
        head = new TermBuffer(256);
        headView = null;
      }
      if (body.capacity() > SHRINK_ABOVE) {
        body = payloadBuffer();
        bodyView = null;
      }
      inUse = false;
    }
  }

  private static TermBuffer payloadBuffer() {
    TermBuffer b = new TermBuffer(256);
    b.referenceBinariesFrom(REFERENCE_BINARIES_FROM);
    return b;
  }

  /** Hands {@code body} to {@code sink} as fragments, the first carrying the control message. */
  private void writeFragments(TermBuffer head, TermBuffer body, Deadline deadline, Sink sink) throws IOException {
    long seq = sequenceIds.incrementAndGet();
    int total = body.length();
    long count = (total + (long) fragmentBytes - 1) / fragmentBytes;
    int controlFrom = 4 + 3;
    int controlLen = head.length() - controlFrom;
    ByteBuffer control = ByteBuffer.wrap(head.array(), controlFrom, controlLen);
    ByteBuffer header = ByteBuffer.allocate(4 + 2 + 16 + 1);
    for (long i = 0; i < count; i++) {
      int from = (int) (i * fragmentBytes);
      int n = Math.min(fragmentBytes, total - from);
      // the payload's bytes from..from+n-1: pieces of the buffer and of referenced binaries
      ByteBuffer[] slice = body.asByteBuffers(from, from + n);
      header.clear();
      int lead = i == 0 ? 2 : 1;
      ByteBuffer[] bufs = new ByteBuffer[lead + slice.length];
      if (i == 0) {
        header.putInt(2 + 16 + 1 + controlLen + n).put((byte) 131).put((byte) 69).putLong(seq).putLong(count).put((byte) 0).flip();
        bufs[1] = control;
      } else {
        header.putInt(2 + 16 + n).put((byte) 131).put((byte) 70).putLong(seq).putLong(count - i).flip();
      }
      bufs[0] = header;
      System.arraycopy(slice, 0, bufs, lead, slice.length);
      sink.fragment(bufs, i, count, deadline);
    }
  }
}
