package io.ei4j.transport.tls;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.SelectionKey;

/**
 * One accepted TCP connection of a {@link TlsListener} whose TLS handshake is under way:
 * the server-side {@link TlsSocket}, the peer's address, when it was accepted and when the
 * listener gives up on it, and its registration with the listener's selector (null until
 * it first waits for I/O).
 * Confined to the thread that holds the listener's read lock, except for {@link #socket}'s
 * close.
 */
final class TlsPendingHandshake {
  final TlsSocket socket;
  final SocketAddress remote;
  final long acceptedAt;
  final long deadline;
  SelectionKey key;

  TlsPendingHandshake(TlsSocket socket, SocketAddress remote, long acceptedAt, long deadline) {
    this.socket = socket;
    this.remote = remote;
    this.acceptedAt = acceptedAt;
    this.deadline = deadline;
  }

  /** The peer's IP address, or null when the remote address is not an IP socket address. */
  InetAddress source() {
    return remote instanceof InetSocketAddress isa ? isa.getAddress() : null;
  }

  String peerName() {
    return socket.peerName();
  }
}
