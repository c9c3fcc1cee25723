package io.ei4j.transport.unix;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;

/**
 * The AF_UNIX transport refused to listen or connect in a directory that users other than
 * the owner may write to without the sticky bit: any of them could replace the socket file
 * and receive the connection, with its handshake, meant for another node. Its errno is
 * {@link Errno#EACCES}; the message names the directory, its mode and who can write to it.
 */
public final class InsecureSocketDirectoryException extends ErrnoException {
  private static final long serialVersionUID = 1L;

  InsecureSocketDirectoryException(String message) {
    super(Errno.EACCES, message);
  }
}
