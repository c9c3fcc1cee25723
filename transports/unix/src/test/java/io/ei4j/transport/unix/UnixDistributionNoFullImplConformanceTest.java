package io.ei4j.transport.unix;

import java.io.IOException;

/**
 * The distribution conformance suite over AF_UNIX without FULL_IMPL: core enforces every
 * timeout by polling the real descriptor through {@link UnixFdPoller}, as ei does with
 * {@code select()}.
 */
class UnixDistributionNoFullImplConformanceTest extends UnixDistributionConformance {
  UnixDistributionNoFullImplConformanceTest() throws IOException {
    super(false);
  }

  /** Proven by ei4j-conformance's PolledTcpDistributionConformanceTest (polled descriptor); runs here with -Pthorough. */
  @Override
  protected boolean tickSurvivalProvenElsewhere() {
    return true;
  }
}
