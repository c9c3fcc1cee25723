package io.ei4j.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The command-line parser and the node-name rules, without starting anything. */
class OptionsTest {
  private static final Set<String> VALUES = Set.of("name", "port", "epmd");
  private static final Set<String> FLAGS = Set.of("help");

  @Test
  void parsesValuesFlagsAndPositionalArgumentsInAnyOrder() throws UsageException {
    Options o = Options.parse(List.of("lists", "--name", "a", "reverse", "--port=42", "--help", "[-1]"), VALUES, FLAGS);
    assertEquals("a", o.get("name"));
    assertEquals(42, o.getLong("port", 0, 0, 65535));
    assertTrue(o.has("help"));
    assertFalse(o.has("epmd"));
    assertEquals("auto", o.choice("epmd", "auto", List.of("auto", "none")));
    assertEquals(List.of("lists", "reverse", "[-1]"), o.positional());
  }

  @Test
  void aSingleDashAndEverythingAfterDoubleDashArePositional() throws UsageException {
    Options o = Options.parse(List.of("-5", "--", "--name", "x"), VALUES, FLAGS);
    assertEquals(List.of("-5", "--name", "x"), o.positional());
    assertFalse(o.has("name"));
  }

  @Test
  void rejectsWhatCannotBeRun() {
    assertEquals("unknown option --nope",
        assertThrows(UsageException.class, () -> Options.parse(List.of("--nope"), VALUES, FLAGS)).getMessage());
    assertEquals("--name needs a value",
        assertThrows(UsageException.class, () -> Options.parse(List.of("--name"), VALUES, FLAGS)).getMessage());
    assertEquals("--help takes no value",
        assertThrows(UsageException.class, () -> Options.parse(List.of("--help=yes"), VALUES, FLAGS)).getMessage());
    assertEquals("--name is given twice",
        assertThrows(UsageException.class, () -> Options.parse(List.of("--name", "a", "--name=b"), VALUES, FLAGS))
            .getMessage());
    assertThrows(UsageException.class,
        () -> Options.parse(List.of("--port", "65536"), VALUES, FLAGS).getLong("port", 0, 0, 65535));
    assertThrows(UsageException.class,
        () -> Options.parse(List.of("--epmd", "sometimes"), VALUES, FLAGS).choice("epmd", "auto", List.of("auto")));
  }

  @Test
  void aBareNameTakesTheShortHostNameAsErlSnameDoes() throws UsageException {
    String host = HostNames.shortHostName();
    assertFalse(host.isEmpty());
    assertFalse(host.contains("."), host);
    assertEquals("c1@" + host, HostNames.complete("c1", "--name"));
    assertEquals("c1@10.0.0.1", HostNames.complete("c1@10.0.0.1", "--name"));
    for (String bad : List.of("", "@h", "a@", "a@b@c", "bad name", "x.y", "x/y", "x@host name")) {
      UsageException e = assertThrows(UsageException.class, () -> HostNames.complete(bad, "--name"), bad);
      assertTrue(e.getMessage().startsWith("--name"), e.getMessage());
    }
    assertTrue(assertThrows(UsageException.class, () -> HostNames.complete("x.y", "--peer")).getMessage()
        .contains("ALIVE is one or more of the letters A-Z and a-z, the digits 0-9, _ and -"));
  }

  @Test
  void transportOptionsMustMatchTheTransport() {
    assertThrows(UsageException.class, () -> nodeOptions(true, "--cert", "c.pem"));
    assertThrows(UsageException.class, () -> nodeOptions(true, "--transport", "tls", "--cacert", "ca.pem"));
    assertThrows(UsageException.class, () -> nodeOptions(false, "--transport", "tls", "--cert", "c.pem"));
    assertThrows(UsageException.class, () -> nodeOptions(true, "--transport", "unix", "--port", "1"));
    assertThrows(UsageException.class, () -> nodeOptions(true, "--transport", "unix", "--epmd", "embedded"));
    assertThrows(UsageException.class, () -> nodeOptions(false, "--epmd", "embedded"));
    assertThrows(UsageException.class, () -> nodeOptions(false, "--epmd", "none"));
    assertThrows(UsageException.class, () -> nodeOptions(true, "--socket-dir", "/tmp"));
  }

  @Test
  void validCombinations() throws UsageException {
    NodeOptions tls = nodeOptions(true, "--transport", "tls", "--cert", "c.pem", "--key", "k.pem", "--verify", "none");
    assertFalse(tls.verifyPeer);
    NodeOptions client = nodeOptions(false, "--epmd", "none", "--port", "4370", "--name", "x@h");
    assertEquals(4370, client.port);
    assertEquals("x@h", client.nodeName);
    NodeOptions unix = nodeOptions(true, "--transport", "unix", "--socket-dir", "/tmp");
    assertTrue(unix.isUnix());
  }

  private static NodeOptions nodeOptions(boolean server, String... args) throws UsageException {
    return NodeOptions.of(Options.parse(List.of(args), NodeOptions.WITH_VALUE, NodeOptions.FLAGS), "d", server);
  }
}
