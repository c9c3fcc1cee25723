/**
 * The callback-level transport conformance suite,
 * {@link io.ei4j.testkit.conformance.SocketCallbacksConformance}, that each transport's
 * tests subclass; TCP's is the reference.
 */
package io.ei4j.testkit.conformance;
