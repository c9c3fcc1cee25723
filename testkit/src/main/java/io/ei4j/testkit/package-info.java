/** Test support: real Erlang peers and the callback-level transport conformance suite. */
package io.ei4j.testkit;
