package io.ei4j.node;

import io.ei4j.transport.tcp.TcpTransport;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;

/**
 * The child JVM of {@link FailStopInteropTest}: a published node with a mailbox {@code sink}
 * that never receives and no queue limit, so an Erlang flood fills its small heap. It prints
 * {@code ready}, then, once the node failed, {@code failed <cause>} and exits with 3, as an
 * application that treats a failed node as fatal would.
 */
public final class FailStopFloodChild {
  private FailStopFloodChild() {}

  public static void main(String[] args) throws Exception {
    CountDownLatch failed = new CountDownLatch(1);
    Node node = Node.builder(args[0]).cookie(args[1]).transport(TcpTransport.create())
        .listen(new InetSocketAddress(0)).maxQueueLength(Integer.MAX_VALUE)
        .receiveBudgetBytes(1L << 30) // far beyond the 48 MiB heap: the flood must end in a real OutOfMemoryError
        .build();
    node.addNodeListener(new NodeListener() {
      @Override
      public void nodeFailed(Throwable cause) {
        failed.countDown();
      }
    });
    Mailbox sink = node.createMailbox("sink");
    System.out.println("ready " + sink.pid());
    System.out.flush();
    failed.await(); // allocates nothing while the heap fills
    System.out.println("failed " + node.failure().map(Throwable::toString).orElse("?") + " closed=" + node.isClosed());
    System.out.flush();
    System.exit(3);
  }
}
