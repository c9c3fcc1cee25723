package io.ei4j.transport.unix;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.util.Locale;
import java.util.Set;

/**
 * The one-time probe behind {@link UnixTransport#isAvailable()}: the transport needs
 * Linux (abstract names, {@code SO_PEERCRED} and {@code accept4} are Linux features), a
 * 64-bit C library whose socket constants it knows, JNA's native dispatch library, and a
 * kernel that creates AF_UNIX stream sockets (some sandboxes forbid them). All of that is
 * checked once, the first time this class is used, by actually creating and closing a socket.
 */
final class Availability {
  private Availability() {}

  private static final Set<String> KNOWN_ARCHES =
      Set.of("x86-64", "aarch64", "riscv64", "loongarch64", "s390x", "ppc64le", "ppc64");

  private static final Throwable UNAVAILABILITY_CAUSE = probe();

  /** True when AF_UNIX sockets can be created through this transport. */
  static boolean isAvailable() {
    return UNAVAILABILITY_CAUSE == null;
  }

  /** Why the transport is not available, or null when it is. */
  static Throwable unavailabilityCause() {
    return UNAVAILABILITY_CAUSE;
  }

  /**
   * Returns normally when the transport is available.
   *
   * @throws IllegalStateException naming the reason, with the original failure as its cause
   */
  static void ensureAvailability() {
    if (UNAVAILABILITY_CAUSE != null) {
      throw new IllegalStateException(
          "the AF_UNIX transport is unavailable: " + UNAVAILABILITY_CAUSE, UNAVAILABILITY_CAUSE);
    }
  }

  private static Throwable probe() {
    String os = System.getProperty("os.name", "");
    if (!os.toLowerCase(Locale.ROOT).startsWith("linux")) {
      return new UnsupportedOperationException(
          "the AF_UNIX transport runs on Linux only; this is " + os);
    }
    try {
      if (Native.POINTER_SIZE != 8 || Native.SIZE_T_SIZE != 8) {
        return new UnsupportedOperationException(
            "the AF_UNIX transport needs a 64-bit JVM and C library; pointers here are "
                + Native.POINTER_SIZE + " bytes");
      }
      if (!KNOWN_ARCHES.contains(Platform.ARCH)) {
        return new UnsupportedOperationException("the AF_UNIX transport knows the Linux socket"
            + " constants of " + KNOWN_ARCHES + " only; this machine is " + Platform.ARCH);
      }
      int fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
      if (fd < 0) {
        return Errors.of(LibC.errno(), "socket(AF_UNIX, SOCK_STREAM)");
      }
      LibC.close(fd);
      return null;
    } catch (LinkageError | RuntimeException e) {
      // NoClassDefFoundError: JNA is not on the class path; UnsatisfiedLinkError: its
      // native library or a libc symbol could not be loaded.
      return e;
    }
  }
}
