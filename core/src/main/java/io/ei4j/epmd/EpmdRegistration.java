package io.ei4j.epmd;

/**
 * A node's registration with EPMD, held by the open TCP connection of its
 * {@code ALIVE2_REQ}: EPMD forgets the node when that connection closes, whether through
 * {@link #close()}, the end of this process, or EPMD going away.
 *
 * <p>Thread-safe. {@link #close()} is idempotent.
 */
public final class EpmdRegistration implements AutoCloseable {
  private final EpmdSocket socket;
  private final String alive;
  private final int port;
  private final int creation;
  private boolean closed;

  EpmdRegistration(EpmdSocket socket, String alive, int port, int creation) {
    this.socket = socket;
    this.alive = alive;
    this.port = port;
    this.creation = creation;
  }

  /**
   * The creation EPMD assigned, as it sent it: 32 bits from an {@code ALIVE2_X_RESP}
   * (read as unsigned with {@link Integer#toUnsignedLong}), or 1..3 from an old-style
   * {@code ALIVE2_RESP}. A node uses it in the pids, ports and references it creates; a
   * value below 4 must be mapped to a 32-bit creation by the caller (ei adds
   * {@code 0xE10000}).
   *
   * @return the creation, 32 bits
   */
  public int creation() {
    return creation;
  }

  /**
   * The name this registration holds.
   *
   * @return the alive name, as passed to {@link EpmdClient#register}
   */
  public String alive() {
    return alive;
  }

  /**
   * The distribution port EPMD hands out for this node.
   *
   * @return the registered port
   */
  public int port() {
    return port;
  }

  /**
   * Whether the registration still holds: not closed here, and EPMD has not closed the
   * connection (checked without blocking). Once false, it stays false and the socket is
   * closed.
   *
   * @return true while EPMD holds the registration
   */
  public synchronized boolean isActive() {
    if (closed) {
      return false;
    }
    if (socket.isClosedByPeer()) {
      closed = true;
      socket.close();
      return false;
    }
    return true;
  }

  /** Unregisters the node by closing the connection to EPMD. */
  @Override
  public synchronized void close() {
    closed = true;
    socket.close();
  }

  @Override
  public String toString() {
    return "EpmdRegistration[" + alive + ", port " + port + ", creation "
        + Integer.toUnsignedString(creation) + ", " + socket.where() + "]";
  }
}
