package io.ei4j.samples;

import static io.ei4j.samples.ErlangSide.ask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.epmd.EpmdClient;
import io.ei4j.epmd.NodeInfo;
import io.ei4j.testkit.ErlangPeer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Quick start, as a new user runs it: its first command line, taken from
 * README.md, with a HOME without {@code .erlang.cookie}, then {@code erl -sname} calling
 * the server as the README shows. Both machines a newcomer may have: one where no EPMD
 * runs (the server starts an embedded one, which takes the Erlang node's registration and
 * answers its lookup) and one where a real {@code epmd} already runs (the server publishes
 * itself there and leaves it running when it stops).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ReadmeQuickStartIT {
  @TempDir Path home;

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** The words of the Quick start's command after the build: java -jar JAR ARGS... */
  static List<String> quickStartCommand() throws IOException {
    String readme = Files.readString(SampleProcess.repoRoot().resolve("README.md"));
    String prefix = "mvn -q -DskipTests package && ";
    String line = readme.lines().filter(l -> l.startsWith(prefix)).findFirst()
        .orElseThrow(() -> new AssertionError("README.md has no line starting with '" + prefix + "'"));
    return Arrays.asList(line.substring(prefix.length()).trim().split("\\s+"));
  }

  @Test
  void onAMachineWithoutEpmdTheServerStartsAnEmbeddedOneThatErlUses() throws Exception {
    runQuickStart(freePort(), false);
  }

  @Test
  void onAMachineWhereEpmdRunsTheServerPublishesItselfThere() throws Exception {
    int epmdPort = freePort();
    Process epmd = new ProcessBuilder(ErlangPeer.executable("epmd").toString(), "-port", Integer.toString(epmdPort))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try {
      awaitListening(epmdPort, epmd);
      runQuickStart(epmdPort, true);
      assertTrue(epmd.isAlive(), "the server stopped the machine's epmd");
      // epmd drops a name when it sees the registration socket close, which may take a moment.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      List<NodeInfo> names = new EpmdClient("localhost", epmdPort, 2_000).names();
      while (names.stream().anyMatch(n -> n.name().equals("c1")) && System.nanoTime() < deadline) {
        Thread.sleep(50);
        names = new EpmdClient("localhost", epmdPort, 2_000).names();
      }
      assertTrue(names.stream().noneMatch(n -> n.name().equals("c1")), "c1 still published: " + names);
    } finally {
      epmd.destroy();
      epmd.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static void awaitListening(int port, Process epmd) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!epmd.isAlive()) {
        throw new AssertionError("epmd -port " + port + " exited with " + epmd.exitValue());
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    throw new AssertionError("epmd -port " + port + " does not listen after 10 s");
  }

  private void runQuickStart(int epmdPort, boolean epmdRuns) throws Exception {
    List<String> words = quickStartCommand();
    assertEquals(List.of("java", "-jar"), words.subList(0, 2));
    assertEquals(SampleProcess.jar().toRealPath(), SampleProcess.repoRoot().resolve(words.get(2)).toRealPath());
    List<String> args = words.subList(3, words.size());
    assertEquals(List.of("cnode-server", "--epmd", "auto"), args);

    Path cookieFile = home.resolve(".erlang.cookie");
    try (SampleProcess server = SampleProcess.builder(args.toArray(String[]::new))
        .env("HOME", home.toString())
        .env("ERL_EPMD_PORT", Integer.toString(epmdPort))
        .workDir(SampleProcess.repoRoot())
        .start()) {
      String node = server.awaitReady();
      assertEquals("c1@" + ErlangPeer.shortHostName(), node);
      server.awaitErr("created " + cookieFile + " with a random cookie", Duration.ofSeconds(1));
      if (epmdRuns) {
        assertFalse(server.errText().contains("embedded EPMD"), server.errText());
      } else {
        server.awaitErr("started an embedded EPMD on port " + epmdPort, Duration.ofSeconds(1));
      }
      assertEquals(Set.of(PosixFilePermission.OWNER_READ), Files.getPosixFilePermissions(cookieFile));
      assertTrue(Files.readString(cookieFile).matches("[A-Z]{20}"), "cookie file content");

      // erl as the same user: it reads the cookie the server created, and registers with,
      // and looks c1 up in, the EPMD on the port.
      String alive = ErlangPeer.uniqueName("e1");
      try (ErlangPeer erl = ErlangPeer.builder()
          .env("HOME", home.toString())
          .env("ERL_EPMD_PORT", Integer.toString(epmdPort))
          .env("ERL_CRASH_DUMP_SECONDS", "0")
          .codePath(ErlangSide.ebin())
          .eval("{ok, _} = net_kernel:start([" + alive + ", shortnames]), samples_peer:start()")
          .readyLine("^ready ")
          .start()) {
        assertEquals("reply {cnode,4}", ask(erl, "call " + node + " cnode foo 3", "^reply .*"));
        assertEquals("reply {cnode,10}", ask(erl, "call " + node + " cnode bar 5", "^reply .*"));
        assertTrue(ask(erl, "hidden", "^hidden .*").contains(node));
        List<NodeInfo> names = new EpmdClient("localhost", epmdPort, 2_000).names();
        assertTrue(names.stream().anyMatch(n -> n.name().equals("c1")), names.toString());
        assertTrue(names.stream().anyMatch(n -> n.name().equals(alive)), names.toString());
      }

      // Ctrl-C: the server stops, and an EPMD it started stops with it.
      server.signal("INT");
      server.awaitExit(Duration.ofSeconds(30));
      server.awaitErr("stopped", Duration.ofSeconds(1));
      if (!epmdRuns) {
        assertThrows(IOException.class, () -> {
          try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", epmdPort), 1_000);
          }
        }, "the embedded EPMD still listens after the server stopped");
      }
      assertTrue(Files.exists(cookieFile), "the cookie file is the user's and stays");
    }
  }
}
