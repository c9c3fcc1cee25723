package io.ei4j.internal.dist;

import io.ei4j.connect.DistFlag;

/**
 * The distribution capability flags ({@code DFLAG_*} of {@code erl_dist_protocol}) and the
 * set this implementation advertises. The public names are {@link DistFlag}, which takes its
 * bits from here.
 */
public final class DistFlags {
  private DistFlags() {}

  public static final long PUBLISHED = 0x1L;
  public static final long ATOM_CACHE = 0x2L;
  public static final long EXTENDED_REFERENCES = 0x4L;
  public static final long DIST_MONITOR = 0x8L;
  public static final long FUN_TAGS = 0x10L;
  public static final long DIST_MONITOR_NAME = 0x20L;
  public static final long HIDDEN_ATOM_CACHE = 0x40L;
  public static final long NEW_FUN_TAGS = 0x80L;
  public static final long EXTENDED_PIDS_PORTS = 0x100L;
  public static final long EXPORT_PTR_TAG = 0x200L;
  public static final long BIT_BINARIES = 0x400L;
  public static final long NEW_FLOATS = 0x800L;
  public static final long UNICODE_IO = 0x1000L;
  public static final long DIST_HDR_ATOM_CACHE = 0x2000L;
  public static final long SMALL_ATOM_TAGS = 0x4000L;
  public static final long UTF8_ATOMS = 0x10000L;
  public static final long MAP_TAG = 0x20000L;
  public static final long BIG_CREATION = 0x40000L;
  public static final long SEND_SENDER = 0x80000L;
  public static final long BIG_SEQTRACE_LABELS = 0x100000L;
  public static final long EXIT_PAYLOAD = 0x400000L;
  public static final long FRAGMENTS = 0x800000L;
  public static final long HANDSHAKE_23 = 0x1000000L;
  public static final long UNLINK_ID = 0x2000000L;
  public static final long MANDATORY_25_DIGEST = 0x4000000L;
  public static final long SPAWN = 1L << 32;
  public static final long NAME_ME = 1L << 33;
  public static final long V4_NC = 1L << 34;
  public static final long ALIAS = 1L << 35;

  /**
   * What OTP 26 refuses to connect without: the OTP 25 set (which
   * {@link #MANDATORY_25_DIGEST} stands for) plus {@link #UNLINK_ID} and {@link #V4_NC}.
   */
  public static final long MANDATORY_26 = EXTENDED_REFERENCES | FUN_TAGS | NEW_FUN_TAGS
      | EXTENDED_PIDS_PORTS | EXPORT_PTR_TAG | BIT_BINARIES | NEW_FLOATS | UTF8_ATOMS | MAP_TAG
      | BIG_CREATION | HANDSHAKE_23 | UNLINK_ID | V4_NC;

  /**
   * The flags a peer must have for this implementation to talk to it: the OTP 25
   * mandatory set. An OTP 25 node always has them; {@link #UNLINK_ID} and {@link #V4_NC}
   * are only advertised, never required, so that OTP 25 peers that lack them still
   * connect.
   */
  public static final long REQUIRED_OF_PEER = EXTENDED_REFERENCES | FUN_TAGS | NEW_FUN_TAGS
      | EXTENDED_PIDS_PORTS | EXPORT_PTR_TAG | BIT_BINARIES | NEW_FLOATS | UTF8_ATOMS | MAP_TAG
      | BIG_CREATION | HANDSHAKE_23;

  /**
   * What this node advertises: the OTP 26 mandatory set, the digest flag, and what it
   * implements besides: monitors (passed to the user), small atom tags, SEND_SENDER and the
   * EXIT payload variants (decoded). Not {@link #PUBLISHED}: this is a hidden node, as ei
   * and JInterface nodes are. A node adds {@link #DIST_HEADERS} to it by default.
   */
  public static final long ADVERTISED = MANDATORY_26 | MANDATORY_25_DIGEST | DIST_MONITOR
      | SMALL_ATOM_TAGS | SEND_SENDER | EXIT_PAYLOAD;

  /**
   * The distribution header flags a node adds to {@link #ADVERTISED} unless told not to:
   * {@link #DIST_HDR_ATOM_CACHE} (frames start with {@code 131 68} and may carry atom cache
   * references) and {@link #FRAGMENTS} (large messages travel as {@code 131 69}/{@code 131 70}
   * fragments, interleaved with other frames). Both directions are implemented; the header is
   * only used on a connection whose peer advertised {@link #DIST_HDR_ATOM_CACHE} too.
   */
  public static final long DIST_HEADERS = DIST_HDR_ATOM_CACHE | FRAGMENTS;

  /**
   * The names of the flags set in {@code flags}, for error messages: those of
   * {@link DistFlag}, and {@code 0x...} ({@code 1<<n} in the high word) for a bit without one.
   */
  public static String describe(long flags) {
    StringBuilder sb = new StringBuilder();
    for (int bit = 0; bit < 64; bit++) {
      long b = 1L << bit;
      if ((flags & b) != 0) {
        if (sb.length() > 0) {
          sb.append('|');
        }
        sb.append(nameOf(b, bit));
      }
    }
    return sb.length() == 0 ? "none" : sb.toString();
  }

  private static String nameOf(long b, int bit) {
    for (DistFlag f : DistFlag.values()) {
      if (f.bit() == b) {
        return f.name();
      }
    }
    return bit < 32 ? "0x" + Long.toHexString(b) : "1<<" + bit;
  }
}
