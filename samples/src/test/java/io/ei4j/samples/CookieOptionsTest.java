package io.ei4j.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Where the samples take the cookie from, and in which order. */
class CookieOptionsTest {
  private static final Map<String, String> ENV = Map.of(NodeOptions.COOKIE_ENV, "from_env");

  @Test
  void theEnvironmentIsUsedWhenNoOptionNamesACookie() throws UsageException {
    NodeOptions o = options(ENV);
    assertEquals("from_env", o.cookie);
    assertFalse(o.cookieFileGiven);
  }

  @Test
  void optionsWinOverTheEnvironment() throws UsageException {
    assertEquals("given", options(ENV, "--cookie", "given").cookie);
    NodeOptions file = options(ENV, "--cookie-file", "/some/file");
    assertNull(file.cookie);
    assertTrue(file.cookieFileGiven);
    assertEquals(Path.of("/some/file"), file.cookieFile);
  }

  @Test
  void withoutAnyTheDefaultFileIsUsed() throws UsageException {
    NodeOptions o = options(Map.of());
    assertNull(o.cookie);
    assertFalse(o.cookieFileGiven);
    assertEquals(CookieFile.defaultFile(), o.cookieFile);
  }

  @Test
  void conflictsAndEmptyValuesAreUsageErrors() {
    assertThrows(UsageException.class, () -> options(Map.of(), "--cookie", "a", "--cookie-file", "f"));
    assertThrows(UsageException.class, () -> options(Map.of(), "--cookie-file", ""));
    assertThrows(UsageException.class, () -> options(Map.of(), "--cookie", ""));
    assertThrows(UsageException.class, () -> options(Map.of(NodeOptions.COOKIE_ENV, "")));
  }

  private static NodeOptions options(Map<String, String> env, String... args) throws UsageException {
    return NodeOptions.of(Options.parse(List.of(args), NodeOptions.WITH_VALUE, NodeOptions.FLAGS), "d", true, env);
  }
}
