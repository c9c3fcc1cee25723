package io.ei4j.transport.unix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The transport says why it cannot run instead of crashing: checked in child JVMs where
 * JNA is missing from the class path, or where JNA cannot load its native library.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UnixTransportAvailabilityTest {

  @Test
  void availableHereInAChildJvmToo() throws Exception {
    List<String> out = probe(classPath(false), List.of());
    assertEquals("available true", out.get(0), String.join("\n", out));
    assertEquals("cause null", out.get(1));
    assertEquals("build ok", out.get(2));
    assertEquals("poller available true", out.get(3));
  }

  @Test
  void withoutJnaOnTheClassPath() throws Exception {
    List<String> out = probe(classPath(true), List.of());
    assertEquals("available false", out.get(0), String.join("\n", out));
    assertTrue(out.get(1).contains("NoClassDefFoundError") && out.get(1).contains("com/sun/jna"),
        out.get(1));
    assertTrue(out.get(2).startsWith("build refused the AF_UNIX transport is unavailable"), out.get(2));
    assertEquals("poller available false", out.get(3));
  }

  @Test
  void whenJnaCannotLoadItsNativeLibrary() throws Exception {
    // No system libjnidispatch, none unpacked from the jar: JNA has no native side.
    List<String> out = probe(classPath(false),
        List.of("-Djna.nosys=true", "-Djna.noclasspath=true", "-Djna.boot.library.path=/nonexistent"));
    assertEquals("available false", out.get(0), String.join("\n", out));
    assertTrue(out.get(1).contains("UnsatisfiedLinkError") || out.get(1).contains("NoClassDefFoundError"),
        out.get(1));
    assertTrue(out.get(2).startsWith("build refused"), out.get(2));
  }

  private static String classPath(boolean withoutJna) {
    String cp = System.getProperty("java.class.path");
    if (!withoutJna) {
      return cp;
    }
    String filtered = Arrays.stream(cp.split(File.pathSeparator))
        .filter(e -> !Path.of(e).getFileName().toString().startsWith("jna-"))
        .collect(Collectors.joining(File.pathSeparator));
    assertTrue(filtered.length() < cp.length(), "no jna jar on the test class path: " + cp);
    return filtered;
  }

  private static List<String> probe(String classPath, List<String> jvmArgs)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xshare:off");
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(classPath);
    cmd.add(AvailabilityProbe.class.getName());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the probe JVM hung");
    assertEquals(0, p.exitValue(), "the probe JVM crashed:\n" + text);
    List<String> lines = text.lines().filter(l -> !l.startsWith("WARNING")).toList();
    assertEquals(4, lines.size(), text);
    return lines;
  }
}
