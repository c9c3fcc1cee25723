package io.ei4j.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.testkit.ErlangPeer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's shell blocks that run headless, taken from README.md and run as written, in
 * a fresh working directory with a HOME of its own (so the cookie is the one the first
 * command creates, as for a new user) and an EPMD port nobody else uses. A {@code $ }
 * line is a command ({@code java -jar samples/target/ei4j-samples.jar} runs the built jar,
 * {@code erl} a real node, anything else {@code bash -c}); the lines after it are what it
 * must print; {@code 1> } lines are typed into the {@code erl} started just before, and
 * the line after is what the shell must print. Servers and {@code erl} nodes run until
 * the end of their section; {@code HOST} stands for this machine's short host name.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReadmeShellIT {
  private static final String JAR = "samples/target/ei4j-samples.jar";

  @TempDir Path home;
  @TempDir Path work;

  @Test
  void tlsSection() throws Exception {
    List<Step> steps = run(section("## TLS\n"));
    assertTrue(steps.stream().anyMatch(s -> s.command.get(0).equals("java") && s.command.contains("tls-setup")), steps.toString());
    assertTrue(Files.exists(work.resolve("tls/dist.conf")));
  }

  @Test
  void afUnixSection() throws Exception {
    run(section("## AF_UNIX\n"));
  }

  /** One command with the output the README shows for it. */
  record Step(List<String> command, List<String> shell, List<String> expected) {}

  /** The section's code blocks from its heading to the next heading of the same level. */
  private static String section(String heading) throws Exception {
    String readme = Files.readString(SampleProcess.repoRoot().resolve("README.md"));
    int start = readme.indexOf(heading);
    assertTrue(start >= 0, "README.md has no " + heading.trim());
    int end = readme.indexOf("\n## ", start + heading.length());
    return readme.substring(start, end < 0 ? readme.length() : end);
  }

  private static List<Step> parse(String section) {
    List<Step> steps = new ArrayList<>();
    boolean inBlock = false;
    Step current = null; // the block's last command: a block without one (a file's text) is skipped
    List<String> lines = section.lines().toList();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.startsWith("```")) {
        inBlock = !inBlock && line.equals("```");
        current = null;
        continue;
      }
      if (!inBlock) {
        continue;
      }
      if (line.startsWith("$ ")) {
        StringBuilder cmd = new StringBuilder(line.substring(2));
        while (cmd.toString().endsWith("\\")) {
          cmd.setLength(cmd.length() - 1);
          cmd.append(' ').append(lines.get(++i).trim());
        }
        current = new Step(words(cmd.toString().replace("HOST", ErlangPeer.shortHostName())), new ArrayList<>(), new ArrayList<>());
        steps.add(current);
      } else if (current == null) {
        continue;
      } else if (line.matches("\\d+> .*")) {
        current.shell().add(line.substring(line.indexOf("> ") + 2).replace("HOST", ErlangPeer.shortHostName()));
      } else {
        current.expected().add(line.replace("HOST", ErlangPeer.shortHostName()));
      }
    }
    return steps;
  }

  /** Shell words: blanks separate them, single quotes keep them together. */
  private static List<String> words(String cmd) {
    List<String> words = new ArrayList<>();
    StringBuilder w = null;
    boolean quoted = false;
    for (char c : cmd.toCharArray()) {
      if (c == '\'') {
        quoted = !quoted;
        w = w == null ? new StringBuilder() : w;
      } else if (Character.isWhitespace(c) && !quoted) {
        if (w != null) {
          words.add(w.toString());
          w = null;
        }
      } else {
        w = w == null ? new StringBuilder() : w;
        w.append(c);
      }
    }
    if (w != null) {
      words.add(w.toString());
    }
    return words;
  }

  private List<Step> run(String section) throws Exception {
    List<Step> steps = parse(section);
    assertTrue(!steps.isEmpty(), "no shell commands in " + section);
    String epmdPort = Integer.toString(ReadmeQuickStartIT.freePort());
    List<AutoCloseable> running = new ArrayList<>();
    try {
      for (Step step : steps) {
        List<String> cmd = step.command();
        if (cmd.get(0).equals("java")) {
          assertEquals(List.of("java", "-jar", JAR), cmd.subList(0, 3), "a samples command: " + cmd);
          SampleProcess p = SampleProcess.builder(cmd.subList(3, cmd.size()).toArray(String[]::new))
              .env("HOME", home.toString()).env("ERL_EPMD_PORT", epmdPort).workDir(work).start();
          if (cmd.get(3).endsWith("-server")) {
            running.add(p);
            p.awaitReady();
          } else {
            assertEquals(0, p.awaitExit(Duration.ofSeconds(60)), cmd + ": " + p.errText());
            if (!step.expected().isEmpty()) {
              assertEquals(step.expected(), p.out(), cmd.toString());
            }
          }
        } else if (cmd.get(0).equals("erl")) {
          assertEquals(1, step.shell().size(), "one shell line after " + cmd);
          String expr = step.shell().get(0).replaceAll("\\.\\s*$", "");
          ErlangPeer.Builder b = ErlangPeer.builder()
              .args(cmd.subList(1, cmd.size()).toArray(String[]::new))
              .env("HOME", home.toString()).env("ERL_EPMD_PORT", epmdPort).env("ERL_CRASH_DUMP_SECONDS", "0")
              .workDir(work).ensureEpmd(false)
              .eval("R = begin " + expr + " end, io:format(\"~p~n\", [R])")
              .readyLine("^" + Pattern.quote(step.expected().get(0)) + "$")
              .readyTimeout(Duration.ofSeconds(60));
          running.add(b.start());
        } else {
          Process p = new ProcessBuilder("bash", "-c", String.join(" ", cmd)).directory(work.toFile())
              .redirectErrorStream(true).start();
          String out = new String(p.getInputStream().readAllBytes());
          assertTrue(p.waitFor(60, TimeUnit.SECONDS), cmd.toString());
          assertEquals(0, p.exitValue(), cmd + ": " + out);
        }
      }
    } finally {
      for (int i = running.size() - 1; i >= 0; i--) {
        running.get(i).close();
      }
    }
    return steps;
  }
}
