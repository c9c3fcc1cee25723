package io.ei4j.fuzz;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.SilentCloseable;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ei4j.epmd.EmbeddedEpmd;
import io.ei4j.epmd.EpmdClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Fuzzes the {@link EmbeddedEpmd}'s request parser over a real loopback socket: each input
 * is sent as-is on a fresh connection (length prefix and all), the client half-closes and
 * reads whatever comes back. Invariant: the server answers or closes the connection within
 * seconds, never fails with anything but a typed I/O error (its loop logs any runtime
 * exception as "unexpected failure", which this test watches for on the log's stream), and
 * keeps serving: it is still open and answers {@code NAMES} after every input.
 */
class EmbeddedEpmdFuzzTest {
  private static EmbeddedEpmd epmd;
  private static final ByteArrayOutputStream UNEXPECTED = new ByteArrayOutputStream();
  private static int inputs;

  private static synchronized EmbeddedEpmd epmd() throws IOException {
    if (epmd == null) {
      PrintStream original = System.err;
      // slf4j-simple writes to whatever System.err is at the time of the call.
      System.setErr(new PrintStream(new java.io.OutputStream() {
        private final StringBuilder line = new StringBuilder();

        @Override
        public void write(int b) {
          original.write(b);
          if (b == '\n') {
            if (line.indexOf("unexpected failure") >= 0) {
              synchronized (UNEXPECTED) {
                UNEXPECTED.writeBytes((line + "\n").getBytes(StandardCharsets.UTF_8));
              }
            }
            line.setLength(0);
          } else if (line.length() < 4096) {
            line.append((char) b);
          }
        }
      }, true));
      epmd = EmbeddedEpmd.builder().bind(InetAddress.getLoopbackAddress()).port(0)
          .requestTimeout(Duration.ofSeconds(2)).allowKill(false).start();
    }
    return epmd;
  }

  @FuzzTest(maxDuration = "10s")
  void fuzz(byte[] input) throws Exception {
    // The fuzzer decides what is sent, never where to: the target is our own loopback server.
    int epmdPort = epmd().port();
    SilentCloseable loopbackOnly = BugDetectors.allowNetworkConnections((host, port) -> port == epmdPort);
    try {
      fuzzOne(input);
    } finally {
      loopbackOnly.close();
    }
  }

  private static void fuzzOne(byte[] input) throws Exception {
    EmbeddedEpmd e = epmd();
    long start = System.nanoTime();
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), e.port())) {
      s.setSoTimeout(5_000);
      s.getOutputStream().write(input);
      s.shutdownOutput();
      s.getInputStream().readNBytes(1 << 20);
    } catch (SocketTimeoutException hang) {
      throw new AssertionError("the embedded EPMD neither answered nor closed within 5 s", hang);
    } catch (IOException reset) {
      // A connection reset is a legitimate way to reject a request.
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    if (millis > 4_000) {
      throw new AssertionError("the embedded EPMD took " + millis + " ms over a half-closed request");
    }
    synchronized (UNEXPECTED) {
      if (UNEXPECTED.size() > 0) {
        String log = UNEXPECTED.toString(StandardCharsets.UTF_8);
        UNEXPECTED.reset();
        throw new AssertionError("the embedded EPMD failed with a runtime exception: " + log);
      }
    }
    if (!e.isOpen()) {
      throw new AssertionError("the embedded EPMD stopped");
    }
    if (inputs++ % 64 == 0) {
      // Cheap enough every 64 inputs: a NAMES round trip proves it still serves.
      new EpmdClient("127.0.0.1", e.port(), 5_000).names();
    }
  }
}
