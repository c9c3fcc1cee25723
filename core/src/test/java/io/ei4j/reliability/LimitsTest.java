package io.ei4j.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiConnectionLostException;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermDecodeException;
import io.ei4j.term.TermEncoder;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every limit on untrusted input, exercised with a real oversized input over a real TCP
 * connection: a hand-made peer completes the handshake with the right cookie and then
 * sends a frame just inside and one beyond each limit. Beyond it, the connection ends with
 * {@link EiConnectionLostException} naming the limit, quickly and without allocating what
 * the input claims.
 */
@Timeout(60)
class LimitsTest {
  private static final String COOKIE = "limits-cookie";
  private static final int MAX_FRAME = 64 << 10;

  private EiNode node;
  private EiListener listener;
  private InetSocketAddress address;

  @BeforeEach
  void listen() throws IOException {
    node = EiNode.builder(ErlangPeer.uniqueName("limits") + "@localhost").cookie(COOKIE).transport(TcpTransport.create())
        .maxMessageBytes(MAX_FRAME).decodeLimits(io.ei4j.term.DecodeLimits.DEFAULT.withMaxDepth(1_000)).build();
    listener = node.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    address = (InetSocketAddress) listener.address();
  }

  @AfterEach
  void close() {
    listener.close();
    node.close();
  }

  /** A SEND frame to a pid of the node with the encoded payload {@code term} (131 included). */
  private byte[] sendFrame(byte[] term) {
    byte[] control = TermEncoder.toBytes(ErlTuple.of(io.ei4j.term.ErlInteger.of(2), ErlAtom.of(""), node.makePid()));
    ByteBuffer b = ByteBuffer.allocate(4 + 1 + control.length + term.length);
    b.putInt(1 + control.length + term.length).put((byte) 112).put(control).put(term);
    return b.array();
  }

  /** Sends raw bytes after a handshake; returns the first message, or the loss. */
  private Object deliver(byte[] raw) throws Exception {
    CompletableFuture<EiConnection> accepted = CompletableFuture.supplyAsync(() -> {
      try {
        return listener.accept(10_000);
      } catch (IOException e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    });
    try (Socket s = Abuse.handshaken(address, ErlangPeer.uniqueName("raw") + "@localhost", COOKIE)) {
      EiConnection c = accepted.get(10, TimeUnit.SECONDS);
      s.getOutputStream().write(raw);
      s.getOutputStream().flush();
      try {
        return c.receive(5_000);
      } catch (EiConnectionLostException lost) {
        return lost;
      } finally {
        c.close();
      }
    }
  }

  private void assertDelivered(byte[] term) throws Exception {
    Object r = deliver(sendFrame(term));
    assertInstanceOf(EiMessage.Send.class, r, "expected the message to be delivered, got " + r);
  }

  private void assertRefused(byte[] raw, String mentions) throws Exception {
    Object r = deliver(raw);
    EiConnectionLostException lost = assertInstanceOf(EiConnectionLostException.class, r, "expected the connection to end, got " + r);
    String all = lost.getMessage() + (lost.getCause() != null ? " / " + lost.getCause().getMessage() : "");
    assertTrue(all.contains(mentions), "the failure should name the limit (" + mentions + "): " + all);
  }

  private static byte[] nested(int depth) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(131);
    for (int i = 0; i < depth; i++) {
      b.write(104); // SMALL_TUPLE_EXT, arity 1
      b.write(1);
    }
    b.write(106); // NIL_EXT
    return b.toByteArray();
  }

  private static byte[] atom(int chars) {
    ByteBuffer b = ByteBuffer.allocate(1 + 1 + 2 + chars);
    b.put((byte) 131).put((byte) 118).putShort((short) chars); // ATOM_UTF8_EXT
    byte[] a = new byte[chars];
    Arrays.fill(a, (byte) 'a');
    return b.put(a).array();
  }

  @Test
  void frameSize() throws Exception {
    byte[] bin = new byte[MAX_FRAME - 1_000];
    assertDelivered(TermEncoder.toBytes(io.ei4j.term.ErlBinary.of(bin)));
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    assertRefused(ByteBuffer.allocate(8).putInt(Integer.MAX_VALUE).putInt(0).array(), "maxMessageBytes");
    long grew = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() - heap;
    assertTrue(grew < 256L << 20, "a 2 GiB frame header made the heap grow by " + (grew >> 20) + " MiB");
    assertRefused(sendFrame(TermEncoder.toBytes(io.ei4j.term.ErlBinary.of(new byte[MAX_FRAME]))), "maxMessageBytes");
  }

  @Test
  void nestingDepth() throws Exception {
    assertDelivered(nested(900));
    assertRefused(sendFrame(nested(5_000)), "maxDepth");
  }

  @Test
  void atomLength() throws Exception {
    assertDelivered(atom(255));
    assertRefused(sendFrame(atom(256)), "atom");
  }

  @Test
  void uncompressedSizeOfCompressedTerms() throws Exception {
    byte[] real = TermEncoder.toBytes(ErlTuple.of(ErlAtom.of("ok")));
    ByteArrayOutputStream z = new ByteArrayOutputStream();
    try (java.util.zip.DeflaterOutputStream d = new java.util.zip.DeflaterOutputStream(z)) {
      d.write(real, 1, real.length - 1);
    }
    ByteBuffer ok = ByteBuffer.allocate(1 + 1 + 4 + z.size());
    ok.put((byte) 131).put((byte) 80).putInt(real.length - 1).put(z.toByteArray());
    assertDelivered(ok.array());
    ByteBuffer bomb = ByteBuffer.allocate(1 + 1 + 4 + z.size());
    bomb.put((byte) 131).put((byte) 80).putInt(Integer.MAX_VALUE).put(z.toByteArray());
    assertRefused(sendFrame(bomb.array()), "uncompressed");
  }

  @Test
  void decoderLimitsAreTyped() {
    TermDecodeException e = assertThrows(TermDecodeException.class, () -> new io.ei4j.term.TermDecoder(io.ei4j.term.DecodeLimits.DEFAULT.withMaxDepth(1_000)).decode(nested(5_000)));
    assertTrue(e.getMessage().contains("maxDepth"), e.getMessage());
    assertInstanceOf(ErlTuple.class, assertDoesNotThrowDecode(nested(900)));
  }

  private static ErlTerm assertDoesNotThrowDecode(byte[] b) {
    try {
      return new io.ei4j.term.TermDecoder().decode(b);
    } catch (TermDecodeException e) {
      throw new AssertionError(e);
    }
  }
}
