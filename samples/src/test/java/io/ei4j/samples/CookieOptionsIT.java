package io.ei4j.samples;

import static io.ei4j.samples.ErlangSide.ask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.testkit.ErlangPeer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The safe ways to give the samples a cookie ({@code --cookie-file}, {@code $EI4J_COOKIE})
 * keep it off the command line and work against a real {@code erl}; unsafe cookie files are
 * refused as {@code erl} refuses them; and failed handshakes from strangers are logged as
 * one line each per address and minute plus a count, never the cookie.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CookieOptionsIT {
  @TempDir Path dir;

  private final String secret = "cookie_" + Long.toHexString(new SecureRandom().nextLong());

  @BeforeAll
  static void epmd() {
    ErlangPeer.ensureEpmd();
  }

  private Path cookieFile(String mode) throws IOException {
    Path f = dir.resolve("cookie-" + mode.replace('-', '_'));
    Files.writeString(f, secret + "\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
    return f;
  }

  /** The command line of a running process as the kernel shows it to every user (ps). */
  private static String commandLine(long pid) throws IOException {
    return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8)
        .replace('\0', ' ');
  }

  @Test
  void cookieFileAndEnvironmentReachErlWithoutTheCookieInPs() throws Exception {
    Path file = cookieFile("rw-------");
    try (SampleProcess fromFile = SampleProcess.start("cnode-server", "--name", ErlangPeer.uniqueName("cf"),
        "--cookie-file", file.toString(), "--epmd", "external");
        SampleProcess fromEnv = SampleProcess.builder("echo-server", "--name", ErlangPeer.uniqueName("ce"),
            "--epmd", "external").env(NodeOptions.COOKIE_ENV, secret).start()) {
      String cnode = fromFile.awaitReady();
      String echo = fromEnv.awaitReady();
      assertFalse(commandLine(fromFile.pid()).contains(secret));
      assertFalse(commandLine(fromEnv.pid()).contains(secret));
      // The environment is for the process's own user (and root) only.
      assertEquals("r--------", PosixFilePermissions.toString(
          Files.getPosixFilePermissions(Path.of("/proc", Long.toString(fromEnv.pid()), "environ"))));
      try (ErlangPeer erl = ErlangSide.peer(ErlangPeer.uniqueName("eck"), secret).start()) {
        assertEquals("reply {cnode,8}", ask(erl, "call " + cnode + " cnode foo 7", "^reply .*"));
        assertTrue(ask(erl, "echo " + echo + " {x, \"y\"}", "^echo .*").startsWith("echo true"));
        SampleProcess rpc = SampleProcess.run("rpc", "--peer", erl.alive(), "--cookie-file", file.toString(),
            "erlang", "node", "[]");
        assertEquals(0, rpc.exitValue(), rpc.errText());
        assertEquals(erl.nodeName(), rpc.outText());
      }
      assertFalse(fromFile.errText().contains(secret) || fromEnv.errText().contains(secret));
    }
  }

  @Test
  void unsafeOrMissingCookieFilesAndConflictingOptionsAreRefused() throws Exception {
    Path readable = cookieFile("rw-r-----");
    SampleProcess grouped = SampleProcess.run("cnode-server", "--cookie-file", readable.toString(), "--epmd", "none");
    assertEquals(1, grouped.exitValue(), grouped.errText());
    assertTrue(grouped.errText().contains("owner only"), grouped.errText());
    assertFalse(grouped.errText().contains(secret) || grouped.outText().contains(secret));

    SampleProcess missing = SampleProcess.run("rpc", "--peer", "x", "--cookie-file", dir.resolve("nope").toString(),
        "erlang", "node", "[]");
    assertEquals(1, missing.exitValue(), missing.errText());
    assertTrue(missing.errText().contains("--cookie-file " + dir.resolve("nope") + ": no such file"),
        missing.errText());

    SampleProcess both = SampleProcess.run("cnode-server", "--cookie", "a", "--cookie-file", readable.toString());
    assertEquals(2, both.exitValue(), both.errText());
    assertTrue(both.errText().contains("--cookie and --cookie-file exclude each other"), both.errText());

    SampleProcess empty = SampleProcess.builder("cnode-server", "--epmd", "none").env(NodeOptions.COOKIE_ENV, "")
        .start();
    assertEquals(2, empty.awaitExit(Duration.ofSeconds(60)), empty.errText());
    assertTrue(empty.errText().contains("$EI4J_COOKIE is set but empty"), empty.errText());
  }

  @Test
  void failedHandshakesAreLoggedOncePerAddressAndSummedUp() throws Exception {
    int port = ReadmeQuickStartIT.freePort();
    try (SampleProcess server = SampleProcess.start("cnode-server", "--name", ErlangPeer.uniqueName("noisy"),
        "--cookie", secret, "--epmd", "external", "--port", Integer.toString(port))) {
      String node = server.awaitReady();
      // 200 strangers that speak something else: "GE" is a length far over the 2 KiB cap.
      for (int i = 0; i < 200; i++) {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
          s.setSoTimeout(10_000);
          try {
            OutputStream out = s.getOutputStream();
            out.write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            while (in.read() >= 0) {
              // until the server closes
            }
          } catch (SocketException reset) {
            // the server closed with our bytes unread: a reset, as expected
          }
        }
      }
      // 20 Erlang handshakes with the wrong cookie.
      try (ErlangPeer erl = ErlangSide.peer(ErlangPeer.uniqueName("ewrong"), "not_" + secret).start()) {
        String pings = ask(erl, "eval [net_adm:ping('" + node + "') || _ <- lists:seq(1, 20)]", "^result .*");
        assertFalse(pings.contains("pong"), pings);
      }
      server.awaitErr("refused a handshake from ", Duration.ofSeconds(10));
      server.terminate();
      server.awaitExit(Duration.ofSeconds(20));
      String err = server.errText();
      assertEquals(1, count(err, "dropped a failed handshake from 127.0.0.1: "), err);
      assertTrue(err.contains("dropped 200 failed handshakes from 127.0.0.1 in the last "), err);
      assertEquals(1, count(err, "refused a handshake from "), err);
      assertTrue(err.matches("(?s).*refused 20 handshakes from \\S+ in the last \\d+ s.*"), err);
      assertTrue(err.lines().filter(l -> l.contains("handshake")).count() <= 4, err);
      assertFalse(err.contains(secret), "the cookie is never logged");
    }
  }

  private static int count(String text, String needle) {
    int n = 0;
    for (int at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
      n++;
    }
    return n;
  }
}
