/**
 * What a transport author implements: {@link io.ei4j.api.SocketCallbacks}, the Java form
 * of erl_interface's user-supplied socket interface, and the errors it reports.
 */
package io.ei4j.api;
