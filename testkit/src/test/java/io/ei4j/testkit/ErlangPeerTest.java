package io.ei4j.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ErlangPeerTest {
  @TempDir Path tmp;

  @Test
  void compilesAndRunsAModule() {
    Path ebin = ErlangPeer.compile(tmp, "kit_probe",
        "-module(kit_probe).\n-export([go/0]).\ngo() -> io:format(\"sum ~p~n\", [lists:sum([1,2,3])]).\n");
    assertTrue(Files.exists(ebin.resolve("kit_probe.beam")));
    try (ErlangPeer peer = ErlangPeer.builder().codePath(ebin)
        .eval("kit_probe:go(), halt().").start()) {
      assertEquals("sum 6", peer.awaitLine("^sum", Duration.ofSeconds(20)));
      assertEquals(0, peer.awaitExit(Duration.ofSeconds(20)));
    }
  }

  @Test
  void distributedNodeGetsItsNameAndStops() {
    String alive = ErlangPeer.uniqueName("kit");
    ErlangPeer peer = ErlangPeer.builder().sname(alive).cookie("kitcookie")
        .eval("io:format(\"node ~s~n\", [node()]).").readyLine("^node ").start();
    try {
      assertEquals("node " + peer.nodeName(), peer.awaitLine("^node ", Duration.ofSeconds(5)));
      assertEquals(alive, peer.alive());
    } finally {
      peer.close();
    }
    assertFalse(peer.isAlive());
  }

  @Test
  void compileErrorsFailWithCompilerOutput() {
    AssertionError e = assertThrows(AssertionError.class,
        () -> ErlangPeer.compile(tmp, "broken", "-module(broken).\nfoo( ->\n"));
    assertTrue(e.getMessage().contains("broken.erl"), e.getMessage());
  }

  @Test
  void findsOtpApplicationDirectories() {
    assertTrue(Files.isRegularFile(ErlangPeer.libDir("erl_interface").resolve("include/ei.h")));
  }
}
