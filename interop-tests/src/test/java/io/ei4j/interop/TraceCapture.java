package io.ei4j.interop;

import io.ei4j.node.Trace;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Collects the lines of the {@value Trace#LOGGER_NAME} logger while installed. slf4j-simple
 * writes to {@code System.err} (this module's surefire configuration enables the trace
 * logger at TRACE level and sends it there) and looks the stream up on every line, so a
 * tee installed as {@code System.err} sees them; everything still reaches the original
 * stream.
 */
final class TraceCapture implements AutoCloseable {
  private static final String MARK = " " + Trace.LOGGER_NAME + " - ";

  private final PrintStream original = System.err;
  private final List<String> lines = new ArrayList<>();
  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

  TraceCapture() {
    OutputStream tee = new OutputStream() {
      @Override
      public void write(int b) {
        original.write(b);
        collect(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        original.write(b, off, len);
        collect(b, off, len);
      }
    };
    System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
  }

  private synchronized void collect(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      if (b[i] == '\n') {
        String line = partial.toString(StandardCharsets.UTF_8);
        partial.reset();
        int at = line.indexOf(MARK);
        if (at >= 0) {
          lines.add(line.substring(at + MARK.length()));
          notifyAll();
        }
      } else {
        partial.write(b[i]);
      }
    }
  }

  /** The trace lines so far, without slf4j-simple's prefix. */
  synchronized List<String> lines() {
    return new ArrayList<>(lines);
  }

  /** The trace lines that contain every one of {@code parts}. */
  synchronized List<String> matching(String... parts) {
    List<String> out = new ArrayList<>();
    for (String l : lines) {
      if (containsAll(l, parts)) {
        out.add(l);
      }
    }
    return out;
  }

  /** Waits until a trace line contains every one of {@code parts}; fails after the timeout. */
  synchronized String await(Duration timeout, String... parts) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    int seen = 0;
    while (true) {
      for (; seen < lines.size(); seen++) {
        if (containsAll(lines.get(seen), parts)) {
          return lines.get(seen);
        }
      }
      long left = end - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("no trace line with " + List.of(parts) + " within " + timeout + "; trace:\n" + String.join("\n", lines));
      }
      wait(Math.max(1, left / 1_000_000));
    }
  }

  private static boolean containsAll(String line, String... parts) {
    Predicate<String> in = line::contains;
    for (String p : parts) {
      if (!in.test(p)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    System.err.flush();
    System.setErr(original);
  }
}
