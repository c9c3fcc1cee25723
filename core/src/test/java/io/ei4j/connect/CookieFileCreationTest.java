package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.internal.dist.Cookies;
import io.ei4j.testkit.ErlangPeer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Cookies#createIfMissing}: the cookie file appears owner-only and whole, even under
 * umask 000 (a child JVM started by {@code sh -c 'umask 000; exec java ...'}), is what
 * {@code erl} itself then reads, and is never replaced.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CookieFileCreationTest {

  @Test
  void createsAnOwnerReadOnlyFileThatErlReads(@TempDir Path home) throws Exception {
    Path f = home.resolve(".erlang.cookie");
    assertTrue(Cookies.createIfMissing(f));
    assertEquals("r--------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    String cookie = Files.readString(f, StandardCharsets.US_ASCII);
    assertTrue(cookie.matches("[A-Z]{20}"), "20 upper-case letters as erl makes them");
    assertEquals(cookie, Cookies.read(f));
    try (var files = Files.list(home)) {
      assertEquals(List.of(f), files.toList(), "no temporary file is left behind");
    }
    ErlangPeer.ensureEpmd();
    ProcessBuilder pb = new ProcessBuilder(ErlangPeer.erl().toString(), "-noshell", "-sname", ErlangPeer.uniqueName("ck"),
        "-eval", "io:format(\"COOKIE[~s]~n\", [erlang:get_cookie()]), halt().").redirectErrorStream(true);
    pb.environment().put("HOME", home.toString());
    Process p = pb.start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(20, TimeUnit.SECONDS));
      assertTrue(out.contains("COOKIE[" + cookie + "]"), "erl reads the file we created: " + out.length() + " chars");
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void anExistingFileIsLeftAlone(@TempDir Path home) throws Exception {
    Path f = home.resolve(".erlang.cookie");
    Files.writeString(f, "mine");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    assertFalse(Cookies.createIfMissing(f));
    assertEquals("mine", Files.readString(f));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
  }

  @Test
  void aMissingDirectoryIsNamed(@TempDir Path home) {
    Path f = home.resolve("gone").resolve(".erlang.cookie");
    IOException e = assertThrows(IOException.class,
        () -> Cookies.createIfMissing(f));
    assertEquals("cannot create cookie file " + f + ": directory " + f.getParent() + " does not exist", e.getMessage());
  }

  @Test
  void ofConcurrentCreatorsExactlyOneWins(@TempDir Path home) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      for (int round = 0; round < 20; round++) {
        Path f = home.resolve("round" + round);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          Callable<Boolean> create = () -> {
            go.await();
            return Cookies.createIfMissing(f);
          };
          results.add(pool.submit(create));
        }
        go.countDown();
        int created = 0;
        for (Future<Boolean> r : results) {
          created += r.get() ? 1 : 0;
        }
        assertEquals(1, created, "round " + round);
        assertTrue(Cookies.read(f).matches("[A-Z]{20}"));
      }
      try (var files = Files.list(home)) {
        assertEquals(20, files.count(), "no temporary file is left behind");
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Under umask 000 a reader racing the creation never sees the cookie file with group or
   * other bits, nor empty. The control run creates files as the samples did before
   * (write, then chmod 0400) under the same observer, to show the observer can see the
   * window that the owner-only creation closes.
   */
  @Test
  void underUmask000NoRacingReaderSeesTheFileExposedOrEmpty(@TempDir Path dir) throws Exception {
    int[] ours = probe("cookies", Files.createDirectory(dir.resolve("ours")), 400);
    assertEquals(0, ours[1], "times the file was seen with group/other bits");
    assertEquals(0, ours[2], "times the file was seen empty");
    int[] naive = probe("naive", Files.createDirectory(dir.resolve("naive")), 400);
    System.out.println("control (write, then chmod): seen " + naive[0] + ", exposed " + naive[1] + ", empty "
        + naive[2]);
    assertTrue(naive[1] + naive[2] > 0,
        "the observer is fast enough to see the write-then-chmod window (thousands of times per run here)");
  }

  /** Runs the probe in a child JVM under umask 000; returns seen, exposed, empty. */
  private static int[] probe(String mode, Path dir, int iterations) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    String cmd = "umask 000 && exec \"$0\" -cp \"$1\" " + CookieCreationProbe.class.getName() + " \"$2\" \"$3\" \"$4\"";
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", cmd, java.toString(), System.getProperty("java.class.path"),
        mode, dir.toString(), Integer.toString(iterations)).redirectErrorStream(true);
    Process p = pb.start();
    String out;
    try {
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe did not finish");
    } finally {
      p.destroyForcibly();
    }
    assertEquals(0, p.exitValue(), out);
    Matcher m = Pattern.compile("seen (\\d+) exposed (\\d+) empty (\\d+) final (\\S+)").matcher(out);
    assertTrue(m.find(), out);
    if (mode.equals("cookies")) {
      assertEquals("r--------", m.group(4), "final mode under umask 000");
    }
    assertTrue(Integer.parseInt(m.group(1)) > 0, "the observer saw the files at all: " + out);
    return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))};
  }
}
