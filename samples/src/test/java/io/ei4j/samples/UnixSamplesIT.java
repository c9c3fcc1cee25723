package io.ei4j.samples;

import static io.ei4j.samples.ErlangSide.ask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.unix.UnixSocketAddress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The samples over AF_UNIX against Erlang nodes running OTP's {@code erl_uds_dist}
 * example (compiled here from the installed sources): {@code erl -proto_dist erl_uds
 * -no_epmd -sname NAME@localhost}, started in the directory that holds the socket files.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class UnixSamplesIT {
  private static final String COOKIE = "samples_uds_cookie";
  private static Path udsEbin;

  @TempDir Path work;

  /**
   * {@code erl_uds_dist} compiled by the README's own command line (run with {@code sh} in a
   * fresh directory), so that the README's AF_UNIX setup is the one tested.
   */
  static synchronized Path udsEbin() {
    if (udsEbin == null) {
      try {
        String readme = Files.readString(SampleProcess.repoRoot().resolve("README.md"));
        String line = readme.lines().filter(l -> l.startsWith("$ mkdir -p ebin && erlc ")).findFirst()
            .orElseThrow(() -> new AssertionError("README.md has no '$ mkdir -p ebin && erlc' line"));
        Path dir = ErlangSide.deletedOnExit(Files.createTempDirectory("ei4j-samples-uds"));
        Process p = new ProcessBuilder("sh", "-c", line.substring(2)).directory(dir.toFile())
            .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0,
            "the README's erlc line failed (is erlang-examples installed?): " + output);
        udsEbin = dir.resolve("ebin");
        assertTrue(Files.isRegularFile(udsEbin.resolve("erl_uds_dist.beam")), "no erl_uds_dist.beam: " + output);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    return udsEbin;
  }

  @Test
  void cnodeServerRpcAndSendOverUnixSockets() throws Exception {
    String serverAlive = ErlangPeer.uniqueName("cuds");
    Path socket = work.resolve(serverAlive);
    // The README's Java AF_UNIX snippet names nodes as the samples and erl_uds_dist do.
    assertEquals(UnixSocketAddress.of(socket), ReadmeExamples.unix(work).addressOf(serverAlive + "@localhost"));
    try (ErlangPeer erl = ErlangSide.peer(ErlangPeer.uniqueName("euds") + "@localhost", COOKIE)
            .codePath(udsEbin())
            .workDir(work)
            .args("-proto_dist", "erl_uds", "-no_epmd")
            .start();
        SampleProcess server = SampleProcess.start("cnode-server", "--transport", "unix",
            "--name", serverAlive + "@localhost", "--socket-dir", work.toString(), "--cookie", COOKIE)) {
      String node = server.awaitReady();
      assertEquals(serverAlive + "@localhost", node);
      assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "no socket file " + socket);
      assertEquals("reply {cnode,4}", ask(erl, "call " + node + " cnode foo 3", "^reply .*"));
      assertEquals("reply {cnode,10}", ask(erl, "call " + node + " cnode bar 5", "^reply .*"));

      SampleProcess rpc = SampleProcess.run("rpc", "--transport", "unix", "--socket-dir", work.toString(),
          "--peer", erl.nodeName(), "--cookie", COOKIE, "lists", "seq", "[1, 4]");
      assertEquals(0, rpc.exitValue(), rpc.errText());
      // The jar's Enable-Native-Access lets JNA in without JDK 24+'s restricted-method warning.
      assertFalse(rpc.errText().contains("WARNING"), rpc.errText());
      assertEquals(List.of("[1,2,3,4]"), rpc.out());

      SampleProcess send = SampleProcess.run("send", "--transport", "unix", "--socket-dir", work.toString(),
          "--peer", erl.nodeName(), "--cookie", COOKIE, "inbox", "{over, uds}");
      assertEquals(0, send.exitValue(), send.errText());
      erl.awaitLine("^inbox \\{over,uds\\}$", Duration.ofSeconds(10));

      server.terminate();
      server.awaitExit(Duration.ofSeconds(30));
      assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "the socket file outlived the server");
    }
  }
}
