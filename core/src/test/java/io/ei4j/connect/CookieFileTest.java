package io.ei4j.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.internal.dist.Cookies;
import io.ei4j.testkit.ErlangPeer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default cookie file is read as Erlang reads it, with a real {@code erl} (its
 * {@code HOME} pointed at a test directory) as the oracle.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CookieFileTest {

  private static String erlangCookieWithHome(Path home, String content) throws Exception {
    Path f = home.resolve(".erlang.cookie");
    Files.deleteIfExists(f);
    Files.write(f, content.getBytes(StandardCharsets.ISO_8859_1));
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--------"));
    ProcessBuilder pb = new ProcessBuilder(ErlangPeer.erl().toString(), "-noshell", "-sname", ErlangPeer.uniqueName("ck"),
        "-eval", "io:format(\"COOKIE[~s]~n\", [erlang:get_cookie()]), halt().")
        .redirectErrorStream(true).directory(home.toFile());
    pb.environment().put("HOME", home.toString());
    ErlangPeer.ensureEpmd();
    Process p = pb.start();
    String out;
    try {
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(20, TimeUnit.SECONDS);
    } finally {
      p.destroyForcibly();
    }
    int at = out.indexOf("COOKIE[");
    if (at >= 0) {
      return out.substring(at + 7, out.indexOf("]", at + 7));
    }
    assertTrue(out.contains("Bad characters in cookie"), out);
    return "BAD";
  }

  private static String ours(Path home) {
    try {
      return Cookies.read(home.resolve(".erlang.cookie"));
    } catch (IOException e) {
      return "BAD";
    }
  }

  @Test
  void readsTheCookieFileAsErlangDoes(@TempDir Path home) throws Exception {
    for (String content : new String[] {"plain", "with_newline\n", "crlf\r\n", "two\n\n", " spaces inside ~ ",
        "first\nsecond\n", "tab\there", "caf\u00e9"}) {
      String erl = erlangCookieWithHome(home, content);
      assertEquals(erl, ours(home), "cookie file content '" + content.replace("\n", "\\n") + "'");
    }
  }

  @Test
  void aFileOthersCanReadIsRefused(@TempDir Path home) throws IOException {
    Path f = home.resolve(".erlang.cookie");
    Files.writeString(f, "secret");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    IOException e = assertThrows(IOException.class, () -> Cookies.read(f));
    assertTrue(e.getMessage().contains("owner only") && !e.getMessage().contains("secret"), e.getMessage());
  }

  @Test
  void aMissingFileNamesTheWayOut(@TempDir Path home) {
    IOException e = assertThrows(IOException.class, () -> Cookies.read(home.resolve(".erlang.cookie")));
    assertTrue(e.getMessage().contains("cookie()"), e.getMessage());
  }
}
