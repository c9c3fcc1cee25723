package io.ei4j.internal.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/** {@link RateLimitedLog} with a hand-driven clock and a logger that keeps its lines. */
class RateLimitedLogTest {
  private static final long MINUTE = TimeUnit.SECONDS.toNanos(60);

  private final AtomicLong now = new AtomicLong(1_000);
  private final Lines lines = new Lines();
  private final RateLimitedLog log = new RateLimitedLog(lines, "refused", "handshake", MINUTE, now::get);

  @Test
  void theFirstEventIsLoggedInFullAndTheRestSummedUpWhenTheWindowEnds() {
    for (int i = 0; i < 1027; i++) {
      log.record("127.0.0.1", "the peer used a different cookie");
    }
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).startsWith("WARN refused a handshake from 127.0.0.1: the peer used a different cookie"),
        lines.get(0));
    now.addAndGet(MINUTE - 1);
    log.flush();
    assertEquals(1, lines.size(), "the window is not over yet");
    now.addAndGet(1);
    log.flush();
    assertEquals(List.of("WARN refused a handshake from 127.0.0.1: the peer used a different cookie"
        + " (further ones from there are summed up every 60 s)",
        "WARN refused 1,027 handshakes from 127.0.0.1 in the last 60 s"), lines.all);
    log.record("127.0.0.1", "again");
    assertEquals(3, lines.size(), "a new window logs its first event in full again");
  }

  @Test
  void sourcesAreCountedApartAndASingleEventNeedsNoSummary() {
    log.record("10.0.0.1", "a");
    log.record("10.0.0.2", "b");
    log.record("10.0.0.2", "b");
    now.addAndGet(MINUTE);
    log.record("10.0.0.3", "c"); // closes the others' windows first
    assertEquals(List.of("10.0.0.1: a", "10.0.0.2: b", "refused 2 handshakes from 10.0.0.2 in the last 60 s",
        "10.0.0.3: c"), lines.all.stream().map(l -> l.replaceFirst("^WARN (refused a handshake from )?", "")
        .replaceFirst(" \\(further.*", "")).toList());
  }

  @Test
  void flushAllSumsUpOpenWindowsWithTheirRealAge() {
    log.record("h", "x");
    log.record("h", "x");
    log.record("h", "x");
    now.addAndGet(TimeUnit.SECONDS.toNanos(7));
    log.flushAll();
    assertEquals("WARN refused 3 handshakes from h in the last 7 s", lines.get(1));
  }

  @Test
  void manySourcesShareOneBoundedEntry() {
    for (int i = 0; i < RateLimitedLog.MAX_SOURCES + 500; i++) {
      log.record("10.1." + (i >> 8) + "." + (i & 0xFF), "x");
    }
    assertEquals(RateLimitedLog.MAX_SOURCES + 1, lines.size(), "one full line per tracked source and one for the rest");
    log.flushAll();
    assertEquals("WARN refused 500 handshakes from other addresses in the last 1 s", lines.get(lines.size() - 1));
  }

  /** A logger that keeps "LEVEL message" lines. */
  private static final class Lines extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;
    final transient List<String> all = new ArrayList<>();

    int size() {
      return all.size();
    }

    String get(int i) {
      return all.get(i);
    }

    @Override
    public String toString() {
      return all.toString();
    }

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args,
        Throwable t) {
      all.add(level + " " + MessageFormatter.basicArrayFormat(pattern, args));
    }

    @Override
    public boolean isTraceEnabled() {
      return true;
    }

    @Override
    public boolean isDebugEnabled() {
      return true;
    }

    @Override
    public boolean isInfoEnabled() {
      return true;
    }

    @Override
    public boolean isWarnEnabled() {
      return true;
    }

    @Override
    public boolean isErrorEnabled() {
      return true;
    }
  }
}
