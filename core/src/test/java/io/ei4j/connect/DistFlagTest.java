package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.internal.dist.DistFlags;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.IOException;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The named distribution flags: one bit each, the same table as the handshake's, the
 * conversions lose no bit, and {@link EiNode.Builder#advertise} takes only the three flags a
 * layer above the connections may add.
 */
class DistFlagTest {

  @Test
  void everyFlagIsOneDistinctBitNamedAsTheHandshakeNamesIt() {
    long seen = 0;
    for (DistFlag f : DistFlag.values()) {
      assertEquals(1, Long.bitCount(f.bit()), f + " is one bit");
      assertEquals(0, seen & f.bit(), f + " shares its bit");
      seen |= f.bit();
      assertEquals(f.name(), DistFlags.describe(f.bit()), "the handshake's name for " + f);
    }
    assertEquals(DistFlags.SPAWN, DistFlag.SPAWN.bit());
    assertEquals(1L << 35, DistFlag.ALIAS.bit());
    assertEquals(0x20L, DistFlag.DIST_MONITOR_NAME.bit());
  }

  @Test
  void conversionsKeepTheUnnamedBitsApart() {
    long advertised = DistFlags.ADVERTISED | DistFlags.DIST_HEADERS;
    EnumSet<DistFlag> named = DistFlag.fromBits(advertised);
    assertEquals(advertised, DistFlag.toBits(named));
    assertEquals(0, DistFlag.unnamedBits(advertised));
    assertFalse(named.contains(DistFlag.PUBLISHED), "a hidden node");

    long withUnknown = DistFlags.PUBLISHED | 0x8000L | (1L << 36) | (1L << 63);
    assertEquals(EnumSet.of(DistFlag.PUBLISHED), DistFlag.fromBits(withUnknown));
    assertEquals(0x8000L | (1L << 36) | (1L << 63), DistFlag.unnamedBits(withUnknown));
    assertEquals("PUBLISHED|0x8000|1<<36|1<<63", DistFlags.describe(withUnknown));
    assertEquals(EnumSet.noneOf(DistFlag.class), DistFlag.fromBits(0));
  }

  @Test
  void advertiseAddsTheNamedFlagsToTheDefaultSet() throws IOException {
    long base;
    try (EiNode plain = EiNode.builder("flags0@localhost").cookie("c").transport(TcpTransport.create()).build()) {
      base = plain.distributionFlags();
    }
    try (EiNode n = EiNode.builder("flags1@localhost").cookie("c").transport(TcpTransport.create())
        .advertise(DistFlag.SPAWN, DistFlag.ALIAS).build()) {
      assertEquals(base | DistFlags.SPAWN | DistFlags.ALIAS, n.distributionFlags());
      assertTrue(DistFlag.fromBits(n.distributionFlags()).containsAll(Set.of(DistFlag.SPAWN, DistFlag.ALIAS)));
    }
    try (EiNode n = EiNode.builder("flags2@localhost").cookie("c").transport(TcpTransport.create())
        .advertise(DistFlag.SPAWN).advertise(Set.of(DistFlag.DIST_MONITOR_NAME)).build()) {
      assertEquals(base | DistFlags.DIST_MONITOR_NAME, n.distributionFlags(), "the last call wins");
    }
    try (EiNode n = EiNode.builder("flags3@localhost").cookie("c").transport(TcpTransport.create())
        .advertise(DistFlag.ALIAS).advertise().build()) {
      assertEquals(base, n.distributionFlags());
    }
  }

  @Test
  void advertiseRefusesOtherFlagsNamingThem() {
    EiNode.Builder b = EiNode.builder("flags4@localhost");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> b.advertise(DistFlag.SPAWN, DistFlag.PUBLISHED, DistFlag.NAME_ME));
    assertTrue(e.getMessage().endsWith("got PUBLISHED|NAME_ME"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> b.advertise(List.of(DistFlag.FRAGMENTS)));
    assertThrows(NullPointerException.class, () -> b.advertise(DistFlag.SPAWN, null));
  }
}
