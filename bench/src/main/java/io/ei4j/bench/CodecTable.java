package io.ei4j.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the CSV that JMH writes for {@link CodecBenchmark} ({@code -rf csv -rff FILE},
 * with {@code -prof gc}) into the Markdown table of the README: ops/s of ei4j and
 * JInterface for encode and decode per corpus term, their ratios, bytes allocated per
 * operation, and whether the 3x target was met; then, when the CSV has
 * {@link CodecBenchmark#ei4jDecodeShared} results, a second table of decoding with binaries
 * shared with the input.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.ei4j.bench.CodecTable codec.csv</pre>
 */
public final class CodecTable {
  /** The target: ei4j at least 3x JInterface's ops/s, encode and decode, every term. */
  static final double TARGET = 3.0;
  private static final String PREFIX = CodecBenchmark.class.getName() + ".";

  private CodecTable() {}

  /** Prints the table for the JMH CSV file named by the only argument. */
  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: CodecTable JMH_RESULT.csv");
      System.exit(2);
    }
    System.out.print(table(Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8)));
  }

  /**
   * The Markdown table for JMH's CSV lines (header first). A score that is missing shows as
   * {@code -}.
   *
   * @throws IllegalArgumentException when the header lacks JMH's columns
   */
  static String table(List<String> csvLines) {
    if (csvLines.isEmpty()) {
      throw new IllegalArgumentException("empty JMH result file");
    }
    List<String> header = fields(csvLines.get(0));
    int benchmark = header.indexOf("Benchmark");
    int score = header.indexOf("Score");
    int param = header.indexOf("Param: term");
    if (benchmark < 0 || score < 0 || param < 0) {
      throw new IllegalArgumentException("not a JMH CSV of CodecBenchmark: header " + header);
    }
    Map<String, Double> scores = new HashMap<>();
    for (String line : csvLines.subList(1, csvLines.size())) {
      if (line.isBlank()) {
        continue;
      }
      List<String> f = fields(line);
      String name = f.get(benchmark).startsWith(PREFIX) ? f.get(benchmark).substring(PREFIX.length()) : f.get(benchmark);
      scores.put(name + "/" + f.get(param), Double.parseDouble(f.get(score)));
    }
    StringBuilder sb = new StringBuilder();
    sb.append("| term | encode ei4j ops/s | encode JInterface ops/s | encode ratio | decode ei4j ops/s | decode JInterface ops/s | decode ratio | B/op encode ei4j / JInterface | B/op decode ei4j / JInterface | 3x target (enc, dec) |\n");
    sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (String term : Corpus.NAMES) {
      double ee = get(scores, "ei4jEncode", term);
      double je = get(scores, "jinterfaceEncode", term);
      double ed = get(scores, "ei4jDecode", term);
      double jd = get(scores, "jinterfaceDecode", term);
      sb.append("| ").append(term)
          .append(" | ").append(ops(ee)).append(" | ").append(ops(je)).append(" | ").append(Report.ratio(ee, je))
          .append(" | ").append(ops(ed)).append(" | ").append(ops(jd)).append(" | ").append(Report.ratio(ed, jd))
          .append(" | ").append(bytes(get(scores, "ei4jEncode:gc.alloc.rate.norm", term))).append(" / ")
          .append(bytes(get(scores, "jinterfaceEncode:gc.alloc.rate.norm", term)))
          .append(" | ").append(bytes(get(scores, "ei4jDecode:gc.alloc.rate.norm", term))).append(" / ")
          .append(bytes(get(scores, "jinterfaceDecode:gc.alloc.rate.norm", term)))
          .append(" | ").append(verdict(ee, je)).append(", ").append(verdict(ed, jd)).append(" |\n");
    }
    if (scores.keySet().stream().anyMatch(k -> k.startsWith("ei4jDecodeShared/"))) {
      sb.append("\nDecoding with binaries shared with the input (`TermDecoder.sharingBinaries()`, ")
          .append("a connection's mode for frames larger than its read buffer):\n\n");
      sb.append("| term | decode ei4j shared ops/s | decode JInterface ops/s | ratio | B/op ei4j shared |\n");
      sb.append("|---|---:|---:|---:|---:|\n");
      for (String term : Corpus.NAMES) {
        double es = get(scores, "ei4jDecodeShared", term);
        double jd = get(scores, "jinterfaceDecode", term);
        sb.append("| ").append(term).append(" | ").append(ops(es)).append(" | ").append(ops(jd))
            .append(" | ").append(Report.ratio(es, jd))
            .append(" | ").append(bytes(get(scores, "ei4jDecodeShared:gc.alloc.rate.norm", term))).append(" |\n");
      }
    }
    if (scores.keySet().stream().anyMatch(k -> k.startsWith("enconEncode/") || k.startsWith("enconDecode/"))) {
      sb.append("\nAgainst encon-java 1.6.10 (its terms; `-` where it cannot decode the term):\n\n");
      sb.append("| term | encode ei4j ops/s | encode encon ops/s | encode ratio | decode ei4j ops/s | decode encon ops/s | decode ratio | B/op encode encon | B/op decode encon |\n");
      sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      for (String term : Corpus.NAMES) {
        double ee = get(scores, "ei4jEncode", term);
        double ne = get(scores, "enconEncode", term);
        double ed = get(scores, "ei4jDecode", term);
        double nd = get(scores, "enconDecode", term);
        sb.append("| ").append(term)
            .append(" | ").append(ops(ee)).append(" | ").append(ops(ne)).append(" | ").append(Report.ratio(ee, ne))
            .append(" | ").append(ops(ed)).append(" | ").append(ops(nd)).append(" | ").append(Report.ratio(ed, nd))
            .append(" | ").append(bytes(get(scores, "enconEncode:gc.alloc.rate.norm", term)))
            .append(" | ").append(bytes(get(scores, "enconDecode:gc.alloc.rate.norm", term))).append(" |\n");
      }
    }
    return sb.toString();
  }

  /** Whether ei4j reached the target of 3x JInterface's ops/s. */
  static String verdict(double ei4j, double jinterface) {
    double r = ei4j / jinterface;
    return Double.isNaN(r) ? "-" : r >= TARGET ? "met" : "MISSED";
  }

  private static double get(Map<String, Double> scores, String benchmark, String term) {
    return scores.getOrDefault(benchmark + "/" + term, Double.NaN);
  }

  private static String ops(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%,.0f", v);
  }

  private static String bytes(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%,.0f", v);
  }

  /** The fields of one CSV line as JMH writes it: comma-separated, some double-quoted. */
  static List<String> fields(String line) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '"') {
        if (quoted && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          cur.append('"');
          i++;
        } else {
          quoted = !quoted;
        }
      } else if (c == ',' && !quoted) {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    out.add(cur.toString());
    return out;
  }
}
