package io.ei4j.internal.dist;

import io.ei4j.connect.EiMessage;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.TermDecodeException;
import io.ei4j.term.TermDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Turns the body of one distribution frame (what follows its 4-byte length) into a control
 * message and its payload, for every frame layout a connection may receive:
 *
 * <pre>
 *  'p' (112)  131 control  [131 payload]                         no distribution header
 *  131 68     N flags refs  control [payload]                    DIST_HDR_ATOM_CACHE
 *  131 69     seq:64 frag:64 N flags refs  control [payload...]   first fragment (FRAGMENTS)
 *  131 70     seq:64 frag:64  payload...                         next fragment
 * </pre>
 *
 * <p>After a header, terms have no version byte. {@code N} atom cache references follow
 * {@code N/2+1} flag bytes (none when {@code N} is 0): reference {@code i} has the
 * half byte {@code i} (low half first), {@code NewCacheEntry:1 SegmentIndex:3}; half byte
 * {@code N} holds {@code LongAtoms} in its lowest bit. Each reference is then
 * {@code InternalSegmentIndex:8}, followed for a new entry by {@code Length:8|16 AtomText},
 * which replaces cache slot {@code SegmentIndex*256 + InternalSegmentIndex} for every later
 * message. The cache (2048 slots) lives as long as the connection.
 *
 * <p>Fragments are reassembled per sequence id: the first carries the fragment count, which
 * counts down to 1 on the last. Limits, checked before anything grows: one message at most
 * {@code maxMessageBytes}; at most {@link #MAX_SEQUENCES} sequences in progress; all of
 * them together at most {@code 4 * maxMessageBytes}. A reassembly buffer starts at the size
 * the first fragment announces (its size times the fragment count, as Erlang cuts messages
 * into fragments of one size), so that a large message is copied once; the announced sizes
 * of all sequences in progress together are trusted up to {@link #MAX_RESERVED_BYTES}, and
 * beyond that a buffer grows with the bytes that actually arrive.
 *
 * <p>Not thread-safe: one connection's reader thread owns it.
 */
public final class DistFrameDecoder {
  /** The most fragmented messages that may be in progress on one connection at once. */
  public static final int MAX_SEQUENCES = 256;
  /**
   * The most bytes that the fragment counts of sequences in progress may reserve ahead of
   * the bytes that arrived, on one connection: what a peer that announces more fragments
   * than it sends can make this decoder allocate.
   */
  public static final int MAX_RESERVED_BYTES = 16 << 20;
  /** Atom cache slots: 8 segments of 256. */
  public static final int ATOM_CACHE_SIZE = 2048;

  private static final byte PASS_THROUGH = 112;
  private static final int VERSION = 131;
  private static final int DIST_HEADER = 68;
  private static final int DIST_FRAG_HEADER = 69;
  private static final int DIST_FRAG_CONT = 70;
  private static final int MAX_ATOM_BYTES = ErlAtom.MAX_CHARS * 4;

  /**
   * A decoded message: the control tuple and the payload, or null when there is none. For
   * a message left to a raw receive ({@link #rawSink}), {@code raw} is its {@code Send} or
   * {@code RegSend} (with a null message) and the payload is in the sink, undecoded.
   */
  public record Message(ErlTerm control, ErlTerm payload, EiMessage raw) {
    public Message(ErlTerm control, ErlTerm payload) {
      this(control, payload, null);
    }
  }

  private final boolean headers;
  private final long maxMessageBytes;
  private final long maxBufferedBytes;
  private final TermDecoder copying;
  private final TermDecoder sharing;
  private final ErlAtom[] atomCache = new ErlAtom[ATOM_CACHE_SIZE];
  /**
   * The reference arrays of unfragmented messages, one per reference count (a header has at
   * most 255 references), made on first use and reused: such an array only lives while its
   * message is decoded, and every entry is written before it is read. Fragmented messages
   * keep theirs until reassembled, so they get their own.
   */
  private final ErlAtom[][] refArrays = new ErlAtom[256][];
  private final Map<Long, Sequence> sequences = new HashMap<>();
  /**
   * Where the payloads of messages (SEND and REG_SEND, not signals) go undecoded while a
   * raw receive reads; null otherwise.
   */
  private RawPayload raw;
  /**
   * A buffer that a raw receive gave back ({@link RawPayload#take}), for the next sequence
   * that fits in it: reassembly then needs no fresh (and zeroed) array.
   */
  private byte[] spare;
  /**
   * Fragmented messages dropped ({@link #discard}) whose last fragment has not arrived: the
   * next fragment id each expects. Their continuations are consumed and thrown away.
   */
  private final Map<Long, Long> droppedSequences = new HashMap<>();
  /** The name of the limit {@code maxMessageBytes} stands for, in error messages. */
  private final String limitName;
  private long bufferedBytes;
  /** The initial capacities of the sequences in progress (see {@link #initialCapacity}). */
  private long reservedBytes;
  private volatile long newCacheEntries;
  private volatile long cachedReferences;
  private volatile long reassembledMessages;

  /** One fragmented message being reassembled. */
  private static final class Sequence {
    final ErlAtom[] refs;
    /** The message so far: bytes {@code 0..length-1}. */
    byte[] data;
    int length;
    /** The initial capacity, counted in {@code reservedBytes} while this sequence is in progress. */
    final int reserved;
    long nextFragment;

    Sequence(ErlAtom[] refs, byte[] data, int initialCapacity, long nextFragment) {
      this.refs = refs;
      this.data = data;
      this.reserved = initialCapacity;
      this.nextFragment = nextFragment;
    }

    /**
     * Makes room for {@code n} more bytes, growing to at most {@code max} (which the caller
     * has checked {@code length + n} against).
     */
    void reserve(int n, long max) {
      if (n > data.length - length) {
        long cap = Math.min(Math.max((long) length + n, 2L * data.length), max);
        data = Arrays.copyOf(data, (int) cap);
      }
    }
  }

  /**
   * The fragment whose bytes the caller reads straight into its sequence's buffer, between
   * {@link #startFragment} and {@link #finishFragment}; null otherwise.
   */
  private Sequence direct;
  private long directSeq;
  private long directId;
  private int directBytes;

  /**
   * A decoder for one connection.
   *
   * @param headers whether {@code DIST_HDR_ATOM_CACHE} was negotiated: then frames start
   *     with a distribution header and {@code 'p'} frames are refused, otherwise the reverse
   *     (as an Erlang node reads them)
   * @param maxMessageBytes the largest message, reassembled or not
   * @param decoder the term decoder (and its limits); binaries are shared only with buffers
   *     that this class or its caller gives up
   */
  public DistFrameDecoder(boolean headers, int maxMessageBytes, TermDecoder decoder) {
    this(headers, maxMessageBytes, "maxMessageBytes", decoder);
  }

  /**
   * A decoder for one connection whose message limit has a name of its own.
   *
   * @param limitName what {@code maxMessageBytes} is called in error messages (such as the
   *     receive budget when it is the smaller limit)
   */
  public DistFrameDecoder(boolean headers, int maxMessageBytes, String limitName, TermDecoder decoder) {
    this.limitName = limitName;
    this.headers = headers;
    this.maxMessageBytes = maxMessageBytes;
    this.maxBufferedBytes = 4L * maxMessageBytes;
    this.copying = decoder;
    this.sharing = decoder.sharingBinaries();
  }

  /**
   * Makes messages' payloads go undecoded to {@code sink} (a raw receive reads), or, with
   * null, be decoded again. Signals and malformed control messages are decoded either way.
   */
  public void rawSink(RawPayload sink) {
    raw = sink;
  }

  /** Atom cache entries that headers have filled so far. */
  public long newCacheEntries() {
    return newCacheEntries;
  }

  /** References that headers have resolved from entries filled by earlier headers. */
  public long cachedReferences() {
    return cachedReferences;
  }

  /** Messages that arrived in more than one fragment and were reassembled. */
  public long reassembledMessages() {
    return reassembledMessages;
  }

  /** Whether frames may be fragments: distribution headers were negotiated. */
  public boolean acceptsFragments() {
    return headers;
  }

  /** Bytes held by fragmented messages being reassembled. */
  public long bufferedBytes() {
    return bufferedBytes;
  }

  /**
   * Forgets a frame that is thrown away unread (the receive budget's {@code DROP}), given
   * the start of its body: a first fragment makes its sequence's later fragments be thrown
   * away too; a continuation drops the whole sequence it belongs to.
   *
   * @param head at least the first 18 bytes of the frame body, or all of a shorter one
   * @return whether this loses a message, rather than the rest of one already dropped
   */
  public boolean discard(ByteBuffer head) {
    if (!headers || head.remaining() < 18 || (head.get(head.position()) & 0xff) != VERSION) {
      return true;
    }
    int tag = head.get(head.position() + 1) & 0xff;
    long seq = head.getLong(head.position() + 2);
    long id = head.getLong(head.position() + 10);
    if (tag == DIST_FRAG_HEADER) {
      if (id > 1 && droppedSequences.size() < MAX_SEQUENCES) {
        droppedSequences.put(seq, id - 1);
      }
      return true;
    }
    if (tag != DIST_FRAG_CONT) {
      return true;
    }
    Sequence s = sequences.remove(seq);
    if (s != null) {
      bufferedBytes -= s.length;
      reservedBytes -= s.reserved;
      if (id > 1) {
        droppedSequences.put(seq, id - 1);
      }
      return true;
    }
    if (droppedSequences.containsKey(seq)) {
      forgetDropped(seq, id);
      return false;
    }
    return true;
  }

  private void forgetDropped(long seq, long id) {
    if (id <= 1) {
      droppedSequences.remove(seq);
    } else {
      droppedSequences.put(seq, id - 1);
    }
  }

  /** The capacity that fragmented messages in progress were given up front (see {@link #MAX_RESERVED_BYTES}). */
  public long reservedBytes() {
    return reservedBytes;
  }

  /** Fragmented messages whose last fragment has not arrived yet. */
  public int sequencesInProgress() {
    return sequences.size();
  }

  /**
   * Decodes one frame body, from {@code frame.position()} to its limit.
   *
   * @param owned whether the caller gives up {@code frame}'s array: then decoded binaries may
   *     share it instead of being copied
   * @return the message, or null when the frame was a fragment that did not complete one
   * @throws DistHeaderException for a header that breaks the protocol
   * @throws TermDecodeException for a control message or payload that does not decode
   */
  public Message decode(ByteBuffer frame, boolean owned) throws DistHeaderException, TermDecodeException {
    if (!frame.hasRemaining()) {
      throw new DistHeaderException("an empty frame body where a message was expected");
    }
    int first = frame.get() & 0xff;
    if (first == PASS_THROUGH) {
      if (headers) {
        throw new DistHeaderException("a pass-through frame ('p') where a distribution header (131 68/69/70) was negotiated");
      }
      TermDecoder d = owned ? sharing : copying;
      ErlTerm control = d.decode(frame);
      // A compressed payload (131 80) is decoded: a raw payload has no version byte to mark it.
      if (raw != null && frame.remaining() > 1 && (frame.get(frame.position()) & 0xff) == VERSION
          && frame.get(frame.position() + 1) != 80) {
        EiMessage m = ControlMessages.rawMessage(control);
        if (m != null) {
          frame.position(frame.position() + 1);
          toRaw(frame, null, owned ? frame : null);
          return new Message(control, null, m);
        }
      }
      ErlTerm payload = frame.hasRemaining() ? d.decode(frame) : null;
      return finish(frame, control, payload);
    }
    if (first != VERSION || !frame.hasRemaining()) {
      throw new DistHeaderException("a frame starting with byte " + first + (headers
          ? " where a distribution header (131 68/69/70) was expected" : " where 112 ('p') was expected"));
    }
    int tag = frame.get() & 0xff;
    if (!headers) {
      throw new DistHeaderException("a distribution header (131 " + tag + ") that was not negotiated, where 112 ('p') was expected");
    }
    switch (tag) {
      case DIST_HEADER: {
        ErlAtom[] refs = atomCacheRefs(frame, true);
        return message(frame, refs, owned ? sharing : copying, owned ? frame : null);
      }
      case DIST_FRAG_HEADER: {
        long seq = u64(frame, "sequence id", -1);
        long count = u64(frame, "fragment id", -1);
        ErlAtom[] refs = atomCacheRefs(frame, false);
        if (count == 0) {
          throw new DistHeaderException("fragment id 0 in the first fragment of sequence " + Long.toUnsignedString(seq));
        }
        if (count == 1) {
          return message(frame, refs, owned ? sharing : copying, owned ? frame : null);
        }
        Sequence s = open(seq, refs, count, frame.remaining());
        append(seq, s, frame);
        return null;
      }
      case DIST_FRAG_CONT: {
        long seq = u64(frame, "sequence id", -1);
        long id = u64(frame, "fragment id", -1);
        Sequence s = sequences.get(seq);
        if (s == null && droppedSequences.containsKey(seq)) {
          forgetDropped(seq, id); // the rest of a message dropped at an earlier fragment
          return null;
        }
        if (s == null) {
          throw new DistHeaderException("a continuation fragment of sequence " + Long.toUnsignedString(seq) + ", which was never started");
        }
        if (id != s.nextFragment) {
          throw new DistHeaderException("fragment " + Long.toUnsignedString(id) + " of sequence " + Long.toUnsignedString(seq)
              + " where fragment " + s.nextFragment + " was expected");
        }
        append(seq, s, frame);
        return advance(seq, s, id);
      }
      default:
        throw new DistHeaderException("an unknown distribution header 131 " + tag + " (expected 68, 69 or 70)");
    }
  }

  /**
   * The first buffer of a sequence of {@code count} fragments whose first carries {@code n}
   * bytes: the announced size when it is within {@code maxMessageBytes} and what this
   * connection may still reserve, else twice the first fragment (and then growth).
   */
  private int initialCapacity(long count, int n) {
    long announced = count > Integer.MAX_VALUE ? Long.MAX_VALUE : count * n;
    if (announced <= maxMessageBytes && reservedBytes + announced <= MAX_RESERVED_BYTES) {
      return (int) Math.max(256, announced);
    }
    return (int) Math.max(256, Math.min(2L * n, MAX_RESERVED_BYTES));
  }

  /**
   * Starts sequence {@code seq} of {@code count} fragments, the first of which carries
   * {@code firstBytes} bytes of the message, with its buffer reserved.
   */
  private Sequence open(long seq, ErlAtom[] refs, long count, int firstBytes) throws DistHeaderException {
    if (sequences.containsKey(seq)) {
      throw new DistHeaderException("a new sequence " + Long.toUnsignedString(seq) + " while one with that id is in progress");
    }
    if (sequences.size() >= MAX_SEQUENCES) {
      throw new DistHeaderException("more than " + MAX_SEQUENCES + " fragmented messages in progress at once");
    }
    int capacity = initialCapacity(count, firstBytes);
    byte[] data;
    if (spareFits(capacity)) {
      data = spare;
      spare = null;
    } else {
      data = new byte[capacity];
    }
    Sequence s = new Sequence(refs, data, capacity, count - 1);
    reservedBytes += s.reserved;
    sequences.put(seq, s);
    return s;
  }

  private void append(long seq, Sequence s, ByteBuffer frame) throws DistHeaderException {
    int n = frame.remaining();
    checkAppend(seq, s, n);
    s.reserve(n, maxMessageBytes);
    frame.get(s.data, s.length, n);
    s.length += n;
    bufferedBytes += n;
  }

  /** Checks the limits for {@code n} more bytes of sequence {@code seq}, before its buffer grows. */
  private void checkAppend(long seq, Sequence s, int n) throws DistHeaderException {
    long total = (long) s.length + n;
    if (total > maxMessageBytes) {
      throw new DistHeaderException("fragmented message " + Long.toUnsignedString(seq) + " grew to " + total
          + " bytes, more than " + limitName + " (" + maxMessageBytes + ")");
    }
    if (bufferedBytes + n > maxBufferedBytes) {
      throw new DistHeaderException("fragmented messages in progress hold more than " + maxBufferedBytes
          + " bytes (4 x maxMessageBytes)");
    }
  }

  /**
   * After fragment {@code id} of sequence {@code seq} was appended: waits for the next one,
   * or, after the last, decodes the reassembled message.
   */
  private Message advance(long seq, Sequence s, long id) throws DistHeaderException, TermDecodeException {
    if (id > 1) {
      s.nextFragment = id - 1;
      return null;
    }
    sequences.remove(seq);
    bufferedBytes -= s.length;
    reservedBytes -= s.reserved;
    reassembledMessages++;
    // The reassembly buffer is ours and dropped now: its binaries need no copy.
    ByteBuffer whole = ByteBuffer.wrap(s.data, 0, s.length);
    return message(whole, s.refs, sharing, whole);
  }

  /**
   * Lets the caller read a fragment's bytes straight into the buffer of the message they
   * belong to, instead of into a frame buffer first and copying them from there. Given the
   * start of the frame body as far as it has arrived, and the body's length {@code n}:
   * when it is a fragment of a message that takes more than one (a first fragment whose
   * atom cache references are all in {@code head}, or the expected continuation of a
   * sequence in progress), checks every limit, makes room for the fragment's bytes (after
   * its header) in its sequence's buffer and returns the header's length; the caller then
   * puts those bytes into {@link #fragmentRoom()} and calls {@link #finishFragment()}.
   * Returns -1, consuming nothing, for any other frame: the caller reads it whole and
   * {@link #decode}s it, which reports what is wrong with it, if anything.
   *
   * @param head the first bytes of the frame body, at least 18 unless {@code n} is less;
   *     its position is moved
   * @throws DistHeaderException for a first fragment that breaks the protocol or a limit
   */
  public int startFragment(ByteBuffer head, int n) throws DistHeaderException {
    int at = head.position();
    if (!headers || direct != null || n < 18 || head.remaining() < 18 || (head.get(at) & 0xff) != VERSION) {
      return -1;
    }
    int tag = head.get(at + 1) & 0xff;
    long seq = head.getLong(at + 2);
    long id = head.getLong(at + 10);
    Sequence s;
    if (tag == DIST_FRAG_CONT) {
      s = sequences.get(seq);
      if (s == null || id != s.nextFragment) {
        return -1;
      }
      head.position(at + 18);
    } else if (tag == DIST_FRAG_HEADER) {
      if (id <= 1 || refsLength(head, at + 18) < 0) {
        return -1;
      }
      head.position(at + 18);
      ErlAtom[] refs = atomCacheRefs(head, false);
      s = open(seq, refs, id, n - (head.position() - at));
    } else {
      return -1;
    }
    int h = head.position() - at;
    checkAppend(seq, s, n - h);
    s.reserve(n - h, maxMessageBytes);
    direct = s;
    directSeq = seq;
    directId = id;
    directBytes = n - h;
    return h;
  }

  /**
   * The room for the bytes of the fragment that {@link #startFragment} accepted: a buffer
   * over its sequence's array, from the first of those bytes to the last.
   */
  public ByteBuffer fragmentRoom() {
    return ByteBuffer.wrap(direct.data, direct.length, directBytes);
  }

  /**
   * Ends the fragment that {@link #startFragment} accepted, whose bytes are in its room now.
   *
   * @return the message, when this was its last fragment; else null
   * @throws TermDecodeException for a reassembled message that does not decode
   */
  public Message finishFragment() throws DistHeaderException, TermDecodeException {
    Sequence s = direct;
    direct = null;
    s.length += directBytes;
    bufferedBytes += directBytes;
    return advance(directSeq, s, directId);
  }

  /**
   * The length of the atom cache references ({@code N flags refs}) at {@code from} in
   * {@code in}, without reading them; -1 when they do not all lie before its limit.
   */
  private static int refsLength(ByteBuffer in, int from) {
    int end = in.limit();
    if (from >= end) {
      return -1;
    }
    int n = in.get(from) & 0xff;
    if (n == 0) {
      return 1;
    }
    int flagsAt = from + 1;
    int p = flagsAt + n / 2 + 1;
    if (p > end) {
      return -1;
    }
    boolean longAtoms = (nibble(in, flagsAt, n) & 1) != 0;
    for (int i = 0; i < n; i++) {
      p++; // the internal segment index
      if ((nibble(in, flagsAt, i) & 8) != 0) {
        int lenBytes = longAtoms ? 2 : 1;
        if (p + lenBytes > end) {
          return -1;
        }
        p += lenBytes + (longAtoms ? in.getShort(p) & 0xffff : in.get(p) & 0xff);
      }
      if (p > end) {
        return -1;
      }
    }
    return p - from;
  }

  /**
   * Decodes the control message and payload that fill {@code in}, or, for a raw receive,
   * the control message only, leaving a message's payload to the sink ({@link #toRaw}).
   *
   * @param givenUp {@code in} when its array is given up (a reassembly buffer, or a frame
   *     that had a buffer of its own), else null
   */
  private Message message(ByteBuffer in, ErlAtom[] refs, TermDecoder d, ByteBuffer givenUp)
      throws DistHeaderException, TermDecodeException {
    if (!in.hasRemaining()) {
      throw new DistHeaderException("a distribution header (131) without a control message");
    }
    ErlTerm control = d.decodeTerm(in, refs);
    if (raw != null && in.hasRemaining()) {
      EiMessage m = ControlMessages.rawMessage(control);
      if (m != null) {
        toRaw(in, refs, givenUp);
        return new Message(control, null, m);
      }
    }
    ErlTerm payload = in.hasRemaining() ? d.decodeTerm(in, refs) : null;
    return finish(in, control, payload);
  }

  /**
   * Leaves the rest of {@code in} (a payload) to the raw sink, with the atom cache
   * references: when {@code givenUp} (which is {@code in}) wraps an array nothing else
   * keeps, that array is handed over and the sink's old one kept as the spare; otherwise the
   * bytes are copied. Consumes the payload.
   */
  private void toRaw(ByteBuffer in, ErlAtom[] refs, ByteBuffer givenUp) {
    if (givenUp != null && givenUp.hasArray() && givenUp.arrayOffset() == 0) {
      // refs may be one of the reused reference arrays: the sink gets a copy
      spare = raw.take(givenUp.array(), in.position(), in.limit(), refs == null ? null : refs.clone());
    } else {
      raw.copy(in, refs);
    }
    in.position(in.limit());
  }

  /**
   * For a frame too large for the read buffer, whose bytes are about to be read: the
   * spare buffer, during a raw receive, when it fits ({@link #spareFits}); else a new one.
   */
  public ByteBuffer frameBuffer(int n) {
    if (raw != null && spareFits(n)) {
      byte[] a = spare;
      spare = null;
      return ByteBuffer.wrap(a, 0, n);
    }
    return ByteBuffer.allocate(n);
  }

  /**
   * Whether the spare buffer may take {@code n} bytes: it holds them, and is not more than
   * twice as large (else a small message's binaries could keep a large array alive,
   * uncharged).
   */
  private boolean spareFits(int n) {
    return spare != null && spare.length >= n && spare.length / 2 <= n;
  }

  private static Message finish(ByteBuffer in, ErlTerm control, ErlTerm payload) throws DistHeaderException {
    if (in.hasRemaining()) {
      throw new DistHeaderException(in.remaining() + " bytes after the payload of a message");
    }
    return new Message(control, payload);
  }

  /**
   * Reads {@code N flags refs}, updating the cache; null when {@code N} is 0. With
   * {@code reuse}, the array is one of {@link #refArrays}, valid until the next call.
   */
  private ErlAtom[] atomCacheRefs(ByteBuffer in, boolean reuse) throws DistHeaderException {
    int n = u8(in, "the number of atom cache references", -1);
    if (n == 0) {
      return null;
    }
    int flagBytes = n / 2 + 1;
    need(in, flagBytes, "the flags of the atom cache references, count", n);
    int flagsAt = in.position();
    in.position(flagsAt + flagBytes);
    boolean longAtoms = (nibble(in, flagsAt, n) & 1) != 0;
    ErlAtom[] refs;
    if (reuse) {
      refs = refArrays[n];
      if (refs == null) {
        refs = refArrays[n] = new ErlAtom[n];
      }
    } else {
      refs = new ErlAtom[n];
    }
    for (int i = 0; i < n; i++) {
      int f = nibble(in, flagsAt, i);
      int slot = (f & 7) << 8 | u8(in, "atom cache reference", i);
      if ((f & 8) != 0) {
        int len = longAtoms ? u16(in, "the length of new atom", i) : u8(in, "the length of new atom", i);
        if (len > MAX_ATOM_BYTES) {
          throw new DistHeaderException("new atom cache entry " + i + " of " + len + " bytes, more than an atom can have (" + MAX_ATOM_BYTES + ")");
        }
        need(in, len, "the text of new atom", i);
        ByteBuffer text = in.slice(in.position(), len);
        in.position(in.position() + len);
        ErlAtom atom;
        try {
          atom = ErlAtom.of(StandardCharsets.UTF_8.newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(text).toString());
        } catch (CharacterCodingException | IllegalArgumentException e) {
          throw new DistHeaderException("new atom cache entry " + i + " is not a valid atom: " + e.getMessage(), e);
        }
        atomCache[slot] = atom;
        refs[i] = atom;
        newCacheEntries++;
      } else {
        ErlAtom atom = atomCache[slot];
        if (atom == null) {
          throw new DistHeaderException("atom cache reference " + i + " to slot " + slot + ", which no earlier header filled");
        }
        refs[i] = atom;
        cachedReferences++;
      }
    }
    return refs;
  }

  private static int nibble(ByteBuffer in, int flagsAt, int i) {
    int b = in.get(flagsAt + i / 2) & 0xff;
    return (i & 1) == 0 ? b & 0xf : b >>> 4;
  }

  /**
   * Checks that {@code n} bytes remain. The message is built only on failure: {@code what}
   * is a constant naming the field and {@code index}, when not negative, is appended to it,
   * so that the per-frame, per-reference path allocates nothing.
   */
  private static void need(ByteBuffer in, int n, String what, int index) throws DistHeaderException {
    if (in.remaining() < n) {
      throw cutShort(in, n, what, index);
    }
  }

  private static DistHeaderException cutShort(ByteBuffer in, int n, String what, int index) {
    return new DistHeaderException("a distribution header (131) cut short: " + what + (index >= 0 ? " " + index : "")
        + " needs " + n + " bytes, " + in.remaining() + " left in the frame");
  }

  private static int u8(ByteBuffer in, String what, int index) throws DistHeaderException {
    need(in, 1, what, index);
    return in.get() & 0xff;
  }

  private static int u16(ByteBuffer in, String what, int index) throws DistHeaderException {
    need(in, 2, what, index);
    return in.getShort() & 0xffff;
  }

  private static long u64(ByteBuffer in, String what, int index) throws DistHeaderException {
    need(in, 8, what, index);
    return in.getLong();
  }
}
