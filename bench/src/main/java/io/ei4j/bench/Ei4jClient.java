package io.ei4j.bench;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import java.io.IOException;

/**
 * ei4j's connection-level API ({@link EiNode}, {@link EiConnection}) in the harness's own
 * JVM, over any transport: one node and one connection for all workloads, as the other
 * clients have one connection per run. Sends go to registered names with
 * {@link EiConnection#regSend}, as the C client's {@code ei_reg_send}; replies come from
 * {@link EiConnection#receive}.
 */
final class Ei4jClient extends InProcessClient {
  private final EiNode node;
  private final EiConnection connection;
  private final ErlPid self;

  /** Builds a node named {@code nodeName} on {@code transport} and connects it to {@code server}. */
  Ei4jClient(String name, SocketCallbacks<?> transport, String nodeName, String cookie, String server) throws IOException {
    super(name);
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
    EiMessage m = connection.receive(RECEIVE_TIMEOUT);
    if (m instanceof EiMessage.Send s) {
      return s.message();
    }
    throw new IllegalStateException("expected a message to " + self + ", got " + m);
  }

  @Override
  public void close() {
    connection.close();
    node.close();
  }
}
