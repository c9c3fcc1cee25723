package io.ei4j.transport.tls;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A TLS configuration that cannot work: a missing or unreadable file, a file without the
 * expected PEM blocks, a key that does not belong to its certificate, an expired
 * certificate, an unknown protocol or cipher suite.
 *
 * <p>Thrown by {@link TlsConfig.Builder#build()}, so that a broken setup fails when the node
 * is created instead of at the first connection. The message names the file (when one is
 * involved) and the problem; {@link #file()} returns the file for programs that report it
 * themselves. Unchecked, like the {@link IllegalArgumentException} it extends: it reports
 * a mistake in the caller's setup, not a transient I/O condition.
 */
public final class TlsConfigurationException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  TlsConfigurationException(Path file, String problem, Throwable cause) {
    super(file == null ? problem : file + ": " + problem, cause);
    this.file = file;
  }

  TlsConfigurationException(Path file, String problem) {
    this(file, problem, null);
  }

  TlsConfigurationException(String problem, Throwable cause) {
    this(null, problem, cause);
  }

  TlsConfigurationException(String problem) {
    this(null, problem, null);
  }

  /** The file the problem is in, or empty when the problem is not about one file. */
  public Optional<Path> file() {
    return Optional.ofNullable(file);
  }
}
