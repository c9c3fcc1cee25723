package io.ei4j.reliability;

import io.ei4j.connect.EiNode;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Real Erlang nodes running {@code ei4j_rel.erl} (a sequence-checking sink and a flooder), and Java nodes to meet them. */
final class ErlangRel {
  private static Path ebin;

  private ErlangRel() {}

  static synchronized Path ebin() {
    if (ebin == null) {
      try {
        ebin = ErlangPeer.compileResource(ErlangRel.class, "ei4j_rel.erl", Files.createTempDirectory("ei4j-rel"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return ebin;
  }

  /** An {@code erl -sname} with the sink and the flooder running. */
  static ErlangPeer start(String cookie, String... args) {
    return ErlangPeer.builder().sname(ErlangPeer.uniqueName("rel")).cookie(cookie).codePath(ebin())
        .args(args).eval("ei4j_rel:start()").readyLine("^ready").start();
  }

  /** A Java node on this host with {@code cookie} and tick time. */
  static EiNode javaNode(String cookie, long tickMillis) throws IOException {
    return EiNode.builder(ErlangPeer.uniqueName("java") + "@" + ErlangPeer.shortHostName()).cookie(cookie)
        .transport(TcpTransport.create()).tickTimeMillis(tickMillis).build();
  }
}
