package io.ei4j.transport.unix;

/**
 * Run in a child JVM by {@link UnixTransportAvailabilityTest}: prints what
 * {@link UnixTransport#isAvailable()} says and what building the transport does, one fact a line.
 */
public final class AvailabilityProbe {
  private AvailabilityProbe() {}

  public static void main(String[] args) {
    System.out.println("available " + UnixTransport.isAvailable());
    System.out.println("cause " + UnixTransport.unavailabilityCause());
    try {
      UnixTransport.create();
      System.out.println("build ok");
    } catch (IllegalStateException e) {
      System.out.println("build refused " + e.getMessage());
    }
    System.out.println("poller available " + new UnixFdPoller().isAvailable());
  }
}
