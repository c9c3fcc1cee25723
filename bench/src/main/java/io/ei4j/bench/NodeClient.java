package io.ei4j.bench;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.node.ExitException;
import io.ei4j.node.Mailbox;
import io.ei4j.node.Node;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlTerm;
import java.io.IOException;
import java.io.InterruptedIOException;

/**
 * ei4j's process-level API ({@link Node}, {@link Mailbox}) in the harness's own JVM: one
 * node and one mailbox for all workloads, as JInterface's client has one {@code OtpNode}
 * and one {@code OtpMbox}. The connection is made in the constructor with
 * {@link Node#ping}, outside every timed run.
 */
final class NodeClient extends InProcessClient {
  private final String server;
  private final Node node;
  private final Mailbox box;
  private final ErlPid self;

  NodeClient(String name, SocketCallbacks<?> transport, String nodeName, String cookie, String server) throws IOException {
    super(name);
    this.server = server;
    this.node = Node.builder(nodeName).cookie(cookie).transport(transport).build();
    this.box = node.createMailbox();
    this.self = box.pid();
    if (!node.ping(server, 15_000)) {
      node.close();
      throw new IOException("no pong from " + server);
    }
  }

  @Override
  ErlPid self() {
    return self;
  }

  @Override
  void sendTo(String registeredName, ErlTerm message) throws IOException {
    box.send(registeredName, server, message);
  }

  @Override
  ErlTerm receive() throws IOException {
    try {
      ErlTerm m = box.receive(RECEIVE_TIMEOUT);
      if (m == null) {
        throw new IOException("nothing received within " + RECEIVE_TIMEOUT + " ms");
      }
      return m;
    } catch (ExitException e) {
      throw new IOException("the mailbox died: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted");
    }
  }

  @Override
  public void close() {
    box.close();
    node.close();
  }
}
