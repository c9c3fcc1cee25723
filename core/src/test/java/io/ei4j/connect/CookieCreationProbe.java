package io.ei4j.connect;

import io.ei4j.internal.dist.Cookies;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Run in a child JVM (under whatever umask the parent gives it): creates cookie files in
 * fresh directories while another thread stats each one as fast as it can, and prints how
 * often the file was seen with group/other bits or empty. Mode {@code naive} creates them
 * the way the samples did before (write, then chmod), as the control.
 *
 * <p>Arguments: mode ({@code cookies} or {@code naive}), directory, iterations.
 */
public final class CookieCreationProbe {
  private CookieCreationProbe() {}

  public static void main(String[] args) throws Exception {
    boolean naive = args[0].equals("naive");
    Path root = Path.of(args[1]);
    int iterations = Integer.parseInt(args[2]);
    AtomicReference<Path> target = new AtomicReference<>();
    AtomicInteger seen = new AtomicInteger();
    AtomicInteger exposed = new AtomicInteger();
    AtomicInteger empty = new AtomicInteger();
    Set<PosixFilePermission> others = EnumSet.complementOf(EnumSet.of(PosixFilePermission.OWNER_READ,
        PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE));
    Thread observer = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        Path p = target.get();
        if (p == null) {
          continue;
        }
        try {
          Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
          long size = Files.size(p);
          seen.incrementAndGet();
          perms.retainAll(others);
          if (!perms.isEmpty()) {
            exposed.incrementAndGet();
          }
          if (size == 0) {
            empty.incrementAndGet();
          }
        } catch (NoSuchFileException notYet) {
          // not created yet
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }
    });
    observer.setDaemon(true);
    observer.start();
    String finalMode = "";
    for (int i = 0; i < iterations; i++) {
      Path dir = Files.createDirectory(root.resolve("d" + i));
      Path file = dir.resolve(".erlang.cookie");
      target.set(file);
      Thread.onSpinWait();
      if (naive) {
        Files.writeString(file, "ABCDEFGHIJKLMNOPQRST", StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE);
        Files.setPosixFilePermissions(file, EnumSet.of(PosixFilePermission.OWNER_READ));
      } else if (!Cookies.createIfMissing(file)) {
        throw new IllegalStateException("not created: " + file);
      }
      finalMode = PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
      try (var files = Files.list(dir)) {
        long n = files.count();
        if (n != 1) {
          throw new IllegalStateException(n + " files left in " + dir);
        }
      }
    }
    observer.interrupt();
    System.out.println("seen " + seen.get() + " exposed " + exposed.get() + " empty " + empty.get() + " final "
        + finalMode);
  }
}
