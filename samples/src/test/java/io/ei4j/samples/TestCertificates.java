package io.ei4j.samples;

import io.ei4j.testkit.pki.TestPki;
import java.nio.file.Path;
import java.util.List;

/**
 * A CA and one node certificate for the TLS runs, made with testkit's {@link TestPki} when a
 * test starts and written as the PEM files the README's {@code ssl_dist_optfile} names
 * ({@code ca.pem}, {@code node.pem}, {@code node.key}). The node certificate names
 * {@code localhost}, this host's short name and {@code 127.0.0.1}, so Java and Erlang nodes
 * share it.
 */
record TestCertificates(Path ca, Path cert, Path key) {

  static TestCertificates create(Path dir) {
    TestPki pki = new TestPki(dir);
    TestPki.Issued ca = pki.ca("ca");
    TestPki.Issued node = pki.node("node", ca);
    return new TestCertificates(ca.certFile(), node.certFile(), node.keyFile());
  }

  /** The TLS options of the samples jar for these files. */
  List<String> options() {
    return List.of("--transport", "tls", "--cert", cert.toString(), "--key", key.toString(), "--cacert", ca.toString());
  }
}
