package io.ei4j.samples;

/**
 * A command line that cannot be run as given: an unknown option, a missing or malformed
 * value, options that do not go together. {@link Main} prints the message and the
 * command's usage and exits with status {@link Main#EXIT_USAGE}.
 */
final class UsageException extends Exception {
  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }
}
