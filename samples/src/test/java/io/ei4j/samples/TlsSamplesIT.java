package io.ei4j.samples;

import static io.ei4j.samples.ErlangSide.ask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.testkit.ErlangPeer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The samples over TLS against {@code erl -proto_dist inet_tls -ssl_dist_optfile FILE}
 * with mutual verification, certificates made by the test; EPMD is the machine's real
 * one (plain TCP, as for Erlang).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TlsSamplesIT {
  private static final String COOKIE = "samples_tls_cookie";

  @TempDir Path dir;

  private static String[] args(TestCertificates pki, String... more) {
    List<String> all = new ArrayList<>(List.of(more));
    all.addAll(pki.options());
    return all.toArray(String[]::new);
  }

  /**
   * The README's ssl_dist_optfile, which must be what {@code tls-setup} writes, with its
   * {@code DIR} placeholder replaced by {@code dir}, where the test's certificates are.
   */
  static String readmeOptfile(Path dir) throws Exception {
    String readme = Files.readString(SampleProcess.repoRoot().resolve("README.md"));
    int start = readme.indexOf("[{server, [{certfile, \"DIR/node.pem\"}");
    assertTrue(start >= 0, "README.md has no ssl_dist_optfile example");
    String example = readme.substring(start, readme.indexOf("].\n", start) + 3);
    assertEquals(TlsSetup.optfile(Path.of("DIR/ca.pem"), Path.of("DIR/node.pem"), Path.of("DIR/node.key")), example,
        "the README's optfile is not what tls-setup writes");
    return example.replace("\"DIR/", "\"" + dir.toAbsolutePath() + "/");
  }

  @Test
  void cnodeServerRpcAndSendOverTls() throws Exception {
    TestCertificates pki = TestCertificates.create(dir);
    // The README's Java TLS snippet reads the same files.
    assertTrue(ReadmeExamples.tls(dir).config().verifyPeer());
    // The README's optfile, in the directory of the certificates, where erl runs.
    Path optfile = Files.writeString(dir.resolve("dist.conf"), readmeOptfile(dir));
    try (ErlangPeer erl = ErlangSide.peer(ErlangPeer.uniqueName("etls"), COOKIE)
            .args("-proto_dist", "inet_tls", "-ssl_dist_optfile", optfile.toString())
            .workDir(dir)
            .start();
        SampleProcess server = SampleProcess.start(args(pki, "cnode-server", "--name",
            ErlangPeer.uniqueName("ctls"), "--cookie", COOKIE, "--epmd", "external"))) {
      String node = server.awaitReady();
      assertEquals("reply {cnode,4}", ask(erl, "call " + node + " cnode foo 3", "^reply .*"));
      assertEquals("reply {cnode,10}", ask(erl, "call " + node + " cnode bar 5", "^reply .*"));

      SampleProcess rpc = SampleProcess.run(args(pki, "rpc", "--peer", erl.alive(), "--cookie", COOKIE,
          "erlang", "node", "[]"));
      assertEquals(0, rpc.exitValue(), rpc.errText());
      assertEquals(List.of(erl.nodeName()), rpc.out());
      // BouncyCastle's java.util.logging records go to slf4j at debug level, not to stderr.
      for (String err : List.of(rpc.errText(), server.errText())) {
        assertFalse(err.contains("WARNING") || err.contains("org.bouncycastle"), err);
      }

      SampleProcess send = SampleProcess.run(args(pki, "send", "--peer", erl.alive(), "--cookie", COOKIE,
          "inbox", "{over, tls}"));
      assertEquals(0, send.exitValue(), send.errText());
      erl.awaitLine("^inbox \\{over,tls\\}$", Duration.ofSeconds(10));

      // A client that does not trust the node's CA is refused by TLS, not by the cookie.
      SampleProcess untrusted = SampleProcess.run("rpc", "--peer", erl.alive(), "--cookie", COOKIE,
          "--transport", "tls", "--verify", "none", "erlang", "node", "[]");
      assertEquals(1, untrusted.exitValue());
      assertTrue(untrusted.out().isEmpty(), untrusted.outText());
    }
  }
}
