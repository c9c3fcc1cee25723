package io.ei4j.transport.unix;

import java.io.IOException;

/** The distribution conformance suite over AF_UNIX with FULL_IMPL: the transport's own timeouts. */
class UnixDistributionConformanceTest extends UnixDistributionConformance {
  UnixDistributionConformanceTest() throws IOException {
    super(true);
  }

  /** Proven by ei4j-conformance's TcpDistributionConformanceTest (FULL_IMPL); runs here with -Pthorough. */
  @Override
  protected boolean tickSurvivalProvenElsewhere() {
    return true;
  }
}
