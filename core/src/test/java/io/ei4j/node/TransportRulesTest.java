package io.ei4j.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TransportRulesTest {

  @Test
  void theFirstMatchingRuleWinsAndTheFallbackTakesTheRest() {
    TransportRules r = TransportRules.builder()
        .rule("*@localhost", "uds")
        .rule("*@10.*", "tcp")
        .rule("db?@*", "tcp")
        .otherwise("tls")
        .build();
    assertEquals("uds", r.transportFor("a@localhost"));
    assertEquals("tcp", r.transportFor("a@10.1.2.3"));
    assertEquals("tcp", r.transportFor("db1@example.com"));
    assertEquals("tls", r.transportFor("db12@example.com"), "? is exactly one character");
    assertEquals("tls", r.transportFor("a@110.1.2.3"), "the pattern covers the whole name");
    assertEquals("tls", r.transportFor("a@localhost.example.com"));
    assertEquals("uds", r.transportFor("db1@localhost"), "rules are tried in order");
  }

  @Test
  void withoutFallbackAnUnmatchedNameIsRefused() {
    TransportRules r = TransportRules.builder().rule("*@localhost", "uds").build();
    assertNull(r.fallback());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.transportFor("a@elsewhere"));
    assertTrue(e.getMessage().contains("a@elsewhere"), e.getMessage());
  }

  @Test
  void globs() {
    assertTrue(TransportRules.glob("*", ""));
    assertTrue(TransportRules.glob("*", "anything@at.all"));
    assertTrue(TransportRules.glob("a*b*c", "aXXbYYc"));
    assertTrue(TransportRules.glob("a*b*c", "abc"));
    assertFalse(TransportRules.glob("a*b*c", "aXXbYY"));
    assertTrue(TransportRules.glob("**x", "yyx"));
    assertFalse(TransportRules.glob("?", ""));
    assertTrue(TransportRules.glob("a\\*b", "a*b"));
    assertFalse(TransportRules.glob("a\\*b", "aXb"));
    assertTrue(TransportRules.glob("a\\?b", "a?b"));
    assertFalse(TransportRules.glob("abc", "ABC"), "node names are case-sensitive atoms");
    // Backtracking stays bounded on a pattern built to be slow for naive recursion.
    String name = "a".repeat(255);
    long t0 = System.nanoTime();
    assertFalse(TransportRules.glob("*a*a*a*a*a*a*a*a*b", name));
    assertTrue(System.nanoTime() - t0 < 1_000_000_000L);
  }

  @Test
  void parsesRulesFromText() {
    TransportRules r = TransportRules.parse("""
        # same host, local network, the rest
        *@localhost -> uds

          *@10.* ->tcp
        * -> tls
        """);
    assertEquals(2, r.rules().size());
    assertEquals(new TransportRules.Rule("*@10.*", "tcp"), r.rules().get(1));
    assertEquals("tls", r.fallback());
    assertEquals("uds", r.transportFor("x@localhost"));
    assertEquals("tls", r.transportFor("x@example.com"));
  }

  @Test
  void malformedTextNamesTheLine() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TransportRules.parse("*@localhost -> uds\n*@10.* tcp\n"));
    assertTrue(e.getMessage().startsWith("line 2 "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TransportRules.parse("* -> tls\n*@10.* -> tcp\n"));
    assertTrue(e.getMessage().contains("after the catch-all"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TransportRules.parse("a -> b c\n"));
    assertTrue(e.getMessage().startsWith("line 1 "), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> TransportRules.builder().rule("x".repeat(TransportRules.MAX_PATTERN + 1), "t"));
    assertThrows(IllegalArgumentException.class, () -> TransportRules.builder().rule("abc\\", "t"));
  }
}
