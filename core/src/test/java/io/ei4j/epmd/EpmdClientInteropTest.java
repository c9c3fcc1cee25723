package io.ei4j.epmd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.testkit.ErlangPeer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link EpmdClient} against a real {@code epmd} (on a private port) and real Erlang
 * nodes registered with it.
 */
class EpmdClientInteropTest {
  private static RealEpmd epmd;

  @BeforeAll
  static void startEpmd() {
    epmd = RealEpmd.start();
  }

  @AfterAll
  static void stopEpmd() {
    if (epmd != null) {
      epmd.close();
    }
  }

  @Test
  void registrationIsListedByEpmdAndReleasedOnClose() throws Exception {
    EpmdClient client = epmd.client();
    String alive = ErlangPeer.uniqueName("jreg");
    try (EpmdRegistration reg = client.register(alive, 40_001, true)) {
      assertTrue(reg.isActive());
      assertEquals(alive, reg.alive());
      assertEquals(40_001, reg.port());
      // OTP 23+ epmd answers a version-6 registration with a 32-bit creation >= 4.
      assertTrue(Integer.toUnsignedLong(reg.creation()) >= 4, "creation " + reg.creation());
      assertTrue(epmd.cli("-names").contains("name " + alive + " at port 40001"),
          epmd.cli("-names"));

      NodeInfo info = client.portPlease(alive).orElseThrow();
      assertEquals(
          new NodeInfo(alive, 40_001, NodeInfo.NODE_TYPE_HIDDEN, 0, 6, 5, new byte[0]), info);
      assertTrue(info.isHidden());
    }
    awaitTrue(() -> !epmd.cli("-names").contains(alive), "epmd still lists " + alive);
    assertEquals(Optional.empty(), client.portPlease(alive));
  }

  @Test
  void creationComesFromEpmdAndCountsUpOnReRegistration() throws Exception {
    EpmdClient client = epmd.client();
    String alive = ErlangPeer.uniqueName("jcre");
    int first;
    try (EpmdRegistration reg = client.register(alive, 40_002, false)) {
      first = reg.creation();
      assertFalse(client.portPlease(alive).orElseThrow().isHidden());
    }
    awaitTrue(() -> client.portPlease(alive).isEmpty(), "not unregistered");
    try (EpmdRegistration reg = client.register(alive, 40_002, false)) {
      // epmd remembers released names and hands out the next creation.
      assertEquals(first + 1, reg.creation());
    }
  }

  @Test
  void takenNameIsRefusedWithTheResultCode() throws Exception {
    EpmdClient client = epmd.client();
    String alive = ErlangPeer.uniqueName("jdup");
    try (EpmdRegistration reg = client.register(alive, 40_003, true)) {
      EpmdException e =
          assertThrows(EpmdException.class, () -> client.register(alive, 40_004, true));
      assertEquals(EpmdException.Reason.REGISTRATION_REFUSED, e.reason());
      assertEquals(1, e.resultCode());
      assertTrue(e.getMessage().contains(alive) && e.getMessage().contains("result 1"),
          e.getMessage());
      assertTrue(reg.isActive());
      assertEquals(40_003, client.portPlease(alive).orElseThrow().port());
    }
  }

  @Test
  void javaAndErlangFindEachOtherThroughEpmd() throws Exception {
    EpmdClient client = epmd.client();
    String javaAlive = ErlangPeer.uniqueName("jpeer");
    String erlAlive = ErlangPeer.uniqueName("epeer");
    int distPort = RealEpmd.freePort();
    try (EpmdRegistration reg = client.register(javaAlive, 40_005, true)) {
      ErlangPeer erl = ErlangPeer.builder()
          .sname(erlAlive)
          .cookie("epmdtest")
          .env("ERL_EPMD_PORT", Integer.toString(epmd.port()))
          .args("-kernel", "inet_dist_listen_min", Integer.toString(distPort),
              "inet_dist_listen_max", Integer.toString(distPort))
          .eval("io:format(\"pp ~p~n\", [erl_epmd:port_please(\"" + javaAlive
              + "\", {127,0,0,1})]), io:format(\"ready~n\")")
          .readyLine("^ready")
          .start();
      try {
        // Erlang finds the Java registration ...
        assertTrue(erl.output().contains("pp {port,40005,6}"), erl.output().toString());

        // ... and Java finds Erlang's, with the fields erl registered.
        NodeInfo info = client.portPlease(erlAlive).orElseThrow();
        assertEquals(erlAlive, info.name());
        assertEquals(distPort, info.port());
        assertEquals(NodeInfo.NODE_TYPE_NORMAL, info.nodeType());
        assertEquals(NodeInfo.PROTOCOL_TCP_IPV4, info.protocol());
        assertEquals(6, info.highestVersion());
        assertEquals(5, info.lowestVersion());

        List<NodeInfo> names = client.names();
        assertTrue(names.contains(NodeInfo.nameAndPort(erlAlive, distPort)), names.toString());
        assertTrue(names.contains(NodeInfo.nameAndPort(javaAlive, 40_005)), names.toString());
        assertTrue(reg.isActive());
      } finally {
        erl.close();
      }
      awaitTrue(() -> client.portPlease(erlAlive).isEmpty(), "erl's name outlived erl");
    }
  }

  @Test
  void registrationNoticesWhenEpmdGoesAway() throws Exception {
    RealEpmd own = RealEpmd.start();
    try (EpmdRegistration reg =
        own.client().register(ErlangPeer.uniqueName("jgone"), 40_006, true)) {
      assertTrue(reg.isActive());
      own.close();
      awaitTrue(() -> !reg.isActive(), "registration still active after epmd died");
    } finally {
      own.close();
    }
  }

  @Test
  void unknownNameIsEmpty() throws Exception {
    assertEquals(Optional.empty(), epmd.client().portPlease(ErlangPeer.uniqueName("nobody")));
  }

  @Test
  void epmdNotRunningIsAQuickTypedError() {
    EpmdClient client = new EpmdClient("localhost", RealEpmd.freePort(), 5_000);
    long start = System.nanoTime();
    EpmdException e = assertThrows(EpmdException.class, () -> client.portPlease("x"));
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertEquals(EpmdException.Reason.UNREACHABLE, e.reason());
    assertTrue(millis < 1_000, "took " + millis + " ms");
    assertThrows(EpmdException.class, client::names);
    EpmdException r = assertThrows(EpmdException.class, () -> client.register("x", 1, true));
    assertNotEquals(EpmdException.Reason.REGISTRATION_REFUSED, r.reason());
  }

  interface Check {
    boolean test() throws Exception;
  }

  /** Polls {@code check} for up to 5 s: epmd notices a closed socket asynchronously. */
  static void awaitTrue(Check check, String message) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!check.test()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(message);
      }
      RealEpmd.sleep(20);
    }
  }
}
