package io.ei4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ei4j.internal.dist.Deadline;
import io.ei4j.internal.dist.DistFlags;
import io.ei4j.internal.dist.Handshake;
import io.ei4j.internal.dist.SocketIo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Fuzzes the acceptor's side of the handshake ({@link Handshake#accept}) with arbitrary
 * peer bytes. The first input byte picks the handshake header size (2 as over TCP, or 4 as
 * over TLS); the rest is everything the peer sends, then end of stream. Invariant: the
 * handshake ends with an {@link IOException} (the SDK's handshake, authentication,
 * end-of-stream and errno exceptions); no other exception escapes, nothing allocates more
 * than the capped message size, and it cannot succeed, since the peer cannot know the
 * random challenge's digest.
 */
class HandshakeAcceptorFuzzTest {
  static final byte[] COOKIE = "fuzzcookie".getBytes(StandardCharsets.ISO_8859_1);
  static final long FLAGS = DistFlags.REQUIRED_OF_PEER;

  @FuzzTest(maxDuration = "10s")
  void fuzz(byte[] input) {
    if (input.length == 0) {
      return;
    }
    int header = (input[0] & 1) == 0 ? 2 : 4;
    byte[] peer = java.util.Arrays.copyOfRange(input, 1, input.length);
    MemoryTransport t = new MemoryTransport(header);
    MemoryTransport.Conn c = new MemoryTransport.Conn(peer);
    try {
      new Handshake(new SocketIo<>(t, c, null), "acceptor@localhost", FLAGS, 4711, COOKIE, Deadline.after(1_000)).accept();
    } catch (IOException expected) {
      return;
    }
    throw new AssertionError("a handshake from scripted bytes cannot authenticate against a random challenge");
  }
}
