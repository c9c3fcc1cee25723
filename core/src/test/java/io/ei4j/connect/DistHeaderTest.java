package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.conformance.ScriptedPeer;
import io.ei4j.internal.dist.DistFlags;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlBinary;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermBuffer;
import io.ei4j.term.TermEncoder;
import io.ei4j.transport.tcp.TcpTransport;
import io.ei4j.transport.tcp.TcpSocket;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Distribution headers byte by byte, against a scripted peer that negotiates
 * {@code DIST_HDR_ATOM_CACHE} and {@code FRAGMENTS}: what this node sends (a header
 * without cache references; fragments for a large payload), atom cache entries filled by
 * one header and referenced by the next, and malformed headers, each of which ends the
 * connection with a message naming the fault and without allocating what it announces.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DistHeaderTest {
  private static final String COOKIE = "dist_header";
  private static final String PEER = "script@localhost";
  private static final TcpTransport TCP = TcpTransport.create();

  private EiNode node;
  private ScriptedPeer<TcpSocket> peer;

  @AfterEach
  void close() {
    if (node != null) {
      node.close();
    }
    if (peer != null) {
      peer.close();
    }
  }

  /** Connects to a scripted acceptor that advertises the default set plus the headers. */
  private EiConnection connect() throws Exception {
    node = EiNode.builder("dh_java@localhost").cookie(COOKIE).transport(TCP).maxMessageBytes(4096).build();
    peer = ScriptedPeer.listen(TCP, null, new InetSocketAddress("127.0.0.1", 0), 5);
    CompletableFuture<Void> script = CompletableFuture.runAsync(() -> {
      try {
        peer.accept();
        ByteBuffer name = ByteBuffer.wrap(peer.readHandshakeMessage());
        assertEquals('N', name.get());
        peer.sendStatus("ok");
        byte[] n = PEER.getBytes(StandardCharsets.UTF_8);
        ByteBuffer challenge = ByteBuffer.allocate(1 + 8 + 4 + 4 + 2 + n.length);
        challenge.put((byte) 'N').putLong(DistFlags.ADVERTISED | DistFlags.DIST_HEADERS).putInt(42).putInt(7)
            .putShort((short) n.length).put(n);
        peer.writeHandshakeMessage(challenge.array());
        ByteBuffer reply = ByteBuffer.wrap(peer.readHandshakeMessage());
        assertEquals('r', reply.get());
        long theirs = reply.getInt() & 0xffffffffL;
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        md5.update(COOKIE.getBytes(StandardCharsets.ISO_8859_1));
        md5.update(Long.toString(theirs).getBytes(StandardCharsets.US_ASCII));
        byte[] ack = new byte[17];
        ack[0] = 'a';
        System.arraycopy(md5.digest(), 0, ack, 1, 16);
        peer.writeHandshakeMessage(ack);
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    EiConnection c = node.connect(peer.address(), 5_000);
    script.get(10, TimeUnit.SECONDS);
    assertTrue(c.usesDistributionHeaders() && c.sendsFragments());
    return c;
  }

  private static byte[] frame(byte[]... parts) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      body.writeBytes(p);
    }
    return ByteBuffer.allocate(4 + body.size()).putInt(body.size()).put(body.toByteArray()).array();
  }

  private static byte[] bytes(int... b) {
    byte[] a = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      a[i] = (byte) b[i];
    }
    return a;
  }

  private static byte[] term(io.ei4j.term.ErlTerm t) {
    TermBuffer b = new TermBuffer();
    TermEncoder.encodeTerm(t, b);
    return b.toByteArray();
  }

  private static byte[] longs(long a, long b) {
    return ByteBuffer.allocate(16).putLong(a).putLong(b).array();
  }

  private String failureOf(EiConnection c) {
    EiConnectionLostException e = assertThrows(EiConnectionLostException.class, () -> c.receive(5_000));
    assertTrue(!c.isOpen());
    return e.getMessage();
  }

  @Test
  void aSendIsAHeaderWithoutCacheReferencesAndTermsWithoutVersionBytes() throws Exception {
    EiConnection c = connect();
    ErlPid to = ErlPid.of(ErlAtom.of(PEER), 1, 2, 7);
    c.send(to, ErlAtom.of("hello"));
    byte[] want = frame(bytes(131, 68, 0), term(ErlTuple.of(ErlInteger.of(2), ErlAtom.of(""), to)), term(ErlAtom.of("hello")));
    assertArrayEquals(want, peer.readRaw(want.length));
  }

  @Test
  void aLargePayloadIsSentAsFragments() throws Exception {
    EiConnection c = connect();
    ErlPid to = ErlPid.of(ErlAtom.of(PEER), 1, 2, 7);
    byte[] data = new byte[EiConnection.FRAGMENT_ABOVE + 1000];
    Arrays.fill(data, (byte) 5);
    c.send(to, ErlBinary.of(data));
    byte[] control = term(ErlTuple.of(ErlInteger.of(2), ErlAtom.of(""), to));
    byte[] payload = term(ErlBinary.of(data));
    int f = EiConnection.FRAGMENT_BYTES;
    long count = (payload.length + (long) f - 1) / f;
    assertEquals(3, count, "two full fragments and the rest");
    ByteBuffer first = ByteBuffer.wrap(peer.readRaw(4 + 2 + 16 + 1 + control.length + f));
    assertEquals(first.capacity() - 4, first.getInt());
    assertEquals(131, first.get() & 0xff);
    assertEquals(69, first.get());
    long seq = first.getLong();
    assertEquals(count, first.getLong(), "the fragment count, counting down");
    assertEquals(0, first.get(), "no atom cache references");
    byte[] ctl = new byte[control.length];
    first.get(ctl);
    assertArrayEquals(control, ctl);
    byte[] part1 = new byte[f];
    first.get(part1);
    assertArrayEquals(Arrays.copyOfRange(payload, 0, f), part1);
    for (long i = 1; i < count; i++) {
      int from = (int) (i * f);
      int to2 = Math.min(payload.length, from + f);
      byte[] want = frame(bytes(131, 70), longs(seq, count - i), Arrays.copyOfRange(payload, from, to2));
      assertArrayEquals(want, peer.readRaw(4 + 18 + (to2 - from)), "fragment " + (i + 1));
    }
  }

  @Test
  void aPayloadUpToTheFragmentThresholdIsOneFrame() throws Exception {
    EiConnection c = connect();
    ErlPid to = ErlPid.of(ErlAtom.of(PEER), 1, 2, 7);
    byte[] data = new byte[EiConnection.FRAGMENT_ABOVE - 100];
    Arrays.fill(data, (byte) 6);
    c.send(to, ErlBinary.of(data));
    byte[] want = frame(bytes(131, 68, 0), term(ErlTuple.of(ErlInteger.of(2), ErlAtom.of(""), to)), term(ErlBinary.of(data)));
    assertArrayEquals(want, peer.readRaw(want.length));
  }

  /** {@code {2, '', To}} with {@code ''} as cache reference 0, and To's node as reference 1. */
  private static byte[] sendWithRefs(int id) {
    // NEW_PID_EXT: 88, node, id:32, serial:32, creation:32
    byte[] pid = ByteBuffer.allocate(1 + 2 + 12).put((byte) 88).put((byte) 82).put((byte) 1)
        .putInt(id).putInt(0).putInt(5).array();
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(bytes(104, 3, 97, 2, 82, 0));
    b.writeBytes(pid);
    return b.toByteArray();
  }

  @Test
  void cacheEntriesFilledByOneHeaderServeTheNext() throws Exception {
    EiConnection c = connect();
    byte[] node = "dh_java@localhost".getBytes(StandardCharsets.UTF_8);
    // 3 references: 0 = new '' in segment 1 slot 5, 1 = new node name in segment 0 slot 9,
    // 2 = new 'hello' in segment 7 slot 255. Flag half bytes: 0x9, 0x8 | 0xF, then LongAtoms 0.
    ByteArrayOutputStream h = new ByteArrayOutputStream();
    h.writeBytes(bytes(131, 68, 3, 0x89, 0x0F));
    h.writeBytes(bytes(5, 0));
    h.write(9);
    h.write(node.length);
    h.writeBytes(node);
    h.writeBytes(bytes(255, 5));
    h.writeBytes("hello".getBytes(StandardCharsets.US_ASCII));
    peer.writeRaw(frame(h.toByteArray(), sendWithRefs(1), bytes(82, 2)));
    // The same three atoms as cached references: flag half bytes 0x1, 0x0, 0x7; LongAtoms 0.
    peer.writeRaw(frame(bytes(131, 68, 3, 0x01, 0x07, 5, 9, 255), sendWithRefs(2), bytes(104, 2, 82, 2, 82, 0)));
    // Long atoms: one new entry with a 2-byte length replaces slot 1/5.
    ErlPid third = ErlPid.of(ErlAtom.of("dh_java@localhost"), 3, 0, 5);
    peer.writeRaw(frame(bytes(131, 68, 1, 0x19, 5, 0, 3, 'n', 'e', 'w'), bytes(104, 3, 97, 2, 82, 0), term(third), bytes(82, 0)));

    EiMessage.Send first = assertInstanceOf(EiMessage.Send.class, c.receive(5_000));
    assertEquals(ErlPid.of(ErlAtom.of("dh_java@localhost"), 1, 0, 5), first.to());
    assertEquals(ErlAtom.of("hello"), first.message());
    EiMessage.Send second = assertInstanceOf(EiMessage.Send.class, c.receive(5_000));
    assertEquals(2, second.to().id());
    assertEquals(ErlTuple.of(ErlAtom.of("hello"), ErlAtom.of("")), second.message());
    EiMessage.Send replaced = assertInstanceOf(EiMessage.Send.class, c.receive(5_000));
    assertEquals(third, replaced.to());
    assertEquals(ErlAtom.of("new"), replaced.message(), "slot 1/5 now holds the new atom");
    assertEquals(4, c.frameDecoder().newCacheEntries());
    assertEquals(3, c.frameDecoder().cachedReferences());
    assertTrue(c.isOpen());
  }

  @Test
  void aReferenceToAnEmptySlotEndsTheConnection() throws Exception {
    EiConnection c = connect();
    peer.writeRaw(frame(bytes(131, 68, 1, 0x03, 17), bytes(104, 1, 82, 0)));
    String why = failureOf(c);
    assertTrue(why.contains("no earlier header filled") && why.contains("slot 785"), why);
  }

  @Test
  void aTruncatedHeaderEndsTheConnection() throws Exception {
    EiConnection c = connect();
    peer.writeRaw(frame(bytes(131, 68, 9, 0)));
    String why = failureOf(c);
    assertTrue(why.contains("cut short"), why);
  }

  @Test
  void anOverlongCachedAtomEndsTheConnection() throws Exception {
    EiConnection c = connect();
    peer.writeRaw(frame(bytes(131, 68, 1, 0x18, 0, 0xff, 0xff)));
    String why = failureOf(c);
    assertTrue(why.contains("65535 bytes"), why);
  }

  @Test
  void aPassThroughFrameWhereHeadersWereNegotiatedEndsTheConnection() throws Exception {
    EiConnection c = connect();
    peer.writeRaw(frame(bytes(112), TermEncoder.toBytes(ErlTuple.of(ErlInteger.of(2), ErlAtom.of(""), ErlAtom.of("x")))));
    String why = failureOf(c);
    assertTrue(why.contains("pass-through"), why);
  }

  @Test
  void aContinuationOfAnUnknownSequenceEndsTheConnection() throws Exception {
    EiConnection c = connect();
    peer.writeRaw(frame(bytes(131, 70), longs(77, 1), bytes(1, 2, 3)));
    String why = failureOf(c);
    assertTrue(why.contains("sequence 77") && why.contains("never started"), why);
  }

  @Test
  void aFragmentOutOfOrderEndsTheConnection() throws Exception {
    EiConnection c = connect();
    peer.writeRaw(frame(bytes(131, 69), longs(5, 3), bytes(0), bytes(104, 3, 97, 2, 106)));
    peer.writeRaw(frame(bytes(131, 70), longs(5, 1), bytes(106)));
    String why = failureOf(c);
    assertTrue(why.contains("fragment 1 of sequence 5 where fragment 2 was expected"), why);
  }

  @Test
  void fragmentsAboveMaxMessageBytesEndTheConnectionWithoutAllocatingTheAnnouncedSize() throws Exception {
    EiConnection c = connect();
    // 2^62 fragments announced: nothing is sized from that number.
    peer.writeRaw(frame(bytes(131, 69), longs(9, 1L << 62), bytes(0), bytes(104, 3, 97, 2, 106)));
    byte[] chunk = new byte[1000];
    for (long id = (1L << 62) - 1; id > (1L << 62) - 6; id--) {
      peer.writeRaw(frame(bytes(131, 70), longs(9, id), chunk));
    }
    String why = failureOf(c);
    assertTrue(why.contains("maxMessageBytes (4096)"), why);
  }

  @Test
  void fragmentsReassembleAcrossFramesAndInterleavedMessages() throws Exception {
    EiConnection c = connect();
    ErlPid to = ErlPid.of(ErlAtom.of("dh_java@localhost"), 3, 0, 5);
    byte[] control = term(ErlTuple.of(ErlInteger.of(2), ErlAtom.of(""), to));
    byte[] payload = term(ErlBinary.of(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9}));
    int cut = 5;
    peer.writeRaw(frame(bytes(131, 69), longs(11, 3), bytes(0), control, Arrays.copyOfRange(payload, 0, cut)));
    // Another message in between, as Erlang interleaves other senders.
    peer.writeRaw(frame(bytes(131, 68, 0), control, term(ErlAtom.of("between"))));
    peer.writeRaw(frame(bytes(131, 70), longs(11, 2), Arrays.copyOfRange(payload, cut, cut + 3)));
    peer.writeRaw(frame(bytes(131, 70), longs(11, 1), Arrays.copyOfRange(payload, cut + 3, payload.length)));
    assertEquals(ErlAtom.of("between"), ((EiMessage.Send) c.receive(5_000)).message());
    assertEquals(ErlBinary.of(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9}), ((EiMessage.Send) c.receive(5_000)).message());
    assertEquals(1, c.frameDecoder().reassembledMessages());
    assertEquals(0, c.frameDecoder().sequencesInProgress());
  }
}
