package io.ei4j.internal.dist;

import io.ei4j.connect.BudgetPolicy;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiConnectionLostException;
import io.ei4j.internal.node.RateLimitedLog;
import io.ei4j.term.TermDecodeException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads frames from a connection's socket and decodes them with its {@link DistFrameDecoder}:
 * the read state that moves with the reading role (see {@link ReadingRole}). Only the
 * holder of the reading role calls it, so it needs no lock.
 *
 * <p>Reads fill a {@link #READ_BUFFER_BYTES} buffer with whatever has arrived, so a burst of
 * small frames costs one read; a frame that fits is decoded where it lies (its binaries
 * copied, since the buffer is reused), a larger one gets a buffer of its own that the
 * decoded binaries then share. A read that fails with a timeout or an interrupt consumes
 * nothing it cannot resume: a small frame's length stays in the read buffer until the whole
 * frame is there, and a large frame's partial buffer is kept for the next call.
 *
 * <p>A fragment of a message that takes several (Erlang cuts messages into fragments of
 * 64 KiB) is read straight into the buffer where its message is reassembled: only its
 * header goes through the read buffer. While frames are fragments or too large for the
 * read buffer, reads for the next header take at most {@link #HEAD_BYTES}, so that the
 * fragment behind it is not read into the read buffer and then copied. A fragment whose
 * bytes are still arriving is kept for the next call too.
 *
 * <p>Every frame is charged to the node's {@link MessageBudget} as soon as its length is
 * known, before its body is allocated: its bytes plus {@link MessageBudget#PER_MESSAGE_OVERHEAD}.
 * The charge of the message just read is {@link #takeCharge() taken} by whoever queues it;
 * fragments' charges stay here while their message is reassembled. When the frame does not
 * fit, the budget's {@link BudgetPolicy} decides: wait (the length stays in the buffer, so a
 * reader whose deadline runs out or that is woken up loses nothing and the next holder of
 * the role waits on), close the connection, or throw the frame away unread. A frame larger
 * than the whole budget, or than an explicit {@code maxMessageBytes}, closes the connection
 * with a WARN naming the limit.
 */
public final class FrameReader {
  /** The connection's log, where this part's messages have always gone. */
  private static final Logger LOG = LoggerFactory.getLogger(EiConnection.class);
  /**
   * Reads fill a buffer of this size; frames that fit are decoded where they lie. 64 KiB
   * and a little more, so that Erlang's fragments (64 KiB of message behind a header of 18
   * bytes and its atom cache references) fit and are not given buffers of their own.
   */
  private static final int READ_BUFFER_BYTES = (64 << 10) + 1024;
  /**
   * Fragments from this size on whose bytes are not in the read buffer yet are read
   * straight into their message's buffer; smaller ones are not worth a read of their own.
   */
  private static final int DIRECT_MIN_BYTES = 4096;
  /**
   * What a read for a header takes at most after a large frame or a fragment: the length,
   * a fragment header and a few atom cache references.
   */
  private static final int HEAD_BYTES = 256;
  /** Frames thrown away under {@link BudgetPolicy#DROP}, per peer, at most a line a minute each. */
  private static final RateLimitedLog DROPS = RateLimitedLog.perMinute(LOG, "dropped", "message");

  private final SocketIo<?> io;
  private final String peerName;
  /** What the socket calls are doing, for their error messages: built once, not per frame. */
  private final String readingWhat;
  private final int maxMessageBytes;
  /** Whether {@link #maxMessageBytes} was configured (else it is only the array limit). */
  private final boolean explicitMax;
  private final MessageBudget.Account account;
  private final MessageBudget budget;
  /** Whether the connection is down: a wait for the budget ends then. */
  private final BooleanSupplier down;
  private final DistFrameDecoder frames;
  /** Answers a tick (a frame of length 0). */
  private final Runnable onTick;
  /** The read buffer. */
  private final ByteBuffer in = ByteBuffer.allocate(READ_BUFFER_BYTES).flip();
  /** A frame larger than {@link #in} whose bytes are still arriving. */
  private ByteBuffer partialFrame;
  /**
   * The room, in its message's buffer, of a fragment whose bytes are still arriving
   * ({@link DistFrameDecoder#startFragment}).
   */
  private ByteBuffer partialFragment;
  /** Where the bytes of {@link #partialFragment} end; what is read beyond is the next frames'. */
  private int fragmentEnd;
  /**
   * Whether the last frame was a fragment or larger than {@link #in}: then reads for the
   * next header take at most {@link #HEAD_BYTES}.
   */
  private boolean bulk;
  private volatile long lastReadNanos;
  /**
   * Whether reading waits for the receive budget now. Cleared only after the pause has
   * stamped {@link #lastReadNanos}, so that whoever sees it cleared sees that stamp too.
   */
  private volatile boolean pausing;
  /** The charge of the frame whose length has been read and whose body is not decoded yet. */
  private final AtomicLong frameCharge = new AtomicLong();
  /** The charges of fragments whose message is still being reassembled. */
  private final AtomicLong fragmentCharge = new AtomicLong();
  /** The charge of the message {@link #read} returned last, until {@link #takeCharge()}. */
  private long messageCharge;
  /** Bytes of a frame thrown away ({@link BudgetPolicy#DROP}) still to be read and discarded. */
  private long skipping;

  /**
   * @param maxMessageBytes the largest frame accepted; a larger one ends the connection
   * @param explicitMax whether {@code maxMessageBytes} was configured, for the WARN's wording
   * @param account this connection's account in the node's receive budget
   * @param down whether the connection is down
   * @param onTick called on the reading thread for every tick that arrives
   */
  public FrameReader(SocketIo<?> io, String peerName, int maxMessageBytes, boolean explicitMax, MessageBudget.Account account,
      BooleanSupplier down, DistFrameDecoder frames, Runnable onTick) {
    this.io = io;
    this.peerName = peerName;
    this.readingWhat = "reading from " + peerName;
    this.maxMessageBytes = maxMessageBytes;
    this.explicitMax = explicitMax;
    this.account = account;
    this.budget = account.budget();
    this.down = down;
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

  /**
   * Whether reading waits for the receive budget now: then the peer's silence is ours (we
   * do not read), and the ticker must not take it for the peer's. Ask this before
   * {@link #lastReadNanos()}: a pause stamps the time before it ends, so once this says
   * false the time is no older than the pause's end (asked the other way round, a pause
   * that ends between the two calls looks like a silence as long as the pause).
   */
  public boolean paused() {
    return pausing;
  }

  /** This connection's account in the node's receive budget. */
  public MessageBudget.Account account() {
    return account;
  }

  /**
   * The charge of the message {@link #read} returned last, handed over to whoever holds
   * the message now (and must release it); 0 after the first call.
   */
  public long takeCharge() {
    long c = messageCharge;
    messageCharge = 0;
    return c;
  }

  /**
   * Gives back what this reader holds of the budget (a frame read halfway, fragments):
   * the connection is down. Safe against the reading thread: each charge is released once.
   */
  public void releaseOnDown() {
    account.release(frameCharge.getAndSet(0) + fragmentCharge.getAndSet(0));
    account.onDown();
  }

  /**
   * Whether the read buffer holds a whole frame that can be read without a read call or a
   * wait for the budget.
   */
  public boolean frameBuffered() {
    if (partialFrame != null || partialFragment != null || skipping > 0 || in.remaining() < 4) {
      return false;
    }
    long n = in.getInt(in.position()) & 0xffffffffL;
    return n <= in.remaining() - 4
        && (n == 0 || frameCharge.get() > 0 || budget.usedBytes() + n + MessageBudget.PER_MESSAGE_OVERHEAD <= budget.limitBytes());
  }

  /**
   * Reads one frame and decodes it.
   *
   * @param wakeable whether the read may be woken up ({@link SocketIo#wakeupRead}), which
   *     ends it as a timeout that loses nothing (what was read of the frame is kept for
   *     the next call)
   * @return the message, or null for a tick (answered through {@code onTick}) or a fragment
   *     that did not complete a message
   * @throws EiConnectionLostException for a frame above the size limit or that does not decode
   * @throws EOFException when the peer closed the connection
   */
  public DistFrameDecoder.Message read(Deadline deadline, boolean wakeable) throws IOException {
    return read(deadline, wakeable, null);
  }

  /**
   * As {@link #read(Deadline, boolean)}, leaving the payload of a message (not a signal's)
   * undecoded in {@code sink} when it is not null: the returned message's {@code raw} is
   * set then.
   */
  public DistFrameDecoder.Message read(Deadline deadline, boolean wakeable, RawPayload sink) throws IOException {
    frames.rawSink(sink);
    try {
      return readFrame(deadline, wakeable);
    } finally {
      frames.rawSink(null);
    }
  }

  private DistFrameDecoder.Message readFrame(Deadline deadline, boolean wakeable) throws IOException {
    if (skipping > 0) {
      skip(deadline, wakeable);
      return null;
    }
    ByteBuffer frame = null; // stays null for a fragment read into its message's buffer
    boolean owned = false;
    if (partialFragment != null) {
      readFragmentBytes(deadline, wakeable);
    } else if (partialFrame != null) {
      readFrom(partialFrame, deadline, wakeable);
      frame = partialFrame.flip();
      partialFrame = null;
      owned = true;
    } else {
      fill(in, 4, bulk ? HEAD_BYTES : in.capacity(), deadline, wakeable);
      long n = in.getInt(in.position()) & 0xffffffffL;
      if (n == 0) {
        in.position(in.position() + 4);
        onTick.run(); // answer a tick, as ei does
        return null;
      }
      if (frameCharge.get() == 0 && !charge(n, deadline, wakeable)) {
        return null; // thrown away (DROP)
      }
      if (n >= DIRECT_MIN_BYTES && n > in.remaining() - 4 && readFragment((int) n, deadline, wakeable)) {
        bulk = true;
      } else if (n <= in.capacity() - 4) {
        fill(in, 4 + (int) n, deadline, wakeable);
        int at = in.position() + 4;
        frame = in.slice(at, (int) n);
        in.position(at + (int) n);
        bulk = isFragment(frame);
      } else {
        in.position(in.position() + 4);
        ByteBuffer big = frames.frameBuffer((int) n); // a raw receive's spare, or a new buffer
        int have = Math.min(in.remaining(), (int) n);
        big.put(in.slice(in.position(), have)); // what the read buffer already holds of it
        in.position(in.position() + have);
        partialFrame = big;
        bulk = true;
        readFrom(big, deadline, wakeable);
        partialFrame = null;
        frame = big.flip();
        owned = true;
      }
    }
    long cost = frameCharge.getAndSet(0);
    DistFrameDecoder.Message m;
    try {
      m = frame == null ? frames.finishFragment() : frames.decode(frame, owned);
    } catch (DistHeaderException e) {
      throw refused(e.getMessage(), e, cost);
    } catch (TermDecodeException e) {
      throw refused("an undecodable message: " + e.getMessage(), e, cost);
    } catch (RuntimeException | Error e) {
      account.release(cost); // a defect, or an allocation that failed: the frame's charge goes with it
      throw e;
    }
    long forMessage = settleFragments(cost);
    if (m == null) {
      account.release(forMessage);
    } else {
      messageCharge = forMessage;
    }
    return m;
  }

  /**
   * For a frame of {@code n} bytes (charged, its length at the head of the read buffer, its
   * body not all there): when it is a fragment that {@link DistFrameDecoder#startFragment}
   * accepts, reads its bytes into their room in the message's buffer, the part that is
   * already in the read buffer by a copy and the rest straight from the socket.
   *
   * @return false, having consumed nothing, for any other frame
   */
  private boolean readFragment(int n, Deadline deadline, boolean wakeable) throws IOException {
    if (!frames.acceptsFragments()) {
      return false;
    }
    fill(in, 4 + Math.min(n, 18), bulk ? HEAD_BYTES : in.capacity(), deadline, wakeable);
    int at = in.position() + 4;
    int h;
    try {
      h = frames.startFragment(in.slice(at, Math.min(in.remaining() - 4, n)), n);
    } catch (DistHeaderException e) {
      throw refused(e.getMessage(), e, frameCharge.getAndSet(0));
    }
    if (h < 0) {
      return false;
    }
    ByteBuffer room = frames.fragmentRoom();
    int have = Math.min(in.limit() - (at + h), room.remaining());
    room.put(room.position(), in, at + h, have);
    room.position(room.position() + have);
    in.position(at + h + have); // unless the whole frame was there, the read buffer is empty now
    fragmentEnd = room.limit();
    partialFragment = room.limit(Math.min(room.capacity(), fragmentEnd + HEAD_BYTES));
    readFragmentBytes(deadline, wakeable);
    return true;
  }

  /**
   * Reads the rest of {@link #partialFragment}'s bytes. Its reads may go on into the spare
   * room behind the fragment, up to {@link #HEAD_BYTES}, so that the next header usually
   * comes with the fragment's last read instead of a read of its own; what they bring
   * there is moved to the read buffer (empty, since there were reads), before any later
   * fragment's bytes can take that room.
   */
  private void readFragmentBytes(Deadline deadline, boolean wakeable) throws IOException {
    ByteBuffer room = partialFragment;
    while (room.position() < fragmentEnd) {
      if (io.readSome(room, deadline, readingWhat, wakeable) < 0) {
        throw new EOFException(peerName + " closed the connection");
      }
      lastReadNanos = System.nanoTime();
    }
    int extra = room.position() - fragmentEnd;
    if (extra > 0) {
      in.clear();
      in.put(0, room, fragmentEnd, extra);
      in.limit(extra);
    }
    partialFragment = null;
  }

  /** Whether a frame body is a fragment (its header is 131 69 or 131 70). */
  private static boolean isFragment(ByteBuffer body) {
    int at = body.position();
    return body.remaining() >= 2 && body.get(at) == (byte) 131 && (body.get(at + 1) == 69 || body.get(at + 1) == 70);
  }

  /**
   * Gives back a refused frame's charge and reports the peer's fault ({@code what} it
   * sent); the caller throws it.
   */
  private EiConnectionLostException refused(String what, Exception e, long cost) {
    account.release(cost);
    LOG.debug("closing the connection to {}: it sent {}", peerName, what);
    return new EiConnectionLostException(peerName + " sent " + what, e);
  }

  /**
   * Charges a frame of {@code n} bytes whose length is at the head of the read buffer, or
   * applies the budget's policy when it does not fit.
   *
   * @return true when charged, false when the frame is being thrown away ({@link BudgetPolicy#DROP})
   */
  private boolean charge(long n, Deadline deadline, boolean wakeable) throws IOException {
    if (n > maxMessageBytes) {
      String what = explicitMax ? "maxMessageBytes (" + maxMessageBytes + ")" : "the largest array a JVM can allocate";
      LOG.debug("closing the connection to {}: it sent a frame of {} bytes, more than {}", peerName, n, what);
      throw new EiConnectionLostException(peerName + " sent a frame of " + n + " bytes, more than " + what);
    }
    long cost = n + MessageBudget.PER_MESSAGE_OVERHEAD;
    if (cost > budget.limitBytes()) {
      LOG.debug("closing the connection to {}: it sent a frame of {} bytes, more than the whole receive budget "
          + "(receiveBudgetBytes {})", peerName, n, budget.limitBytes());
      throw new EiConnectionLostException(peerName + " sent a frame of " + n + " bytes, more than the whole receive budget (receiveBudgetBytes "
          + budget.limitBytes() + ")");
    }
    long reassembling = fragmentCharge.get();
    if (!account.tryCharge(cost)) {
      if (reassembling > 0 && reassembling + cost > budget.limitBytes()) {
        // Fragments of messages in progress hold the rest: waiting would never end.
        LOG.debug("closing the connection to {}: its fragmented messages in progress outgrow the whole receive budget "
            + "(receiveBudgetBytes {})", peerName, budget.limitBytes());
        throw new EiConnectionLostException(peerName + " sent fragmented messages larger than the whole receive budget (receiveBudgetBytes "
            + budget.limitBytes() + ")");
      }
      switch (budget.policy()) {
        case PAUSE -> {
          pausing = true;
          try {
            if (!account.await(cost, deadline, wakeable, down, readingWhat)) {
              throw new EiConnectionLostException("the connection to " + peerName + " went down while its reads waited for the receive budget");
            }
          } finally {
            lastReadNanos = System.nanoTime(); // the pause was ours, not the peer's silence: stamped before it ends
            pausing = false;
          }
        }
        case DISCONNECT -> {
          LOG.debug("closing the connection to {}: its frame of {} bytes does not fit in the receive budget "
              + "(receiveBudgetBytes {}, {} bytes held by unconsumed messages; policy DISCONNECT)", peerName, n,
              budget.limitBytes(), budget.usedBytes());
          throw new EiConnectionLostException(peerName + " sent a frame of " + n + " bytes while the receive budget (receiveBudgetBytes "
              + budget.limitBytes() + ") was full");
        }
        case DROP -> {
          fill(in, 4 + (int) Math.min(n, 18), deadline, wakeable);
          boolean lost = frames.discard(in.slice(in.position() + 4, (int) Math.min(n, 18)));
          in.position(in.position() + 4);
          skipping = n;
          long held = fragmentCharge.getAndSet(0); // a dropped sequence frees its fragments' charges
          long keep = Math.min(held, frames.bufferedBytes());
          holdForReassembly(keep);
          account.release(held - keep);
          if (lost) {
            budget.countDrop();
            DROPS.record(peerName, "a frame of " + n + " bytes did not fit in the receive budget (receiveBudgetBytes "
                + budget.limitBytes() + "); " + budget.droppedMessages() + " dropped on this node so far");
          }
          skip(deadline, wakeable);
          return false;
        }
        default -> throw new IllegalStateException(String.valueOf(budget.policy()));
      }
    }
    frameCharge.set(cost);
    if (down.getAsBoolean()) {
      account.release(frameCharge.getAndSet(0)); // releaseOnDown may have run before the set
    }
    return true;
  }

  /**
   * After a frame was decoded: what of its charge (and of the fragments held before) the
   * reassembly still holds stays here; the rest is the message's.
   */
  private long settleFragments(long cost) {
    long total = cost + fragmentCharge.getAndSet(0);
    long keep = Math.min(total, frames.bufferedBytes());
    holdForReassembly(keep);
    return total - keep;
  }

  /**
   * Puts back {@code bytes} of fragments' charges that were taken out of
   * {@link #fragmentCharge} to be settled. Should the connection have gone down meanwhile,
   * {@link #releaseOnDown} found them out and cannot come back for them: they are released
   * here.
   */
  private void holdForReassembly(long bytes) {
    fragmentCharge.addAndGet(bytes);
    if (down.getAsBoolean()) {
      account.release(fragmentCharge.getAndSet(0));
    }
  }

  /** Reads and throws away the rest of a dropped frame. */
  private void skip(Deadline deadline, boolean wakeable) throws IOException {
    while (true) {
      int take = (int) Math.min(in.remaining(), skipping);
      in.position(in.position() + take);
      skipping -= take;
      if (skipping == 0) {
        return;
      }
      in.clear();
      try {
        int r = io.readSome(in, deadline, readingWhat, wakeable);
        if (r < 0) {
          throw new EOFException(peerName + " closed the connection");
        }
        lastReadNanos = System.nanoTime();
      } finally {
        in.flip();
      }
    }
  }

  /** Makes at least {@code n} bytes (at most the buffer's capacity) readable in {@code in}. */
  private void fill(ByteBuffer in, int n, Deadline deadline, boolean wakeable) throws IOException {
    fill(in, n, in.capacity(), deadline, wakeable);
  }

  /**
   * Makes at least {@code n} bytes readable in {@code in}, reading no further than
   * {@code max} bytes from its current position (or {@code n}, when more).
   */
  private void fill(ByteBuffer in, int n, int max, Deadline deadline, boolean wakeable) throws IOException {
    if (in.remaining() >= n) {
      return;
    }
    in.compact();
    in.limit(Math.min(in.capacity(), Math.max(n, max)));
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
