/** Erlang terms and the external term format. */
package io.ei4j.term;
