package io.ei4j.bench;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.connect.EiRawMessage;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.TermCursor;
import java.io.IOException;

/**
 * ei4j's connection-level API ({@link EiNode}, {@link EiConnection}) in the harness's own
 * JVM, over any transport: one node and one connection for all workloads, as the other
 * clients have one connection per run. Sends go to registered names with
 * {@link EiConnection#regSend}, as the C client's {@code ei_reg_send}; replies come from
 * {@link EiConnection#receive}.
 *
 * <p>Made {@code raw}, it receives as the C client does with {@code ei_xreceive_msg}: into
 * one reused {@link EiRawMessage}, reading a flood's messages with its cursor and copying
 * each binary into one reused array, as {@code ei_decode_binary} into the C client's buffer.
 */
final class Ei4jClient extends InProcessClient {
  private final EiNode node;
  private final EiConnection connection;
  private final ErlPid self;
  /** The holder of raw receives, or null when this client receives decoded messages. */
  private final EiRawMessage raw;
  /** Where a raw client copies a flood's binaries. */
  private byte[] binary = new byte[0];

  /**
   * Builds a node named {@code nodeName} on {@code transport} and connects it to
   * {@code server}; {@code raw} makes it receive with {@link EiConnection#receive(EiRawMessage, long)}.
   */
  Ei4jClient(String name, SocketCallbacks<?> transport, String nodeName, String cookie, String server, boolean raw) throws IOException {
    super(name);
    this.raw = raw ? new EiRawMessage() : null;
    this.node = EiNode.builder(nodeName).cookie(cookie).transport(transport).build();
    try {
      this.connection = node.connect(server, 15_000);
    } catch (IOException | RuntimeException e) {
      node.close();
      throw e;
    }
    this.self = connection.self();
  }

  @Override
  ErlPid self() {
    return self;
  }

  @Override
  void sendTo(String registeredName, ErlTerm message) throws IOException {
    connection.regSend(self, registeredName, message);
  }

  @Override
  ErlTerm receive() throws IOException {
    if (raw != null) {
      return receiveRaw().decodePayload();
    }
    EiMessage m = connection.receive(RECEIVE_TIMEOUT);
    if (m instanceof EiMessage.Send s) {
      return s.message();
    }
    throw new IllegalStateException("expected a message to " + self + ", got " + m);
  }

  @Override
  long receiveFlood() throws IOException {
    if (raw == null) {
      return super.receiveFlood();
    }
    TermCursor c = receiveRaw().payload();
    int arity = c.tupleHeader();
    if (arity == 3 && c.atomIs(SEQ)) {
      c.longValue();
      int n = c.binaryLength();
      if (binary.length < n) {
        binary = new byte[n];
      }
      return c.binary(binary, 0);
    } else if (arity == 2 && c.atomIs(FLOOD_DONE)) {
      return -1 - c.longValue();
    }
    throw new IllegalStateException("unexpected message " + raw.decodePayload());
  }

  private EiRawMessage receiveRaw() throws IOException {
    connection.receive(raw, RECEIVE_TIMEOUT);
    if (raw.kind() != EiRawMessage.Kind.SEND) {
      throw new IllegalStateException("expected a message to " + self + ", got " + raw);
    }
    return raw;
  }

  @Override
  public void close() {
    connection.close();
    node.close();
  }
}
