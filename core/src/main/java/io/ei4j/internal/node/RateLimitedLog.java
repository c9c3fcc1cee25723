package io.ei4j.internal.node;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * One kind of event that strangers can cause at will (a refused or failed handshake, a
 * connection closed at a limit), logged at WARN without letting them flood the log: per
 * source, the first event of a window is logged in full, the rest are counted, and when
 * the window is over one line sums them up, for example
 * {@code refused 1,027 handshakes from 127.0.0.1 in the last 60 s}.
 *
 * <p>Windows are closed lazily, by the next {@link #record} or by {@link #flush()}, which
 * the owner calls from a loop it already runs (an accept loop that wakes periodically)
 * and once at shutdown; no thread of its own. At most {@link #MAX_SOURCES} sources are
 * tracked at once; events from further sources are counted under {@code other addresses},
 * so memory stays bounded whatever the number of attacking addresses.
 *
 * <p>Callers pass details that are safe to log; a cookie must never be one (the
 * handshake's exceptions never hold it). Thread-safe; logging happens outside the lock.
 */
public final class RateLimitedLog {
  /** Sources tracked at once; beyond it events are summed under {@link #OTHER_SOURCES}. */
  public static final int MAX_SOURCES = 256;

  /** The source name events are counted under when {@link #MAX_SOURCES} are tracked. */
  public static final String OTHER_SOURCES = "other addresses";

  private final Logger log;
  private final String verb;
  private final String noun;
  private final String nounPlural;
  private final long windowNanos;
  private final LongSupplier nanoClock;
  private final Map<String, Window> windows = new LinkedHashMap<>();

  private static final class Window {
    final long start;
    long count;

    Window(long start) {
      this.start = start;
    }
  }

  /**
   * A log for one kind of event.
   *
   * @param log where the lines go, at WARN
   * @param verb what happened, in the past tense: {@code "refused"}
   * @param noun what it happened to, singular: {@code "handshake"} (the plural adds "s")
   * @param windowNanos how long one source's events are counted before they are summed up
   * @param nanoClock the time, as {@link System#nanoTime()}; a test passes its own
   */
  public RateLimitedLog(Logger log, String verb, String noun, long windowNanos, LongSupplier nanoClock) {
    if (windowNanos <= 0) {
      throw new IllegalArgumentException("window must be positive: " + windowNanos);
    }
    this.log = log;
    this.verb = verb;
    this.noun = noun;
    this.nounPlural = noun + "s";
    this.windowNanos = windowNanos;
    this.nanoClock = nanoClock;
  }

  /** A log with a 60 s window on the system clock. */
  public static RateLimitedLog perMinute(Logger log, String verb, String noun) {
    return new RateLimitedLog(log, verb, noun, TimeUnit.SECONDS.toNanos(60), System::nanoTime);
  }

  /**
   * Records one event. The first from {@code source} in its window is logged at once with
   * {@code detail}; later ones in the window only counted.
   *
   * @param source who caused it: an address without the port, so that reconnects add up
   * @param detail what went wrong, for the first line; never a secret
   */
  public void record(String source, String detail) {
    List<String> lines = new ArrayList<>(2);
    boolean first;
    String key = String.valueOf(source);
    synchronized (this) {
      long now = nanoClock.getAsLong();
      closeWindows(now, false, lines);
      Window w = windows.get(key);
      if (w == null && windows.size() >= MAX_SOURCES) {
        key = OTHER_SOURCES;
        w = windows.get(key);
      }
      first = w == null;
      if (first) {
        w = new Window(now);
        windows.put(key, w);
      }
      w.count++;
    }
    emit(lines);
    if (first && log.isWarnEnabled()) {
      log.warn("{} a {} from {}: {} (further ones from there are summed up every {} s)", verb, noun, key, detail,
          TimeUnit.NANOSECONDS.toSeconds(windowNanos));
    }
  }

  /** Writes the summary of every window that is over. */
  public void flush() {
    List<String> lines = new ArrayList<>();
    synchronized (this) {
      closeWindows(nanoClock.getAsLong(), false, lines);
    }
    emit(lines);
  }

  /** Writes the summary of every window, over or not; for shutdown. */
  public void flushAll() {
    List<String> lines = new ArrayList<>();
    synchronized (this) {
      closeWindows(nanoClock.getAsLong(), true, lines);
    }
    emit(lines);
  }

  /**
   * Closes the windows that are over at {@code now}, or all of them. A window with a single
   * event needs no summary: its one line said everything.
   */
  private void closeWindows(long now, boolean all, List<String> lines) {
    for (Iterator<Map.Entry<String, Window>> it = windows.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Window> e = it.next();
      Window w = e.getValue();
      long age = now - w.start;
      if (!all && age < windowNanos) {
        continue;
      }
      it.remove();
      if (w.count > 1) {
        long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(Math.min(age, windowNanos)));
        lines.add(String.format(Locale.ROOT, "%s %,d %s from %s in the last %d s", verb, w.count, nounPlural,
            e.getKey(), seconds));
      }
    }
  }

  private void emit(List<String> lines) {
    for (String line : lines) {
      log.warn("{}", line);
    }
  }
}
