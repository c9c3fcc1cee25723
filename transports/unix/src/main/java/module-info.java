/**
 * The AF_UNIX transport, {@link io.ei4j.transport.unix.UnixTransport}, on the C library
 * through JNA, and the {@code poll(2)} {@link io.ei4j.api.FdPoller}.
 */
module io.ei4j.transport.unix {
  requires transitive io.ei4j.api;
  // JNA's jar is an automatic module; see the compiler configuration in this module's pom.
  requires com.sun.jna;

  exports io.ei4j.transport.unix;

  provides io.ei4j.api.FdPoller with io.ei4j.transport.unix.UnixFdPoller;
}
