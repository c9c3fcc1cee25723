package io.ei4j.transport.unix;

/**
 * The identity of the process at the other end of an AF_UNIX connection, as the kernel
 * recorded it when the connection was made ({@code SO_PEERCRED}). The kernel vouches for
 * these values: a peer cannot forge them, which is what makes an allowed-uid check
 * meaningful.
 *
 * @param pid the peer's process id at connection time
 * @param uid the peer's effective user id
 * @param gid the peer's effective group id
 */
public record PeerCredentials(int pid, int uid, int gid) {}
