package io.ei4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ei4j.api.ErrnoException;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiConnectionLostException;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiNode;
import io.ei4j.internal.dist.DistFlags;
import io.ei4j.internal.dist.Handshake;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Fuzzes {@link EiConnection}'s frame reader: the input is everything a peer sends after a
 * successful handshake (frames of {@code length:32} with {@code 'p'} + terms, distribution
 * headers with atom cache references, fragments, ticks, garbage), then end of stream. A scripted peer on a {@link MemoryTransport} socket runs a
 * real handshake with an {@link EiNode} (it answers the node's random challenge with the
 * right digest), then hands over the input; the node's own reader thread parses it.
 *
 * <p>Invariant: every message the reader accepts comes out of {@link EiConnection#receive},
 * then the connection reports {@link EiConnectionLostException} within seconds (no hang, no
 * lost end of stream); the reader thread never dies of anything but the connection's own
 * failure (no uncaught exception, no {@code OutOfMemoryError}).
 */
class FrameReaderFuzzTest {
  private static final String COOKIE = "framecookie";
  private static final String PEER = "peer@localhost";
  private static final AtomicReference<Throwable> UNCAUGHT = new AtomicReference<>();
  private static MemoryTransport transport;
  private static EiListener listener;

  private static synchronized EiListener listener() throws IOException {
    if (listener == null) {
      Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
      Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
        UNCAUGHT.compareAndSet(null, e);
        if (previous != null) {
          previous.uncaughtException(t, e);
        }
      });
      transport = new MemoryTransport(2);
      EiNode node = EiNode.builder("framefuzz@localhost").cookie(COOKIE).transport(transport).creation(77)
          .maxMessageBytes(1 << 16).build();
      listener = node.listen(MemoryTransport.ADDRESS, 16);
    }
    return listener;
  }

  @FuzzTest(maxDuration = "10s")
  void fuzz(byte[] input) throws IOException {
    EiListener l = listener();
    MemoryTransport.Conn c = new MemoryTransport.Conn(nameMessage()).responder(new Peer(input));
    transport.offer(c);
    EiConnection conn = l.accept(5_000);
    try {
      for (int i = 0; ; i++) {
        try {
          conn.receive(10_000);
        } catch (EiConnectionLostException down) {
          break;
        } catch (ErrnoException e) {
          throw new AssertionError("the reader neither delivered a message nor reported the end of stream within 10 s (after "
              + i + " messages)", e);
        }
      }
    } finally {
      conn.close();
    }
    Throwable t = UNCAUGHT.getAndSet(null);
    if (t != null) {
      throw new AssertionError("a thread died of an uncaught exception", t);
    }
  }

  /** The peer's {@code 'N'} name message, with a 2-byte length. */
  private static byte[] nameMessage() {
    byte[] name = PEER.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(2 + 1 + 8 + 4 + 2 + name.length);
    // The peer offers distribution headers and fragments, as OTP nodes do, so the node's
    // reader accepts every frame layout: 'p', 131 68 (atom cache), 131 69/70 (fragments).
    long flags = HandshakeAcceptorFuzzTest.FLAGS | DistFlags.DIST_HDR_ATOM_CACHE | DistFlags.FRAGMENTS;
    b.putShort((short) (b.capacity() - 2)).put((byte) 'N').putLong(flags).putInt(99)
        .putShort((short) name.length).put(name);
    return b.array();
  }

  /**
   * Plays the initiator: answers the node's challenge with the right digest, and once the
   * node acknowledges, queues the fuzzer's bytes.
   */
  private static final class Peer implements java.util.function.Consumer<MemoryTransport.Conn> {
    private final byte[] afterHandshake;
    private boolean replied;
    private boolean done;

    Peer(byte[] afterHandshake) {
      this.afterHandshake = afterHandshake;
    }

    @Override
    public void accept(MemoryTransport.Conn c) {
      if (done) {
        return;
      }
      ByteBuffer w = ByteBuffer.wrap(c.written());
      while (w.remaining() >= 2) {
        int len = w.getShort() & 0xffff;
        if (w.remaining() < len) {
          return;
        }
        byte tag = w.get(w.position());
        if (tag == 'N' && !replied) {
          int challenge = w.getInt(w.position() + 1 + 8);
          ByteBuffer r = ByteBuffer.allocate(2 + 1 + 4 + 16);
          r.putShort((short) 21).put((byte) 'r').putInt(12345).put(Handshake.digest(challenge, COOKIE.getBytes(StandardCharsets.ISO_8859_1)));
          c.append(r.array());
          replied = true;
        } else if (tag == 'a') {
          c.append(afterHandshake);
          done = true;
          return;
        }
        w.position(w.position() + len);
      }
    }
  }
}
