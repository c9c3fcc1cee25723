package io.ei4j.transport.tls;

import java.net.SocketAddress;
import java.nio.channels.SelectionKey;

/**
 * One accepted TCP connection of a {@link TlsListener} whose TLS handshake is under way:
 * the server-side {@link TlsSocket}, the peer's address, when the listener gives up on it,
 * and its registration with the listener's selector (null until it first waits for I/O).
 * Confined to the thread that holds the listener's read lock, except for {@link #socket}'s
 * close.
 */
final class TlsPendingHandshake {
  final TlsSocket socket;
  final SocketAddress remote;
  final long deadline;
  SelectionKey key;

  TlsPendingHandshake(TlsSocket socket, SocketAddress remote, long deadline) {
    this.socket = socket;
    this.remote = remote;
    this.deadline = deadline;
  }

  String peerName() {
    return socket.peerName();
  }
}
