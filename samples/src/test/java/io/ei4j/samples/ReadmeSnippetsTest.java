package io.ei4j.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * README.md's Java code blocks are exactly the marked regions of {@code ReadmeExamples}
 * and {@code PlainTcpTransport}, in order: so every Java snippet in the README compiles
 * (it is test code of this module), and {@code ReadmeExamplesIT} runs them against
 * Erlang.
 */
class ReadmeSnippetsTest {
  private static final String BEGIN = "// README:begin";
  private static final String END = "// README:end";

  static Path readme() {
    return Path.of(System.getProperty("ei4j.readme", "../README.md"));
  }

  /** The bodies of the ```java blocks of a Markdown text, in order. */
  static List<String> javaBlocks(String markdown) {
    List<String> blocks = new ArrayList<>();
    String[] lines = markdown.split("\n", -1);
    StringBuilder current = null;
    for (String line : lines) {
      if (current == null) {
        if (line.strip().equals("```java")) {
          current = new StringBuilder();
        }
      } else if (line.strip().equals("```")) {
        blocks.add(current.toString());
        current = null;
      } else {
        current.append(line).append('\n');
      }
    }
    assertTrue(current == null, "a ```java block is not closed");
    return blocks;
  }

  /** The marked regions of a source file, each de-indented by its marker's indentation. */
  static List<String> regions(Path source) throws IOException {
    List<String> regions = new ArrayList<>();
    StringBuilder current = null;
    int indent = 0;
    for (String line : Files.readAllLines(source)) {
      String s = line.strip();
      if (s.startsWith(BEGIN)) {
        assertTrue(current == null, "nested README region in " + source);
        current = new StringBuilder();
        indent = line.indexOf('/');
      } else if (s.equals(END)) {
        assertTrue(current != null, "README:end without begin in " + source);
        regions.add(current.toString());
        current = null;
      } else if (current != null) {
        assertTrue(line.isBlank() || line.substring(0, Math.min(indent, line.length())).isBlank(),
            "line less indented than its README marker in " + source + ": " + line);
        current.append(line.length() >= indent ? line.substring(indent) : "").append('\n');
      }
    }
    assertTrue(current == null, "README region not closed in " + source);
    return regions;
  }

  @Test
  void everyJavaSnippetOfTheReadmeIsCompiledTestCode() throws IOException {
    Path dir = Path.of("src/test/java/io/ei4j/samples");
    List<String> expected = new ArrayList<>(regions(dir.resolve("ReadmeExamples.java")));
    // The transport example goes after the imports, connect, send/receive, server, raw and node ones.
    expected.add(6, regions(dir.resolve("PlainTcpTransport.java")).get(0));
    List<String> actual = javaBlocks(Files.readString(readme()));
    assertFalse(actual.isEmpty(), "README.md has no ```java blocks");
    assertEquals(expected.size(), actual.size(), "number of Java snippets in README.md");
    for (int i = 0; i < expected.size(); i++) {
      assertEquals(expected.get(i), actual.get(i), "README.md Java snippet #" + (i + 1));
    }
  }

  @Test
  void theBomSnippetNamesTheBomAndItsArtifacts() throws IOException {
    String readme = Files.readString(readme());
    String bom = Files.readString(Path.of("../bom/pom.xml"));
    String version = bom.substring(bom.indexOf("<version>") + 9, bom.indexOf("</version>"));
    assertTrue(readme.contains("<artifactId>ei4j-bom</artifactId>\n      <version>" + version + "</version>"),
        "README's BOM import does not name ei4j-bom " + version);
    for (String artifact : List.of("ei4j-core", "ei4j-transport-tcp")) {
      assertTrue(readme.contains("<artifactId>" + artifact + "</artifactId>"), artifact);
      assertTrue(bom.contains("<artifactId>" + artifact + "</artifactId>"), "the BOM lacks " + artifact);
    }
  }

  @Test
  void quickStartHasTheTwoCommands() throws IOException {
    String readme = Files.readString(readme());
    assertTrue(readme.contains("\nmvn -q -DskipTests package && java -jar samples/target/ei4j-samples.jar cnode-server --epmd auto\n"),
        "the Quick start's first command changed: ReadmeQuickStartIT runs it");
    assertTrue(readme.contains("\nmvn -B -ntp verify\n"), ".ci/run runs exactly 'mvn -B -ntp verify'");
  }
}
