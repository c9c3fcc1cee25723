package io.ei4j.samples;

import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes BouncyCastle's {@code java.util.logging} output into slf4j, where the samples'
 * other log lines go (stderr, with {@code --verbose} for debug).
 *
 * <p>BouncyCastle's JSSE provider logs a handful of WARNING records on every TLS start
 * (cipher suites and signature schemes the JDK names but BouncyCastle lacks) and about a
 * dozen INFO records per connection; none of them means that something is wrong with the
 * user's setup, and JUL's default console handler prints them on two lines each. They go
 * to slf4j at debug level; SEVERE records stay visible as warnings.
 */
final class BouncyCastleLogging {
  /** Held strongly: JUL keeps only weak references to loggers, and would forget the setting. */
  private static final java.util.logging.Logger BOUNCY_CASTLE = java.util.logging.Logger.getLogger("org.bouncycastle");

  private BouncyCastleLogging() {}

  /** Installs the route once; later calls change nothing. */
  static synchronized void install() {
    if (BOUNCY_CASTLE.getUseParentHandlers()) {
      BOUNCY_CASTLE.setUseParentHandlers(false);
      BOUNCY_CASTLE.setLevel(LoggerFactory.getLogger(BOUNCY_CASTLE.getName()).isDebugEnabled() ? Level.ALL : Level.SEVERE);
      BOUNCY_CASTLE.addHandler(new ToSlf4j());
    }
  }

  /** One JUL record as one slf4j event of the logger with the same name. */
  private static final class ToSlf4j extends Handler {
    @Override
    public void publish(LogRecord r) {
      Logger log = LoggerFactory.getLogger(r.getLoggerName() != null ? r.getLoggerName() : BOUNCY_CASTLE.getName());
      String message = r.getMessage();
      if (r.getParameters() != null && message != null) {
        try {
          message = java.text.MessageFormat.format(message, r.getParameters());
        } catch (IllegalArgumentException e) {
          // keep the pattern as it is
        }
      }
      if (r.getLevel().intValue() >= Level.SEVERE.intValue()) {
        log.warn(message, r.getThrown());
      } else {
        log.debug(message, r.getThrown());
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }
}
