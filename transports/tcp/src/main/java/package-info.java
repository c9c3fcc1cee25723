/** Erlang distribution over TCP on JDK sockets, like ei's default callbacks. */
package ;
