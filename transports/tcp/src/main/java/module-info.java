/**
 * The TCP transport, {@link io.ei4j.transport.tcp.TcpTransport}, on JDK socket channels;
 * also {@link io.ei4j.transport.tcp.ProcFd}, for other transports over JDK TCP sockets.
 */
module io.ei4j.transport.tcp {
  requires transitive io.ei4j.api;

  exports io.ei4j.transport.tcp;
}
