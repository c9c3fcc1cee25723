package io.ei4j.epmd;

import static io.ei4j.epmd.EpmdClientInteropTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.testkit.ErlangPeer;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link EmbeddedEpmd} serving real Erlang nodes and the real {@code epmd} command-line
 * client.
 */
class EmbeddedEpmdInteropTest {
  private EmbeddedEpmd epmd;
  private EpmdClient client;

  @BeforeEach
  void start() throws IOException {
    epmd = EmbeddedEpmd.start(InetAddress.getLoopbackAddress(), 0);
    client = new EpmdClient("localhost", epmd.port(), 3_000);
  }

  @AfterEach
  void stop() {
    epmd.close();
  }

  private ErlangPeer.Builder node(String fullName) {
    return ErlangPeer.builder()
        .name(fullName)
        .cookie("embedded_epmd")
        .env("ERL_EPMD_PORT", Integer.toString(epmd.port()));
  }

  @Test
  void erlangNodeRegistersAndIsFoundByJavaAndByEpmdNames() throws Exception {
    // An -sname node, as users start them: it registers through 127.0.0.1 whatever its
    // host name resolves to.
    String alive = ErlangPeer.uniqueName("emb");
    int distPort = RealEpmd.freePort();
    ErlangPeer erl = ErlangPeer.builder()
        .sname(alive)
        .cookie("embedded_epmd")
        .env("ERL_EPMD_PORT", Integer.toString(epmd.port()))
        .args("-kernel", "inet_dist_listen_min", Integer.toString(distPort),
            "inet_dist_listen_max", Integer.toString(distPort))
        .eval("io:format(\"ready ~p~n\", [node()])")
        .readyLine("^ready")
        .start();
    try {
      NodeInfo info = client.portPlease(alive).orElseThrow();
      assertEquals(new NodeInfo(alive, distPort, NodeInfo.NODE_TYPE_NORMAL, 0, 6, 5, null),
          info);
      assertTrue(epmd.registered().contains(info), epmd.registered().toString());
      assertTrue(client.names().contains(NodeInfo.nameAndPort(alive, distPort)));

      // The real epmd binary, as a client, reads our NAMES answer.
      String names = epmdCli("-names");
      assertTrue(names.contains("epmd: up and running on port " + epmd.port()), names);
      assertTrue(names.contains("name " + alive + " at port " + distPort), names);
    } finally {
      erl.close();
    }
    // The node died: its registration went with its socket.
    awaitTrue(() -> client.portPlease(alive).isEmpty(), "registration outlived the node");
    assertEquals(List.of(), epmd.registered());
  }

  @Test
  void twoErlangNodesFindEachOtherThroughTheEmbeddedEpmd() throws Exception {
    String b = ErlangPeer.uniqueName("embb") + "@127.0.0.1";
    String a = ErlangPeer.uniqueName("emba") + "@127.0.0.1";
    try (ErlangPeer nodeB = node(b).eval("io:format(\"ready~n\")").readyLine("^ready").start();
        ErlangPeer nodeA = node(a)
            .eval("io:format(\"ping ~p~n\", [net_adm:ping('" + b + "')]),"
                + "io:format(\"names ~p~n\", [lists:sort(element(2, net_adm:names()))])")
            .readyLine("^names")
            .start()) {
      assertTrue(nodeA.output().contains("ping pong"), nodeA.output().toString());
      assertTrue(nodeB.isAlive());
      assertEquals(2, epmd.registered().size(), epmd.registered().toString());
    }
  }

  @Test
  void javaRegistrationIsFoundByErlang() throws Exception {
    String javaAlive = ErlangPeer.uniqueName("jemb");
    try (EpmdRegistration reg = client.register(javaAlive, 40_123, true)) {
      ErlangPeer erl = node(ErlangPeer.uniqueName("eemb") + "@127.0.0.1")
          .eval("io:format(\"pp ~p~n\", [erl_epmd:port_please(\"" + javaAlive
              + "\", {127,0,0,1})])")
          .readyLine("^pp ")
          .start();
      try {
        assertTrue(erl.output().contains("pp {port,40123,6}"), erl.output().toString());
        assertTrue(reg.isActive());
      } finally {
        erl.close();
      }
    }
  }

  @Test
  void epmdKillIsRefused() throws Exception {
    try (EpmdRegistration reg = client.register(ErlangPeer.uniqueName("kill"), 1, true)) {
      String out = epmdCliAnyExit("-kill");
      assertTrue(out.contains("not allowed"), out);
      assertTrue(epmd.isOpen());
      assertTrue(reg.isActive());
    }
  }

  private String epmdCli(String... args) {
    return ErlangPeer.run(epmdCommand(args));
  }

  /** Runs the epmd client and returns its output, whatever its exit status. */
  private String epmdCliAnyExit(String... args) throws Exception {
    Process p = new ProcessBuilder(epmdCommand(args)).redirectErrorStream(true).start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "epmd client hung");
    return new String(out, StandardCharsets.UTF_8);
  }

  private List<String> epmdCommand(String... args) {
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add(ErlangPeer.executable("epmd").toString());
    cmd.add("-port");
    cmd.add(Integer.toString(epmd.port()));
    cmd.addAll(List.of(args));
    return cmd;
  }
}
