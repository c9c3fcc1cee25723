package io.ei4j.samples;

import static io.ei4j.samples.ErlangSide.ask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.testkit.ErlangPeer;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library's module descriptors, for real: the samples run as module
 * {@code io.ei4j.samples} from the module path ({@code java --module-path ... --module
 * io.ei4j.samples/io.ei4j.samples.Main}), over each transport, against real Erlang nodes,
 * so that a missing {@code requires}, {@code uses}, {@code provides} or export fails here,
 * where the other tests, on the class path, cannot see it. And the built jars' descriptors
 * say what core exports.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ModulePathIT {
  private static final String COOKIE = "samples_modules_cookie";

  @TempDir Path dir;

  @BeforeAll
  static void epmd() {
    ErlangPeer.ensureEpmd();
  }

  @Test
  void coreExportsItsFourPackagesAndItsInternalOnesOnlyToTheSamples() {
    ModuleFinder finder = ModuleFinder.of(SampleProcess.modulePath().toArray(Path[]::new));
    ModuleDescriptor core = descriptor(finder, "io.ei4j.core");
    Map<String, Set<String>> exports = new TreeMap<>();
    for (ModuleDescriptor.Exports e : core.exports()) {
      exports.put(e.source(), e.targets());
    }
    assertEquals(Map.of(
        "io.ei4j.term", Set.of(),
        "io.ei4j.connect", Set.of(),
        "io.ei4j.epmd", Set.of(),
        "io.ei4j.node", Set.of(),
        "io.ei4j.internal.dist", Set.of("io.ei4j.samples"),
        "io.ei4j.internal.node", Set.of("io.ei4j.samples")), exports);
    assertTrue(core.packages().containsAll(exports.keySet()), core.packages().toString());
    assertTrue(core.opens().isEmpty(), core.opens().toString());
    assertTrue(core.uses().contains("io.ei4j.api.FdPoller"), core.uses().toString());
    assertTrue(core.requires().stream().anyMatch(r -> r.name().equals("io.ei4j.api")
        && r.modifiers().contains(ModuleDescriptor.Requires.Modifier.TRANSITIVE)), core.requires().toString());

    // Every ei4j jar is an explicit module, and none exports an internal package to all.
    for (String name : List.of("io.ei4j.api", "io.ei4j.core", "io.ei4j.transport.tcp", "io.ei4j.transport.tls",
        "io.ei4j.transport.unix", "io.ei4j.samples")) {
      ModuleDescriptor d = descriptor(finder, name);
      assertFalse(d.isAutomatic(), name + " has no module-info");
      for (ModuleDescriptor.Exports e : d.exports()) {
        assertFalse(e.source().contains(".internal") && !e.isQualified(), name + " exports " + e.source() + " to all");
      }
    }
    assertTrue(descriptor(finder, "io.ei4j.samples").exports().isEmpty());
    assertEquals(Set.of("io.ei4j.transport.unix.UnixFdPoller"),
        descriptor(finder, "io.ei4j.transport.unix").provides().stream()
            .filter(p -> p.service().equals("io.ei4j.api.FdPoller"))
            .flatMap(p -> p.providers().stream()).collect(Collectors.toSet()));
  }

  private static ModuleDescriptor descriptor(ModuleFinder finder, String name) {
    return finder.find(name).map(ModuleReference::descriptor)
        .orElseThrow(() -> new AssertionError("no module " + name + " on " + SampleProcess.modulePath()));
  }

  @Test
  void cnodeServerServesErlangOverTcpFromTheModulePath() throws Exception {
    String alive = ErlangPeer.uniqueName("cmod");
    try (SampleProcess server = SampleProcess.builder("cnode-server", "--name", alive, "--cookie", COOKIE,
            "--epmd", "external").onModulePath().start();
        ErlangPeer erl = ErlangSide.peer(ErlangPeer.uniqueName("emod"), COOKIE).start()) {
      String node = server.awaitReady();
      assertEquals("reply {cnode,4}", ask(erl, "call " + node + " cnode foo 3", "^reply .*"));
      assertEquals("reply {cnode,10}", ask(erl, "call " + node + " cnode bar 5", "^reply .*"));
      // A spawn request (erpc) and rex (rpc:block_call).
      assertEquals("result 4", ask(erl, "eval erpc:call('" + node + "', cnode, foo, [3])", "^result .*"));
      assertEquals("result 10", ask(erl, "eval rpc:block_call('" + node + "', cnode, bar, [5])", "^result .*"));

      SampleProcess rpc = SampleProcess.builder("rpc", "--peer", erl.alive(), "--cookie", COOKIE,
          "lists", "reverse", "[[1,2,3]]").onModulePath().start();
      assertEquals(0, rpc.awaitExit(Duration.ofSeconds(60)), rpc.errText());
      assertEquals(List.of("[3,2,1]"), rpc.out());

      server.terminate();
      server.awaitExit(Duration.ofSeconds(30));
      server.awaitErr("stopped", Duration.ofSeconds(1));
    }
  }

  @Test
  void rpcOverTlsFromTheModulePath() throws Exception {
    TestCertificates pki = TestCertificates.create(dir);
    Path optfile = Files.writeString(dir.resolve("dist.conf"), TlsSamplesIT.readmeOptfile(dir));
    try (ErlangPeer erl = ErlangSide.peer(ErlangPeer.uniqueName("emtls"), COOKIE)
        .args("-proto_dist", "inet_tls", "-ssl_dist_optfile", optfile.toString())
        .workDir(dir)
        .start()) {
      List<String> args = new ArrayList<>(List.of("rpc", "--peer", erl.alive(), "--cookie", COOKIE,
          "erlang", "node", "[]"));
      args.addAll(pki.options());
      SampleProcess rpc = SampleProcess.builder(args.toArray(String[]::new)).onModulePath().start();
      assertEquals(0, rpc.awaitExit(Duration.ofSeconds(60)), rpc.errText());
      assertEquals(List.of(erl.nodeName()), rpc.out());
    }
  }

  @Test
  void cnodeServerServesErlangOverUnixSocketsFromTheModulePath() throws Exception {
    String serverAlive = ErlangPeer.uniqueName("cmuds");
    Path socket = dir.resolve(serverAlive);
    try (ErlangPeer erl = ErlangSide.peer(ErlangPeer.uniqueName("emuds") + "@localhost", COOKIE)
            .codePath(UnixSamplesIT.udsEbin())
            .workDir(dir)
            .args("-proto_dist", "erl_uds", "-no_epmd")
            .start();
        SampleProcess server = SampleProcess.builder("cnode-server", "--transport", "unix",
            "--name", serverAlive + "@localhost", "--socket-dir", dir.toString(), "--cookie", COOKIE)
            .onModulePath().start()) {
      String node = server.awaitReady();
      assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "no socket file " + socket);
      assertEquals("reply {cnode,4}", ask(erl, "call " + node + " cnode foo 3", "^reply .*"));
      // --enable-native-access=com.sun.jna lets JNA in without JDK 24+'s restricted-method warning.
      assertFalse(server.errText().contains("WARNING"), server.errText());
    }
  }
}
