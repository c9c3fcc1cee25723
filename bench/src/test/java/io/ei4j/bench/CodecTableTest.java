package io.ei4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's codec table from JMH's CSV format. */
class CodecTableTest {
  private static final String HEADER =
      "\"Benchmark\",\"Mode\",\"Threads\",\"Samples\",\"Score\",\"Score Error (99.9%)\",\"Unit\",\"Param: term\"";

  private static String row(String bench, double score, String term) {
    return "\"io.ei4j.bench.CodecBenchmark." + bench + "\",\"thrpt\",1,3," + score + ",1.0,\"ops/s\"," + term;
  }

  @Test
  void ratiosAndAllocationsPerTerm() {
    String t = CodecTable.table(List.of(HEADER,
        row("ei4jEncode", 3000, "control"), row("jinterfaceEncode", 1000, "control"),
        row("ei4jDecode", 500, "control"), row("jinterfaceDecode", 1000, "control"),
        row("ei4jEncode:gc.alloc.rate.norm", 0.001, "control"),
        row("jinterfaceEncode:gc.alloc.rate.norm", 64, "control")));
    assertTrue(t.contains("| control | 3,000 | 1,000 | 3.00x | 500 | 1,000 | 0.50x | 0 / 64 | - / - | met, MISSED |"), t);
    assertTrue(t.contains("| deep | - | - | - |"), t);
    assertTrue(t.contains("| - / - | -, - |"), t);
  }

  @Test
  void enconTableOnlyWhenEnconWasRun() {
    String without = CodecTable.table(List.of(HEADER, row("ei4jEncode", 3000, "control")));
    assertTrue(!without.contains("encon"), without);
    String t = CodecTable.table(List.of(HEADER,
        row("ei4jEncode", 3000, "control"), row("enconEncode", 1000, "control"),
        row("ei4jDecode", 500, "control"), row("enconDecode", 250, "control"),
        row("enconDecode:gc.alloc.rate.norm", 680, "control")));
    assertTrue(t.contains("| control | 3,000 | 1,000 | 3.00x | 500 | 250 | 2.00x | - | 680 |"), t);
    assertTrue(t.contains("| bigints | - | - | - |"), t);
  }

  @Test
  void quotedFieldsAndBadHeaders() {
    assertEquals(List.of("a,b", "c", "say \"hi\""), CodecTable.fields("\"a,b\",c,\"say \"\"hi\"\"\""));
    assertThrows(IllegalArgumentException.class, () -> CodecTable.table(List.of("x,y")));
  }
}
