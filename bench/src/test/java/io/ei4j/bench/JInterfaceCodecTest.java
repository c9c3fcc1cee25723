package io.ei4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ei4j.term.ErlTerm;
import io.ei4j.term.TermDecoder;
import io.ei4j.term.TermEncoder;
import org.junit.jupiter.api.Test;

/**
 * The JInterface side of the codec benchmarks, compiled at run time against the installed
 * {@code OtpErlang.jar}, holds the same terms as ei4j: every corpus term survives
 * ei4j encode, JInterface decode, JInterface encode, ei4j decode, and encoding into the
 * reused stream writes as many bytes as a fresh encoding.
 */
class JInterfaceCodecTest {
  @Test
  void jinterfaceHoldsEveryCorpusTermAsEi4jDoes() throws Exception {
    ForeignCodec codec = JInterface.codec();
    for (String name : Corpus.NAMES) {
      ErlTerm term = Corpus.term(name);
      Object theirs = codec.decode(TermEncoder.toBytes(term));
      byte[] back = codec.encodeToBytes(theirs);
      assertEquals(term, new TermDecoder().decode(back), name);
      assertEquals(back.length, codec.encode(theirs), name);
      assertEquals(back.length, codec.encode(theirs), name + ", second time into the reused stream");
    }
  }
}
