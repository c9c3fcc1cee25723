package io.ei4j.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.testkit.ErlangPeer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mistakes of a first hour, each answered with a line that says what to do: a plain
 * TCP client to a TLS node, a taken port, a missing home directory, a node name Erlang
 * rejects, and a wrong command line (one line and a pointer to {@code --help}, not the
 * whole usage).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DiagnosticsIT {
  private static final String COOKIE = "samples_diagnostics";

  @TempDir Path dir;

  @Test
  void aTcpClientToATlsNodeIsToldToUseTls() throws Exception {
    TestCertificates.create(dir);
    Path optfile = Files.writeString(dir.resolve("dist.conf"), TlsSamplesIT.readmeOptfile(dir));
    try (ErlangPeer erl = ErlangSide.peer(ErlangPeer.uniqueName("etlsdiag"), COOKIE)
        .args("-proto_dist", "inet_tls", "-ssl_dist_optfile", optfile.toString())
        .workDir(dir)
        .start()) {
      SampleProcess rpc = SampleProcess.run("rpc", "--peer", erl.alive(), "--cookie", COOKIE, "erlang", "node", "[]");
      assertEquals(1, rpc.exitValue(), rpc.errText());
      assertTrue(rpc.errText().contains("the peer answers with TLS") && rpc.errText().contains("use --transport tls"),
          rpc.errText());
    }
  }

  @Test
  void aTakenPortGetsAHint() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 0));
      SampleProcess p = SampleProcess.run("cnode-server", "--cookie", COOKIE, "--epmd", "none",
          "--port", Integer.toString(taken.getLocalPort()));
      assertEquals(1, p.exitValue(), p.errText());
      assertTrue(p.errText().contains("port " + taken.getLocalPort() + ": it is taken")
          && p.errText().contains("choose another --port"), p.errText());
      assertEquals("", p.outText());
    }
  }

  @Test
  void aMissingHomeDirectoryIsNamedAsSuch() {
    Path home = dir.resolve("no-such-home");
    SampleProcess p = SampleProcess.builder("cnode-server", "--epmd", "none").env("HOME", home.toString()).start();
    assertEquals(1, p.awaitExit(java.time.Duration.ofSeconds(30)), p.errText());
    assertTrue(p.errText().contains("directory " + home + " does not exist"), p.errText());
  }

  @Test
  void aNodeNameErlangRejectsIsAUsageErrorThatStatesTheRule() {
    for (String name : List.of("bad name", "x.y", "x/y")) {
      SampleProcess p = SampleProcess.run("cnode-server", "--name", name, "--cookie", COOKIE, "--epmd", "none");
      assertEquals(2, p.exitValue(), p.errText());
      assertEquals(List.of(
          "cnode-server: --name: invalid node name '" + name + "@" + ErlangPeer.shortHostName() + "' has "
              + (name.contains(" ") ? "a space" : "'" + name.charAt(1) + "'") + " in its ALIVE part; a node name is ALIVE@HOST: "
              + "ALIVE is one or more of the letters A-Z and a-z, the digits 0-9, _ and -; HOST is not empty and has no "
              + "further @; at most 255 characters in all",
          "see java -jar ei4j-samples.jar cnode-server --help"), p.errText().lines().toList());
    }
  }

  @Test
  void aWrongCommandLineIsOneLineAndAPointerToHelp() {
    SampleProcess p = SampleProcess.run("rpc", "--peer", "e1", "--timeout", "soon", "erlang", "node", "[]");
    assertEquals(2, p.exitValue());
    assertEquals(List.of("rpc: --timeout must be an integer in 1..2147483647, got 'soon'",
        "see java -jar ei4j-samples.jar rpc --help"), p.errText().lines().toList());
    SampleProcess unknown = SampleProcess.run("serve");
    assertEquals(2, unknown.exitValue());
    assertEquals(List.of("unknown command 'serve'", "see java -jar ei4j-samples.jar --help"), unknown.errText().lines().toList());
  }

  @Test
  void allowUidIsCheckedAndOnlyForAfUnix() {
    SampleProcess bad = SampleProcess.run("cnode-server", "--transport", "unix", "--allow-uid", "root");
    assertEquals(2, bad.exitValue(), bad.errText());
    assertEquals(List.of("cnode-server: --allow-uid takes uids separated by commas, or any; got root",
        "see java -jar ei4j-samples.jar cnode-server --help"), bad.errText().lines().toList());
    SampleProcess tcp = SampleProcess.run("cnode-server", "--allow-uid", "65534");
    assertEquals(2, tcp.exitValue(), tcp.errText());
    assertEquals(List.of("cnode-server: --allow-uid applies to --transport unix only",
        "see java -jar ei4j-samples.jar cnode-server --help"), tcp.errText().lines().toList());
  }
}
