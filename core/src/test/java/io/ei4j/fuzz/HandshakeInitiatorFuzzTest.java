package io.ei4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ei4j.internal.dist.Deadline;
import io.ei4j.internal.dist.Handshake;
import io.ei4j.internal.dist.SocketIo;
import java.io.IOException;
import java.util.Arrays;

/**
 * Fuzzes the initiator's side of the handshake ({@link Handshake#initiate}) with arbitrary
 * bytes from the acceptor: status, challenge and acknowledgement. The first input byte
 * picks the header size (2 or 4) and whether the acceptor's name is checked against an
 * expected one. Invariant: only {@link IOException}s escape, and the handshake never
 * succeeds, since the acceptor cannot know the digest of our random challenge.
 */
class HandshakeInitiatorFuzzTest {
  @FuzzTest(maxDuration = "10s")
  void fuzz(byte[] input) {
    if (input.length == 0) {
      return;
    }
    int header = (input[0] & 1) == 0 ? 2 : 4;
    String expected = (input[0] & 2) == 0 ? null : "acceptor@localhost";
    MemoryTransport t = new MemoryTransport(header);
    MemoryTransport.Conn c = new MemoryTransport.Conn(Arrays.copyOfRange(input, 1, input.length));
    try {
      new Handshake(new SocketIo<>(t, c, null), "initiator@localhost", HandshakeAcceptorFuzzTest.FLAGS, 4712,
          HandshakeAcceptorFuzzTest.COOKIE, Deadline.after(1_000)).initiate(expected);
    } catch (IOException expectedFailure) {
      return;
    }
    throw new AssertionError("a handshake from scripted bytes cannot authenticate against a random challenge");
  }
}
