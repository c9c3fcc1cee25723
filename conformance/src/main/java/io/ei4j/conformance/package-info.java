/**
 * The distribution-level transport conformance suite,
 * {@link io.ei4j.conformance.DistributionConformance}, that each transport's tests subclass
 * (with testkit's callback-level {@code SocketCallbacksConformance}); TCP's and polled
 * TCP's runs are this module's own tests.
 */
package io.ei4j.conformance;
