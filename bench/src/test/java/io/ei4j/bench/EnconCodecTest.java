package io.ei4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.ei4j.term.ErlTerm;
import io.ei4j.term.TermDecoder;
import io.ei4j.term.TermEncoder;
import org.junit.jupiter.api.Test;

/**
 * The encon-java side of the codec benchmarks holds the same terms as ei4j: every corpus
 * term it can decode survives ei4j encode, encon decode, encon encode, ei4j decode, and
 * encoding into the reused buffer writes as many bytes as a fresh encoding. encon 1.6.10
 * cannot decode {@code bigints} (it reads a {@code SMALL_BIG_EXT} length byte as signed,
 * so integers of 128 bytes and more fail): that term is benchmarked without encon, and
 * this test notices when a newer encon can decode it.
 */
class EnconCodecTest {
  @Test
  void enconHoldsEveryCorpusTermAsEi4jDoes() throws Exception {
    ForeignCodec codec = new EnconCodec();
    for (String name : Corpus.NAMES) {
      ErlTerm term = Corpus.term(name);
      if (!EnconCodec.holds(name)) {
        assertThrows(RuntimeException.class, () -> codec.decode(TermEncoder.toBytes(term)), name);
        continue;
      }
      Object theirs = codec.decode(TermEncoder.toBytes(term));
      byte[] back = codec.encodeToBytes(theirs);
      assertEquals(term, new TermDecoder().decode(back), name);
      assertEquals(back.length, codec.encode(theirs), name);
      assertEquals(back.length, codec.encode(theirs), name + ", second time into the reused buffer");
    }
  }
}
