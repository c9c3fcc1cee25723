package io.ei4j.connect;

import io.ei4j.internal.dist.DistFlags;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Objects;

/**
 * The distribution capability flags a node advertises in the handshake, named as OTP's
 * {@code dist.hrl} names them without the {@code DFLAG_} prefix, each with its bit.
 *
 * <p>The {@code long} accessors ({@link EiNode#distributionFlags()},
 * {@link EiConnection#peerFlags()}) stay the wire facts: they hold every bit a node sent,
 * including bits this enum has no name for (reserved bits, and flags of OTP releases newer
 * than this library). {@link #fromBits} names the known bits and leaves the others out;
 * {@link #unnamedBits} returns those others, so that nothing a peer said is lost silently.
 */
public enum DistFlag {
  /** {@code DFLAG_PUBLISHED}: the node is visible (published), not hidden. */
  PUBLISHED(DistFlags.PUBLISHED),
  /** {@code DFLAG_ATOM_CACHE}: an atom cache of the old kind (obsolete). */
  ATOM_CACHE(DistFlags.ATOM_CACHE),
  /** {@code DFLAG_EXTENDED_REFERENCES}: references with several id words. */
  EXTENDED_REFERENCES(DistFlags.EXTENDED_REFERENCES),
  /** {@code DFLAG_DIST_MONITOR}: process monitors across nodes. */
  DIST_MONITOR(DistFlags.DIST_MONITOR),
  /** {@code DFLAG_FUN_TAGS}: funs travel with their own tag. */
  FUN_TAGS(DistFlags.FUN_TAGS),
  /** {@code DFLAG_DIST_MONITOR_NAME}: monitors by registered name. */
  DIST_MONITOR_NAME(DistFlags.DIST_MONITOR_NAME),
  /** {@code DFLAG_HIDDEN_ATOM_CACHE}: that atom cache on hidden connections too (obsolete). */
  HIDDEN_ATOM_CACHE(DistFlags.HIDDEN_ATOM_CACHE),
  /** {@code DFLAG_NEW_FUN_TAGS}: {@code NEW_FUN_EXT}. */
  NEW_FUN_TAGS(DistFlags.NEW_FUN_TAGS),
  /** {@code DFLAG_EXTENDED_PIDS_PORTS}: pids and ports with extended fields. */
  EXTENDED_PIDS_PORTS(DistFlags.EXTENDED_PIDS_PORTS),
  /** {@code DFLAG_EXPORT_PTR_TAG}: {@code EXPORT_EXT} for external funs. */
  EXPORT_PTR_TAG(DistFlags.EXPORT_PTR_TAG),
  /** {@code DFLAG_BIT_BINARIES}: bitstrings ({@code BIT_BINARY_EXT}). */
  BIT_BINARIES(DistFlags.BIT_BINARIES),
  /** {@code DFLAG_NEW_FLOATS}: floats as 8-byte IEEE 754 ({@code NEW_FLOAT_EXT}). */
  NEW_FLOATS(DistFlags.NEW_FLOATS),
  /** {@code DFLAG_UNICODE_IO}: unicode I/O requests. */
  UNICODE_IO(DistFlags.UNICODE_IO),
  /** {@code DFLAG_DIST_HDR_ATOM_CACHE}: frames carry a distribution header with an atom cache. */
  DIST_HDR_ATOM_CACHE(DistFlags.DIST_HDR_ATOM_CACHE),
  /** {@code DFLAG_SMALL_ATOM_TAGS}: {@code SMALL_ATOM_EXT} for short atoms. */
  SMALL_ATOM_TAGS(DistFlags.SMALL_ATOM_TAGS),
  /** {@code DFLAG_UTF8_ATOMS}: atoms in UTF-8. */
  UTF8_ATOMS(DistFlags.UTF8_ATOMS),
  /** {@code DFLAG_MAP_TAG}: maps ({@code MAP_EXT}). */
  MAP_TAG(DistFlags.MAP_TAG),
  /** {@code DFLAG_BIG_CREATION}: 32-bit creations ({@code NEW_PID_EXT} and friends). */
  BIG_CREATION(DistFlags.BIG_CREATION),
  /** {@code DFLAG_SEND_SENDER}: {@code SEND_SENDER} carries the sender's pid. */
  SEND_SENDER(DistFlags.SEND_SENDER),
  /** {@code DFLAG_BIG_SEQTRACE_LABELS}: sequential trace labels of any term. */
  BIG_SEQTRACE_LABELS(DistFlags.BIG_SEQTRACE_LABELS),
  /** {@code DFLAG_EXIT_PAYLOAD}: the {@code *_PAYLOAD} variants of exit signals. */
  EXIT_PAYLOAD(DistFlags.EXIT_PAYLOAD),
  /** {@code DFLAG_FRAGMENTS}: large messages as fragments of the distribution header. */
  FRAGMENTS(DistFlags.FRAGMENTS),
  /** {@code DFLAG_HANDSHAKE_23}: the OTP 23 handshake ({@code 'N'} messages). */
  HANDSHAKE_23(DistFlags.HANDSHAKE_23),
  /** {@code DFLAG_UNLINK_ID}: the link protocol with unlink ids ({@code UNLINK_ID}/{@code _ACK}). */
  UNLINK_ID(DistFlags.UNLINK_ID),
  /** {@code DFLAG_MANDATORY_25_DIGEST}: stands for every flag OTP 25 makes mandatory. */
  MANDATORY_25_DIGEST(DistFlags.MANDATORY_25_DIGEST),
  /** {@code DFLAG_SPAWN}: {@code SPAWN_REQUEST}/{@code SPAWN_REPLY}, which {@code erpc} needs. */
  SPAWN(DistFlags.SPAWN),
  /** {@code DFLAG_NAME_ME}: the initiator asks the acceptor for a dynamic node name. */
  NAME_ME(DistFlags.NAME_ME),
  /** {@code DFLAG_V4_NC}: full 32-bit pid id and serial fields, references of up to 5 words. */
  V4_NC(DistFlags.V4_NC),
  /** {@code DFLAG_ALIAS}: process aliases ({@code ALIAS_SEND}). */
  ALIAS(DistFlags.ALIAS);

  private final long bit;

  DistFlag(long bit) {
    this.bit = bit;
  }

  /**
   * The flag's bit in the 64-bit flags field of the handshake.
   *
   * @return a power of two
   */
  public long bit() {
    return bit;
  }

  /**
   * The named flags set in {@code flags}. Bits without a name are left out: see
   * {@link #unnamedBits}.
   *
   * @param flags a flags field, such as {@link EiConnection#peerFlags()}
   * @return a new, modifiable set
   */
  public static EnumSet<DistFlag> fromBits(long flags) {
    EnumSet<DistFlag> set = EnumSet.noneOf(DistFlag.class);
    for (DistFlag f : values()) {
      if ((flags & f.bit) != 0) {
        set.add(f);
      }
    }
    return set;
  }

  /**
   * The bits of {@code flags} that no constant of this enum names, which
   * {@link #fromBits} leaves out.
   *
   * @param flags a flags field
   * @return those bits, 0 when every bit has a name
   */
  public static long unnamedBits(long flags) {
    return flags & ~toBits(EnumSet.allOf(DistFlag.class));
  }

  /**
   * The flags field with the bits of {@code flags} set.
   *
   * @param flags any collection of flags
   * @return their bits, or-ed
   * @throws NullPointerException when {@code flags} is or contains null
   */
  public static long toBits(Collection<DistFlag> flags) {
    long bits = 0;
    for (DistFlag f : flags) {
      bits |= Objects.requireNonNull(f, "flag").bit;
    }
    return bits;
  }
}
