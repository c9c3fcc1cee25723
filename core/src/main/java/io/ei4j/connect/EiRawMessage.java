package io.ei4j.connect;

import io.ei4j.internal.dist.RawPayload;
import io.ei4j.term.DecodeLimits;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.TermBuffer;
import io.ei4j.term.TermCursor;
import io.ei4j.term.TermDecodeException;
import io.ei4j.term.TermEncoder;
import java.nio.ByteBuffer;

/**
 * A reusable holder for what {@link EiConnection#receive(EiRawMessage, long)} receives, as
 * {@code ei_xreceive_msg} fills an {@code erlang_msg} and an {@code ei_x_buff}: who sent
 * the message and to whom, and its payload <em>undecoded</em>, in a buffer this holder keeps
 * and reuses from one receive to the next. The payload is read with a {@link TermCursor}
 * ({@link #payload()}), in the manner of the {@code ei_decode_*} functions, or decoded whole
 * ({@link #decodePayload()}).
 *
 * <p>This is for receivers of large or many messages that look at each once: a message of
 * 1 MiB costs no fresh array, no decoding of what is not looked at, and, for a binary read
 * with {@link TermCursor#binary()}, no copy after the one out of the socket's buffer.
 *
 * <h2>Validity</h2>
 * What {@link #payload()}, {@link #payloadBytes()} and the cursor's {@code binary()} views
 * show is valid until the next receive into this holder, which overwrites or replaces the
 * buffer: copy out what must live longer. Decoded terms ({@link #decodePayload()},
 * {@link TermCursor#term()}) own their bytes.
 *
 * <h2>What is checked</h2>
 * As with {@code ei_xreceive_msg}, a raw receive decodes the control message but not the
 * payload: a payload that does not decode is reported when it is read, by a
 * {@link TermDecodeException}, and does not take the connection down as it would for
 * {@link EiConnection#receive(long)}. Every length the cursor reads is checked against the
 * bytes there are.
 *
 * <p>The bytes are those the peer sent, except for a message that was queued decoded
 * before the receive (read by the connection's reader thread while nobody received): it is
 * encoded again, as ei4j encodes terms. The term is the same, but its encoding may differ:
 * a list of small integers becomes a string ({@code STRING_EXT}), a bitstring of whole
 * bytes a binary. Read such fields with {@link TermCursor#term()} when a peer may send
 * either form. A payload Erlang compressed ({@code term_to_binary(T, [compressed])} as a
 * message) is decoded and encoded again too.
 *
 * <p>Not thread-safe: one holder per receiving thread.
 */
public final class EiRawMessage {
  /** What the holder holds. */
  public enum Kind {
    /** A message sent to a pid: {@link #to()}, and {@link #from()} when the peer named the sender. */
    SEND,
    /** A message sent to a registered name: {@link #toName()} and {@link #from()}. */
    REG_SEND,
    /** A link, exit, monitor or other signal, decoded: {@link #signal()}; no payload. */
    SIGNAL
  }

  private final RawPayload payload = new RawPayload();
  private final TermCursor cursor = new TermCursor();
  /** Encodes a message that was queued decoded, so that it reads like the others. */
  private TermBuffer encoded;
  private DecodeLimits limits = DecodeLimits.DEFAULT;
  private Kind kind;
  private ErlPid from;
  private ErlPid to;
  private ErlAtom toName;
  private EiMessage signal;

  /** An empty holder; its buffer grows to the largest payload received into it. */
  public EiRawMessage() {}

  /** What was received, or null before the first receive. */
  public Kind kind() {
    return kind;
  }

  /** The sender: for {@link Kind#REG_SEND}, and for {@link Kind#SEND} when the peer named it; else null. */
  public ErlPid from() {
    return from;
  }

  /** The addressee of a {@link Kind#SEND}; else null. */
  public ErlPid to() {
    return to;
  }

  /** The registered name a {@link Kind#REG_SEND} is for; else null. */
  public ErlAtom toName() {
    return toName;
  }

  /** The signal, for {@link Kind#SIGNAL}; else null. */
  public EiMessage signal() {
    return signal;
  }

  /** The payload's length in bytes (0 for a signal). */
  public int payloadLength() {
    return kind == Kind.SIGNAL ? 0 : payload.length();
  }

  /**
   * A cursor at the start of the payload (there is no version byte to skip), reset on every
   * call; the holder's own, so reused too.
   *
   * @throws IllegalStateException for a signal, or when no receive has filled the holder
   *     (none yet, or the last one failed)
   */
  public TermCursor payload() {
    requirePayload();
    return cursor.reset(payload.array(), payload.offset(), payload.length(), payload.atomCacheRefs(), limits);
  }

  /**
   * The payload's bytes, read-only. Atoms in them may be {@code ATOM_CACHE_REF}s (tag 82)
   * that only {@link #payload()} can resolve.
   *
   * @throws IllegalStateException for a signal, or before the first receive
   */
  public ByteBuffer payloadBytes() {
    requirePayload();
    return ByteBuffer.wrap(payload.array(), payload.offset(), payload.length()).slice().asReadOnlyBuffer();
  }

  /**
   * The payload decoded whole, with the node's decode limits; the term owns its bytes.
   *
   * @throws TermDecodeException when the payload does not decode, or is followed by bytes
   *     that are not part of it
   */
  public ErlTerm decodePayload() throws TermDecodeException {
    TermCursor c = payload();
    ErlTerm t = c.term();
    if (c.hasRemaining()) {
      throw new TermDecodeException("expected the end of the payload after its term, found " + c.remaining() + " more bytes",
          c.position());
    }
    return t;
  }

  /**
   * The bytes this holder keeps allocated for payloads between receives. The connection
   * keeps, for its next reassembly, the buffer the holder gave up last, as large at most.
   */
  public int capacity() {
    return payload.capacity();
  }

  @Override
  public String toString() {
    return "EiRawMessage[" + (kind == null ? "empty" : kind == Kind.SIGNAL ? signal : kind + " "
        + (kind == Kind.SEND ? to : toName) + ", " + payload.length() + " bytes") + "]";
  }

  /** Empties the holder before a receive: should it fail, nothing of an earlier message shows. */
  void clear() {
    kind = null;
    from = null;
    to = null;
    toName = null;
    signal = null;
  }

  RawPayload rawPayload() {
    return payload;
  }

  /**
   * Fills in the header from what the connection returned: a message whose payload is in
   * {@link #rawPayload()} (its message is null), a message queued decoded (encoded here), or
   * a signal.
   */
  void set(EiMessage m, DecodeLimits limits) {
    this.limits = limits;
    from = null;
    to = null;
    toName = null;
    signal = null;
    ErlTerm decoded;
    if (m instanceof EiMessage.Send s) {
      kind = Kind.SEND;
      from = s.from();
      to = s.to();
      decoded = s.message();
    } else if (m instanceof EiMessage.RegSend r) {
      kind = Kind.REG_SEND;
      from = r.from();
      toName = r.toName();
      decoded = r.message();
    } else {
      kind = Kind.SIGNAL;
      signal = m;
      return;
    }
    if (decoded != null) {
      if (encoded == null) {
        encoded = new TermBuffer();
      }
      encoded.reset();
      TermEncoder.encodeTerm(decoded, encoded);
      payload.set(encoded.array(), 0, encoded.length());
    }
  }

  private void requirePayload() {
    if (kind == null || kind == Kind.SIGNAL) {
      throw new IllegalStateException("no payload: " + (kind == null ? "nothing was received yet" : "a signal was received"));
    }
  }
}
