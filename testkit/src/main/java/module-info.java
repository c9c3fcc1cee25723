/**
 * Test support: real Erlang nodes ({@link io.ei4j.testkit.ErlangPeer}), the callback-level
 * conformance suite for transports and run-time test certificates.
 */
module io.ei4j.testkit {
  requires transitive io.ei4j.api;
  requires transitive org.junit.jupiter.api;
  requires org.bouncycastle.pkix;
  requires org.bouncycastle.provider;
  // TestPki keeps BouncyCastle JSSE's java.util.logging output at WARNING.
  requires java.logging;

  exports io.ei4j.testkit;
  exports io.ei4j.testkit.conformance;
  exports io.ei4j.testkit.pki;

  // JUnit runs the suite's package-private test methods reflectively.
  opens io.ei4j.testkit.conformance to org.junit.platform.commons;

  uses io.ei4j.api.FdPoller;
}
