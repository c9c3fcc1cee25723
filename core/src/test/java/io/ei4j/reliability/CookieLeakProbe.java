package io.ei4j.reliability;

import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiNode;
import io.ei4j.internal.dist.Cookies;
import io.ei4j.testkit.ErlangPeer;
import io.ei4j.transport.tcp.TcpTransport;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Run in a child JVM by {@link CookieSecrecyTest} with every logger at TRACE: performs
 * handshakes that fail in every way a cookie can make them fail, against Java nodes and a
 * real {@code erl}, and prints every exception with its full stack trace and every
 * object's {@code toString()}, so that the parent can scan all of it for the cookies.
 *
 * <p>Arguments: the Java node's cookie, the other side's (wrong) cookie.
 */
public final class CookieLeakProbe {
  private CookieLeakProbe() {}

  public static void main(String[] args) throws Exception {
    String ours = args[0];
    String theirs = args[1];
    PrintStream out = System.out;
    TcpTransport tcp = TcpTransport.create();
    String host = ErlangPeer.shortHostName();
    int failures = 0;
    try (EiNode node = EiNode.builder(ErlangPeer.uniqueName("secret") + "@" + host).cookie(ours).transport(tcp).build();
        EiNode wrong = EiNode.builder(ErlangPeer.uniqueName("wrong") + "@" + host).cookie(theirs).transport(tcp).build()) {
      EiListener l = node.listen(new InetSocketAddress(0), 16);
      int port = ((InetSocketAddress) l.address()).getPort();
      out.println("objects: " + node + " " + wrong + " " + l);
      // Java to Java, wrong cookie, both sides.
      for (int i = 0; i < 3; i++) {
        CompletableFuture<EiConnection> accepted = CompletableFuture.supplyAsync(() -> {
          try {
            return l.accept(10_000);
          } catch (IOException e) {
            throw new java.util.concurrent.CompletionException(e);
          }
        });
        try {
          wrong.connect(new InetSocketAddress("127.0.0.1", port), 10_000).close();
          out.println("UNEXPECTED: wrong cookie connected");
        } catch (IOException e) {
          failures++;
          e.printStackTrace(out);
        }
        try {
          accepted.get(15, TimeUnit.SECONDS).close();
          out.println("UNEXPECTED: wrong cookie accepted");
        } catch (Exception e) {
          failures++;
          e.printStackTrace(out);
        }
      }
      // A real erl with the other cookie, both directions.
      node.publish(port);
      try (ErlangPeer erl = ErlangPeer.builder().sname(ErlangPeer.uniqueName("leaky")).cookie(theirs)
          .eval("io:format(\"ping ~p~n\", [net_adm:ping('" + node.nodeName() + "')])")
          .readyLine("^ping ").readyTimeout(Duration.ofSeconds(30)).start()) {
        try {
          l.accept(10_000).close();
          out.println("UNEXPECTED: erl with the wrong cookie accepted");
        } catch (IOException e) {
          failures++;
          e.printStackTrace(out);
        }
        try {
          node.connect(erl.nodeName(), 10_000).close();
          out.println("UNEXPECTED: connected to erl with the wrong cookie");
        } catch (IOException e) {
          failures++;
          e.printStackTrace(out);
        }
        out.println("erl said: " + erl.output());
      }
      // A cookie file readable by others is refused without quoting it.
      Path dir = Files.createTempDirectory("ei4j-cookie");
      Path file = dir.resolve(".erlang.cookie");
      Files.writeString(file, ours + "\n", StandardCharsets.ISO_8859_1);
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
      try {
        Cookies.read(file);
        out.println("UNEXPECTED: a world-readable cookie file was accepted");
      } catch (IOException e) {
        failures++;
        e.printStackTrace(out);
      }
      Files.delete(file);
      Files.delete(dir);
    }
    out.println("failures " + failures);
  }
}
