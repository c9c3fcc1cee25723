package io.ei4j.reliability;

import io.ei4j.connect.EiNode;
import io.ei4j.node.Node;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Run by {@link LogPolicyTest} in a JVM of its own at slf4j-simple's default level (INFO):
 * provokes, against a {@link Node}, the events that the log policy says must be visible
 * by default, each a bounded number of times, then closes the node (which writes the
 * rate-limited logs' summaries) and prints {@code probe done}.
 *
 * <p>Arguments: the node's cookie, then a different cookie.
 */
public final class LogPolicyProbe {
  private LogPolicyProbe() {}

  public static void main(String[] args) throws Exception {
    String cookie = args[0];
    String wrongCookie = args[1];
    ErlangPeer.ensureEpmd();
    String host = ErlangPeer.shortHostName();
    List<Socket> held = new ArrayList<>();
    try (Node n = Node.builder(ErlangPeer.uniqueName("logged") + "@" + host).cookie(cookie).transport(TcpTransport.create())
        .listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).maxPendingHandshakes(2).maxMessageBytes(64 << 20).handshakeTimeoutMillis(3_000)
        .build()) {
      InetSocketAddress at = (InetSocketAddress) n.listenAddress();

      // 20 handshakes that fail on a name that is no node name: one line, then a summary.
      for (int i = 0; i < 20; i++) {
        try (Socket s = Abuse.connect(at, 5_000)) {
          s.getOutputStream().write(Abuse.nameMessage("no_at_sign_" + i));
          awaitClose(s);
        }
      }
      // A peer with another cookie.
      try (EiNode wrong = EiNode.builder(ErlangPeer.uniqueName("wrong") + "@" + host).cookie(wrongCookie)
          .transport(TcpTransport.create()).build()) {
        wrong.connect(at, 5_000).close();
        System.out.println("UNEXPECTED: the wrong cookie was accepted");
      } catch (IOException expected) {
        System.out.println("probe: wrong cookie refused");
      }
      // An authenticated peer forges a 1 GiB length prefix.
      try (Socket s = Abuse.handshaken(at, ErlangPeer.uniqueName("forger") + "@" + host, cookie)) {
        s.getOutputStream().write(ByteBuffer.allocate(4).putInt(1 << 30).array());
        awaitClose(s);
      }
      // An authenticated peer sends a term that does not decode.
      try (Socket s = Abuse.handshaken(at, ErlangPeer.uniqueName("garbler") + "@" + host, cookie)) {
        OutputStream out = s.getOutputStream();
        out.write(new byte[] {0, 0, 0, 3, 112, (byte) 131, (byte) 255});
        awaitClose(s);
      }
      // Three silent connections for two slots: the first is evicted.
      for (int i = 0; i < 3; i++) {
        held.add(Abuse.connect(at, 5_000));
        Thread.sleep(100);
      }
      Thread.sleep(500);
      System.out.println("probe: refused or evicted " + n.refusedHandshakes());
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
    System.out.println("probe done");
  }

  /** Waits (at most the socket's read timeout) until the node closes {@code s}. */
  private static void awaitClose(Socket s) throws IOException {
    DataInputStream in = new DataInputStream(s.getInputStream());
    try {
      while (in.read() >= 0) {
        // drain whatever the node sent before closing
      }
    } catch (IOException closed) {
      // a reset is a close too
    }
  }
}
