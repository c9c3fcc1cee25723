package io.ei4j.fuzz;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.SilentCloseable;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ei4j.epmd.EpmdClient;
import io.ei4j.epmd.EpmdRegistration;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Fuzzes {@link EpmdClient}'s reply parsers over a real loopback socket: a fake EPMD reads
 * the client's request and answers with the fuzzer's bytes, then closes. The first input
 * byte picks the request ({@code PORT_PLEASE2}, {@code ALIVE2} or {@code NAMES}). Invariant:
 * the client returns a result or throws an {@link IOException} (its {@code EpmdException});
 * nothing else escapes, and it finishes well within its timeout since the server closes.
 */
class EpmdClientFuzzTest {
  private static ServerSocket server;
  private static ExecutorService serving;

  private static synchronized ServerSocket server() throws IOException {
    if (server == null) {
      server = new ServerSocket();
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
      serving = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fake-epmd");
        t.setDaemon(true);
        return t;
      });
    }
    return server;
  }

  @FuzzTest(maxDuration = "10s")
  void fuzz(byte[] input) throws Exception {
    // The fuzzer decides what EPMD answers, never where the client connects.
    int serverPort = server().getLocalPort();
    SilentCloseable loopbackOnly = BugDetectors.allowNetworkConnections((host, port) -> port == serverPort);
    try {
      fuzzOne(input);
    } finally {
      loopbackOnly.close();
    }
  }

  private static void fuzzOne(byte[] input) throws Exception {
    if (input.length == 0) {
      return;
    }
    ServerSocket s = server();
    byte[] reply = Arrays.copyOfRange(input, 1, input.length);
    Future<?> served = serving.submit(() -> {
      try (Socket peer = s.accept()) {
        peer.setSoTimeout(5_000);
        InputStream in = peer.getInputStream();
        int len = (in.read() << 8) | in.read();
        in.readNBytes(Math.max(0, len));
        OutputStream out = peer.getOutputStream();
        out.write(reply);
        out.flush();
        peer.shutdownOutput();
        in.readAllBytes(); // until the client closes (a registration stays open until closed)
      } catch (IOException clientGaveUp) {
        // A client that rejects a reply closes with bytes unread, which resets the socket.
      }
      return null;
    });
    EpmdClient client = new EpmdClient("127.0.0.1", s.getLocalPort(), 5_000);
    long start = System.nanoTime();
    try {
      switch ((input[0] & 0xff) % 3) {
        case 0 -> client.portPlease("fuzz");
        case 1 -> {
          try (EpmdRegistration r = client.register("fuzz", 4242, true)) {
            r.creation();
          }
        }
        default -> client.names();
      }
    } catch (IOException expected) {
      // A typed rejection of the reply.
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    if (millis > 4_000) {
      throw new AssertionError("the client took " + millis + " ms over a reply the server had already closed");
    }
    served.get(10, TimeUnit.SECONDS);
  }
}
