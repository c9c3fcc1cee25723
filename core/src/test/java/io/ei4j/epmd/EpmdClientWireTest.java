package io.ei4j.epmd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.epmd.EpmdException.Reason;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The client's bytes on the wire and its handling of well-formed, malformed, slow and
 * silent servers, against scripted fake servers on real sockets.
 */
class EpmdClientWireTest {

  @Test
  void alive2RequestIsByteExactAndOldStyleReplyIsAccepted() throws Exception {
    try (ScriptedServer server = new ScriptedServer((out, in) -> {
      out.write(new byte[] {'y', 0, 0, 2});
      // Hold the connection: the registration must stay active.
      in.read();
    })) {
      EpmdRegistration reg = server.client(2_000).register("ab", 0x1234, true);
      try {
        byte[] expected = {
          0, 15, // length
          120, // 'x'
          0x12, 0x34, // port
          72, // hidden
          0, // TCP/IPv4
          0, 6, 0, 5, // highest 6, lowest 5
          0, 2, 'a', 'b', // name
          0, 0 // no extra
        };
        assertArrayEquals(expected, server.request());
        assertEquals(2, reg.creation());
        assertTrue(reg.isActive());
        reg.close();
        assertFalse(reg.isActive());
      } finally {
        reg.close();
      }
    }
  }

  @Test
  void thirtyTwoBitCreationAboveTwoToThe31IsKeptUnsigned() throws Exception {
    try (ScriptedServer server = new ScriptedServer((out, in) -> {
      out.write(new byte[] {'v', 0, (byte) 0xF0, 0, 0, 7});
      in.read();
    })) {
      try (EpmdRegistration reg = server.client(2_000).register("n", 9, false)) {
        assertEquals(0xF0000007L, Integer.toUnsignedLong(reg.creation()));
        assertEquals(77, server.request()[5]);
      }
    }
  }

  @Test
  void refusedRegistrationCarriesTheResult() throws Exception {
    try (ScriptedServer server =
        new ScriptedServer((out, in) -> out.write(new byte[] {'v', 1, 0, 0, 0, 99}))) {
      EpmdException e = assertThrows(EpmdException.class,
          () -> server.client(2_000).register("taken", 9, false));
      assertEquals(Reason.REGISTRATION_REFUSED, e.reason());
      assertEquals(1, e.resultCode());
    }
  }

  @Test
  void unexpectedAlive2TagIsAProtocolError() throws Exception {
    try (ScriptedServer server =
        new ScriptedServer((out, in) -> out.write(new byte[] {'w', 0, 0, 1}))) {
      EpmdException e = assertThrows(EpmdException.class,
          () -> server.client(2_000).register("n", 9, false));
      assertEquals(Reason.PROTOCOL, e.reason());
      assertTrue(e.getMessage().contains("'w' (119)"), e.getMessage());
    }
  }

  @Test
  void portPleaseRequestAndFullReply() throws Exception {
    byte[] reply = port2Resp("nöde", 0x4321, 77, 6, 5, new byte[] {1, 2, 3});
    try (ScriptedServer server = new ScriptedServer((out, in) -> out.write(reply))) {
      NodeInfo info = server.client(2_000).portPlease("nöde").orElseThrow();
      byte[] name = "nöde".getBytes(StandardCharsets.UTF_8);
      byte[] expected = new byte[3 + name.length];
      expected[1] = (byte) (1 + name.length);
      expected[2] = 122;
      System.arraycopy(name, 0, expected, 3, name.length);
      assertArrayEquals(expected, server.request());
      assertEquals(new NodeInfo("nöde", 0x4321, 77, 0, 6, 5, new byte[] {1, 2, 3}), info);
    }
  }

  @Test
  void portPleaseReplyFedOneByteAtATime() throws Exception {
    byte[] reply = port2Resp("slow", 5000, 72, 6, 5, new byte[0]);
    try (ScriptedServer server = new ScriptedServer((out, in) -> {
      for (byte b : reply) {
        out.write(b);
        out.flush();
        Thread.sleep(2);
      }
    })) {
      assertEquals(5000, server.client(2_000).portPlease("slow").orElseThrow().port());
    }
  }

  @Test
  void portPleaseErrorResultIsEmpty() throws Exception {
    try (ScriptedServer server = new ScriptedServer((out, in) -> out.write(new byte[] {'w', 1}))) {
      assertEquals(Optional.empty(), server.client(2_000).portPlease("none"));
    }
  }

  @Test
  void forgedNameLengthIsRejectedBeforeAllocating() throws Exception {
    try (ScriptedServer server = new ScriptedServer((out, in) -> {
      out.write(new byte[] {'w', 0, 0, 1, 77, 0, 0, 6, 0, 5, (byte) 0xFF, (byte) 0xFF});
    })) {
      EpmdException e = assertThrows(EpmdException.class,
          () -> server.client(2_000).portPlease("x"));
      assertEquals(Reason.PROTOCOL, e.reason());
      assertTrue(e.getMessage().contains("65535"), e.getMessage());
    }
  }

  @Test
  void forgedExtraLengthIsRejected() throws Exception {
    try (ScriptedServer server = new ScriptedServer((out, in) -> {
      out.write(new byte[] {'w', 0, 0, 1, 77, 0, 0, 6, 0, 5, 0, 1, 'x', (byte) 0x7F, 0});
    })) {
      EpmdException e = assertThrows(EpmdException.class,
          () -> server.client(2_000).portPlease("x"));
      assertEquals(Reason.PROTOCOL, e.reason());
    }
  }

  @Test
  void truncatedReplyIsAProtocolError() throws Exception {
    try (ScriptedServer server =
        new ScriptedServer((out, in) -> out.write(new byte[] {'w', 0, 0, 1, 77}))) {
      EpmdException e = assertThrows(EpmdException.class,
          () -> server.client(2_000).portPlease("x"));
      assertEquals(Reason.PROTOCOL, e.reason());
      assertTrue(e.getMessage().contains("closed the connection"), e.getMessage());
    }
  }

  @Test
  void silentServerTimesOutOnTime() throws Exception {
    try (ScriptedServer server = new ScriptedServer((out, in) -> in.read())) {
      long start = System.nanoTime();
      EpmdException e = assertThrows(EpmdException.class,
          () -> server.client(300).portPlease("x"));
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertEquals(Reason.TIMEOUT, e.reason());
      assertTrue(e.isTimeout());
      assertTrue(millis >= 250 && millis < 2_000, "took " + millis + " ms");
    }
  }

  @Test
  void tricklingServerCannotStretchTheTimeout() throws Exception {
    try (ScriptedServer server = new ScriptedServer((out, in) -> {
      // A valid NAMES reply, one byte every 50 ms: each read succeeds, the whole does not.
      byte[] reply = "\0\0\u0011\u0001name a at port 1\n".getBytes(StandardCharsets.ISO_8859_1);
      for (int i = 0; i < 1000; i++) {
        out.write(reply[i % reply.length]);
        out.flush();
        Thread.sleep(50);
      }
    })) {
      long start = System.nanoTime();
      EpmdException e = assertThrows(EpmdException.class, () -> server.client(400).names());
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertEquals(Reason.TIMEOUT, e.reason());
      assertTrue(millis < 2_000, "took " + millis + " ms");
    }
  }

  @Test
  void namesRequestAndReply() throws Exception {
    try (ScriptedServer server = new ScriptedServer((out, in) -> {
      out.write(new byte[] {0, 0, 0x11, 0x11});
      out.write("name a at port 1\nname ünï at port 65535\n".getBytes(StandardCharsets.UTF_8));
    })) {
      List<NodeInfo> names = server.client(2_000).names();
      assertArrayEquals(new byte[] {0, 1, 110}, server.request());
      assertEquals(
          List.of(NodeInfo.nameAndPort("a", 1), NodeInfo.nameAndPort("ünï", 65535)), names);
    }
  }

  @Test
  void emptyNamesReply() throws Exception {
    try (ScriptedServer server = new ScriptedServer((out, in) -> out.write(new byte[4]))) {
      assertEquals(List.of(), server.client(2_000).names());
    }
  }

  @Test
  void malformedNamesLinesAreRejected() {
    for (String bad : List.of("nam a at port 1\n", "name a at port x\n",
        "name a at port 70000\n", "name  at port 1\n", "name a at port -1\n",
        "name a\n")) {
      EpmdException e = assertThrows(EpmdException.class,
          () -> EpmdClient.parseNames(bad, "test"), bad);
      assertEquals(Reason.PROTOCOL, e.reason());
    }
  }

  @Test
  void oversizedNamesReplyIsRejected() throws Exception {
    try (ScriptedServer server = new ScriptedServer((out, in) -> {
      out.write(new byte[4]);
      byte[] line = "name a at port 1\n".getBytes(StandardCharsets.US_ASCII);
      for (int sent = 0; sent <= EpmdClient.MAX_NAMES_REPLY; sent += line.length) {
        out.write(line);
      }
    })) {
      EpmdException e = assertThrows(EpmdException.class, () -> server.client(5_000).names());
      assertEquals(Reason.PROTOCOL, e.reason());
    }
  }

  @Test
  void badArgumentsAreRejectedBeforeAnyTraffic() {
    EpmdClient client = new EpmdClient("localhost", 1, 100);
    assertThrows(IllegalArgumentException.class, () -> client.portPlease(""));
    assertThrows(IllegalArgumentException.class, () -> client.portPlease("a@b"));
    assertThrows(IllegalArgumentException.class, () -> client.portPlease("a\0b"));
    assertThrows(IllegalArgumentException.class, () -> client.portPlease("x".repeat(256)));
    assertThrows(IllegalArgumentException.class, () -> client.register("a", 0, true));
    assertThrows(IllegalArgumentException.class, () -> client.register("a", 65536, true));
    assertThrows(IllegalArgumentException.class, () -> new EpmdClient("h", 0, 1));
    assertThrows(IllegalArgumentException.class, () -> new EpmdClient("h", 1, 0));
    assertThrows(IllegalArgumentException.class, () -> new EpmdClient("", 1, 1));
  }

  @Test
  void unknownHostIsUnreachable() {
    EpmdClient client = new EpmdClient("no-such-host.invalid", 4369, 2_000);
    EpmdException e = assertThrows(EpmdException.class, client::names);
    assertEquals(Reason.UNREACHABLE, e.reason());
  }

  private static byte[] port2Resp(
      String name, int port, int type, int high, int low, byte[] extra) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    out.write('w');
    out.write(0);
    out.writeShort(port);
    out.write(type);
    out.write(0);
    out.writeShort(high);
    out.writeShort(low);
    out.writeShort(n.length);
    out.write(n);
    out.writeShort(extra.length);
    out.write(extra);
    return bytes.toByteArray();
  }
}
