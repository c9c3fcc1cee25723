package io.ei4j.epmd;

import static io.ei4j.epmd.EpmdClientInteropTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.epmd.EpmdException.Reason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link EmbeddedEpmd} driven by {@link EpmdClient} and by raw sockets that send what a
 * buggy or hostile client would.
 */
class EmbeddedEpmdTest {
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  /** Long enough that "at once" and "after the timeout" stay apart on a loaded machine. */
  private static final Duration REQUEST_TIMEOUT = Duration.ofMillis(1_500);

  private EmbeddedEpmd epmd;
  private EpmdClient client;

  @BeforeEach
  void start() throws IOException {
    epmd = EmbeddedEpmd.builder()
        .bind(LOOPBACK)
        .port(0)
        .requestTimeout(REQUEST_TIMEOUT)
        .start();
    client = new EpmdClient(LOOPBACK.getHostAddress(), epmd.port(), 2_000);
  }

  @AfterEach
  void stop() {
    epmd.close();
  }

  @Test
  void registerLookUpListAndRelease() throws Exception {
    assertTrue(epmd.port() > 0);
    try (EpmdRegistration a = client.register("alpha", 5001, false);
        EpmdRegistration b = client.register("beta", 5002, true)) {
      assertTrue(Integer.toUnsignedLong(a.creation()) >= 4);
      assertEquals(new NodeInfo("beta", 5002, 72, 0, 6, 5, null),
          client.portPlease("beta").orElseThrow());
      assertEquals(new NodeInfo("alpha", 5001, 77, 0, 6, 5, null),
          client.portPlease("alpha").orElseThrow());
      // Newest first, as epmd lists them.
      assertEquals(List.of(NodeInfo.nameAndPort("beta", 5002),
          NodeInfo.nameAndPort("alpha", 5001)), client.names());
      assertEquals(List.of("beta", "alpha"),
          epmd.registered().stream().map(NodeInfo::name).toList());
      assertTrue(a.isActive() && b.isActive());
    }
    awaitTrue(() -> epmd.registered().isEmpty(), "registrations outlived their sockets");
    assertEquals(Optional.empty(), client.portPlease("alpha"));
    assertEquals(List.of(), client.names());
  }

  @Test
  void creationCountsUpForAReturningName() throws Exception {
    int first;
    try (EpmdRegistration r = client.register("again", 1, false)) {
      first = r.creation();
    }
    awaitTrue(() -> epmd.registered().isEmpty(), "not released");
    try (EpmdRegistration r = client.register("again", 1, false)) {
      assertEquals(first + 1, r.creation());
    }
  }

  @Test
  void takenNameIsRefusedAndTheFirstRegistrationStays() throws Exception {
    try (EpmdRegistration r = client.register("taken", 1, false)) {
      EpmdException e =
          assertThrows(EpmdException.class, () -> client.register("taken", 2, false));
      assertEquals(Reason.REGISTRATION_REFUSED, e.reason());
      assertEquals(1, e.resultCode());
      assertTrue(r.isActive());
      assertEquals(1, client.portPlease("taken").orElseThrow().port());
    }
  }

  @Test
  void oldStyleRegistrationGetsAShortCreation() throws Exception {
    try (Socket s = connect()) {
      byte[] name = "old".getBytes(StandardCharsets.US_ASCII);
      ByteBuffer req = ByteBuffer.allocate(2 + 13 + name.length);
      req.putShort((short) (13 + name.length)).put((byte) 'x').putShort((short) 7)
          .put((byte) 77).put((byte) 0).putShort((short) 5).putShort((short) 5)
          .putShort((short) name.length).put(name).putShort((short) 0);
      s.getOutputStream().write(req.array());
      byte[] reply = s.getInputStream().readNBytes(4);
      assertEquals('y', reply[0]);
      assertEquals(0, reply[1]);
      int creation = ((reply[2] & 0xFF) << 8) | (reply[3] & 0xFF);
      assertTrue(creation >= 1 && creation <= 3, "creation " + creation);
      assertEquals(5, client.portPlease("old").orElseThrow().highestVersion());
    }
  }

  @Test
  void registrationCarriesExtraDataAndEndsOnUnexpectedBytes() throws Exception {
    try (Socket s = connect()) {
      byte[] name = "xtra".getBytes(StandardCharsets.US_ASCII);
      ByteBuffer req = ByteBuffer.allocate(2 + 13 + name.length + 3);
      req.putShort((short) (13 + name.length + 3)).put((byte) 'x').putShort((short) 9)
          .put((byte) 72).put((byte) 0).putShort((short) 6).putShort((short) 5)
          .putShort((short) name.length).put(name).putShort((short) 3)
          .put(new byte[] {7, 8, 9});
      s.getOutputStream().write(req.array());
      assertEquals('v', s.getInputStream().readNBytes(6)[0]);
      assertArrayEquals(new byte[] {7, 8, 9}, client.portPlease("xtra").orElseThrow().extra());
      // epmd ends a registration whose socket sends anything.
      s.getOutputStream().write(1);
      awaitTrue(() -> client.portPlease("xtra").isEmpty(), "still registered");
      assertEquals(-1, s.getInputStream().read());
    }
  }

  @Test
  void forgedRequestLengthsAreRejectedWithoutAnAnswer() throws Exception {
    try (EpmdRegistration keep = client.register("bystander", 4242, false)) {
      // A length larger than any valid request.
      assertClosedWithoutAnswer(new byte[] {(byte) 0xFF, (byte) 0xFF, 'n'});
      // A zero length.
      assertClosedWithoutAnswer(new byte[] {0, 0});
      // ALIVE2_REQ whose name length points past the request.
      assertClosedWithoutAnswer(new byte[] {0, 14, 'x', 0, 1, 77, 0, 0, 6, 0, 5, 0x10, 0, 'a',
          0, 0});
      // ALIVE2_REQ whose extra length points past the request.
      assertClosedWithoutAnswer(new byte[] {0, 14, 'x', 0, 1, 77, 0, 0, 6, 0, 5, 0, 1, 'a',
          0x7F, 0});
      // ALIVE2_REQ too short to hold a name.
      assertClosedWithoutAnswer(new byte[] {0, 3, 'x', 0, 1});
      // PORT_PLEASE2_REQ without a name, and with a NUL inside the name.
      assertClosedWithoutAnswer(new byte[] {0, 1, 'z'});
      assertClosedWithoutAnswer(new byte[] {0, 4, 'z', 'a', 0, 'b'});
      // PORT_PLEASE2_REQ with invalid UTF-8.
      assertClosedWithoutAnswer(new byte[] {0, 3, 'z', (byte) 0xC3, 'a'});
      // Unknown command.
      assertClosedWithoutAnswer(new byte[] {0, 1, 'Q'});
      // STOP_REQ is never allowed.
      assertClosedWithoutAnswer(new byte[] {0, 10, 's', 'b', 'y', 's', 't', 'a', 'n', 'd', 'e',
          'r'});

      assertTrue(keep.isActive());
      assertEquals(4242, client.portPlease("bystander").orElseThrow().port());
    }
  }

  @Test
  void invalidNamesAreRefusedWithResultOne() throws Exception {
    byte[] name = new byte[EpmdWire.MAX_NAME_BYTES];
    java.util.Arrays.fill(name, (byte) 'a'); // 1020 characters: too many
    ByteBuffer req = ByteBuffer.allocate(2 + 13 + name.length);
    req.putShort((short) (13 + name.length)).put((byte) 'x').putShort((short) 1)
        .put((byte) 77).put((byte) 0).putShort((short) 6).putShort((short) 5)
        .putShort((short) name.length).put(name).putShort((short) 0);
    byte[] reply = exchange(req.array());
    assertArrayEquals(new byte[] {'v', 1, 0, 0, 0, 99}, reply);
    assertTrue(epmd.registered().isEmpty());
  }

  @Test
  void portPleaseToleratesATrailingNul() throws Exception {
    try (EpmdRegistration r = client.register("nul", 77, false)) {
      assertTrue(r.isActive());
      byte[] reply = exchange(new byte[] {0, 5, 'z', 'n', 'u', 'l', 0});
      assertEquals('w', reply[0]);
      assertEquals(0, reply[1]);
      assertEquals(77, ((reply[2] & 0xFF) << 8) | (reply[3] & 0xFF));
    }
  }

  @Test
  void slowClientIsCutOffWithoutDelayingOthers() throws Exception {
    long opened = System.nanoTime(); // the server's clock for both starts after this
    try (Socket slow = connect(); Socket silent = connect()) {
      slow.getOutputStream().write(new byte[] {0, 5, 'z'}); // and never the rest
      long start = System.nanoTime();
      try (EpmdRegistration r = client.register("quick", 3, false)) {
        assertTrue(r.isActive());
        assertEquals(3, client.portPlease("quick").orElseThrow().port());
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertTrue(millis < REQUEST_TIMEOUT.toMillis() / 2, "other clients waited " + millis + " ms");
      // Both are closed once the request timeout has passed.
      slow.setSoTimeout(5_000);
      silent.setSoTimeout(5_000);
      assertEquals(-1, slow.getInputStream().read());
      assertEquals(-1, silent.getInputStream().read());
      long closedAfter = (System.nanoTime() - opened) / 1_000_000;
      assertTrue(closedAfter >= REQUEST_TIMEOUT.toMillis() - 50 && closedAfter < 6_000, "closed after " + closedAfter);
    }
  }

  @Test
  void connectionLimitHolds() throws Exception {
    try (EmbeddedEpmd small = EmbeddedEpmd.builder().bind(LOOPBACK).port(0).maxConnections(2)
        .requestTimeout(Duration.ofSeconds(30)).start()) {
      EpmdClient c = new EpmdClient(LOOPBACK.getHostAddress(), small.port(), 2_000);
      try (EpmdRegistration r = c.register("one", 1, false); Socket idle = connect(small)) {
        assertTrue(r.isActive());
        // Both slots are taken: the next connection is closed at once.
        EpmdException e = assertThrows(EpmdException.class, c::names);
        assertTrue(e.reason() == Reason.PROTOCOL || e.reason() == Reason.IO, e.toString());
        assertTrue(idle.isConnected());
      }
      // With the slots free again, requests are served.
      awaitTrue(() -> {
        try {
          return c.names().isEmpty();
        } catch (EpmdException e) {
          return false;
        }
      }, "no service after connections closed");
    }
  }

  @Test
  void concurrentClientsWithChurningRegistrations() throws Exception {
    int threads = 8;
    int rounds = 50;
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(threads);
    try (EpmdRegistration fixed = client.register("fixed", 999, false)) {
      List<java.util.concurrent.Future<Integer>> results = new java.util.ArrayList<>();
      long start = System.nanoTime();
      for (int t = 0; t < threads; t++) {
        String mine = "churn" + t;
        results.add(pool.submit(() -> {
          int ok = 0;
          for (int i = 0; i < rounds; i++) {
            try (EpmdRegistration r = client.register(mine, 1000 + i, true)) {
              // Our own registration is visible to us at once, with our port.
              if (client.portPlease(mine).orElseThrow().port() == 1000 + i
                  && client.portPlease("fixed").orElseThrow().port() == 999
                  && r.isActive()) {
                ok++;
              }
            }
            // epmd releases asynchronously: wait before re-registering the name.
            while (client.portPlease(mine).isPresent()) {
              Thread.sleep(1);
            }
          }
          return ok;
        }));
      }
      for (java.util.concurrent.Future<Integer> f : results) {
        assertEquals(rounds, f.get(60, java.util.concurrent.TimeUnit.SECONDS));
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      System.out.printf("embedded EPMD: %d registrations and %d lookups from %d threads in %d"
          + " ms%n", threads * rounds, threads * rounds * 3, threads, millis);
      assertEquals(List.of(NodeInfo.nameAndPort("fixed", 999)), client.names());
      assertTrue(fixed.isActive());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void dumpListsActiveAndOldNames() throws Exception {
    try (EpmdRegistration r = client.register("dumped", 6000, false)) {
      assertTrue(r.isActive());
      try (EpmdRegistration gone = client.register("gone", 6001, false)) {
        assertTrue(gone.isActive());
      }
      awaitTrue(() -> epmd.registered().size() == 1, "not released");
      String dump = new String(exchange(new byte[] {0, 1, 'd'}), StandardCharsets.UTF_8);
      assertTrue(dump.contains("active name     <dumped> at port 6000, fd = "), dump);
      assertTrue(dump.contains("old/unused name <gone>, port = 6001, fd = "), dump);
    }
  }

  @Test
  void killIsRefusedByDefaultAndObeyedWhenAllowed() throws Exception {
    assertArrayEquals("NO".getBytes(StandardCharsets.US_ASCII),
        exchange(new byte[] {0, 1, 'k'}));
    assertTrue(epmd.isOpen());
    assertEquals(List.of(), client.names());

    try (EpmdRegistration r = client.register("victim", 1, false)) {
      epmd.allowKill(true);
      assertArrayEquals("OK".getBytes(StandardCharsets.US_ASCII),
          exchange(new byte[] {0, 1, 'k'}));
      awaitTrue(() -> !epmd.isOpen(), "still open after KILL");
      awaitTrue(() -> !r.isActive(), "registration survived KILL");
      EpmdException e = assertThrows(EpmdException.class, client::names);
      assertEquals(Reason.UNREACHABLE, e.reason());
    }
  }

  @Test
  void closeEndsEveryRegistrationAndFreesThePort() throws Exception {
    EpmdRegistration r = client.register("closing", 1, false);
    try {
      epmd.close();
      assertFalse(epmd.isOpen());
      awaitTrue(() -> !r.isActive(), "registration survived close");
      assertEquals(List.of(), epmd.registered());
      // The port can be bound again at once.
      try (EmbeddedEpmd again = EmbeddedEpmd.start(LOOPBACK, epmd.port())) {
        assertEquals(epmd.port(), again.port());
      }
    } finally {
      r.close();
    }
  }

  @Test
  void onlyLocalPeersMayRegister() throws Exception {
    InetAddress here = InetAddress.getByName("192.0.2.10");
    assertTrue(EpmdSelectorLoop.isLocalPeer(InetAddress.getByName("127.0.0.1"), here));
    assertTrue(EpmdSelectorLoop.isLocalPeer(InetAddress.getByName("127.8.9.1"), here));
    assertTrue(EpmdSelectorLoop.isLocalPeer(InetAddress.getByName("::1"), here));
    assertTrue(EpmdSelectorLoop.isLocalPeer(here, here));
    assertFalse(EpmdSelectorLoop.isLocalPeer(InetAddress.getByName("192.0.2.11"), here));
    assertFalse(EpmdSelectorLoop.isLocalPeer(InetAddress.getByName("2001:db8::1"),
        InetAddress.getByName("2001:db8::2")));
  }

  @Test
  void allInterfacesBindServesLoopback() throws Exception {
    try (EmbeddedEpmd any = EmbeddedEpmd.start(null, 0);
        EpmdRegistration r =
            new EpmdClient("localhost", any.port(), 2_000).register("anyif", 12, true)) {
      assertTrue(r.isActive());
      assertEquals(List.of(NodeInfo.nameAndPort("anyif", 12)),
          new EpmdClient("127.0.0.1", any.port(), 2_000).names());
    }
  }

  @Test
  void portInUseFailsToStart() throws Exception {
    assertThrows(IOException.class, () -> EmbeddedEpmd.start(LOOPBACK, epmd.port()));
  }

  private Socket connect() throws IOException {
    return connect(epmd);
  }

  private static Socket connect(EmbeddedEpmd server) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress(LOOPBACK, server.port()), 2_000);
    s.setSoTimeout(3_000);
    return s;
  }

  /** Sends one request and returns everything the server answers before closing. */
  private byte[] exchange(byte[] request) throws IOException {
    try (Socket s = connect()) {
      s.getOutputStream().write(request);
      return readToEof(s.getInputStream());
    }
  }

  private void assertClosedWithoutAnswer(byte[] request) throws IOException {
    try (Socket s = connect()) {
      s.getOutputStream().write(request);
      long start = System.nanoTime();
      byte[] answer = readToEof(s.getInputStream());
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertEquals(0, answer.length, "answered " + java.util.Arrays.toString(answer));
      // Rejected at once, not merely timed out.
      assertTrue(millis < REQUEST_TIMEOUT.toMillis() / 2, "closed after " + millis + " ms");
    }
  }

  private static byte[] readToEof(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    try {
      for (int n; (n = in.read(buf)) >= 0; ) {
        out.write(buf, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("server neither answered nor closed", e);
    }
    return out.toByteArray();
  }
}
