package io.ei4j.samples;

import static io.ei4j.samples.ErlangSide.ask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.testkit.ErlangPeer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code --epmd auto}: the first server on a free EPMD port starts an embedded EPMD, the
 * second finds it and publishes there, and a real {@code erl} reaches both through it;
 * {@code embedded} on a taken port and {@code external} on a silent one fail clearly.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class EpmdModesIT {
  private static final String COOKIE = "samples_epmd_modes";

  @Test
  void autoStartsOneEmbeddedEpmdThatTheNextServerAndErlUse() throws Exception {
    String port = Integer.toString(ReadmeQuickStartIT.freePort());
    try (SampleProcess first = SampleProcess.builder("cnode-server", "--name", ErlangPeer.uniqueName("auto1"),
        "--cookie", COOKIE).env("ERL_EPMD_PORT", port).start()) {
      String cnode = first.awaitReady();
      first.awaitErr("started an embedded EPMD on port " + port, Duration.ofSeconds(1));
      try (SampleProcess second = SampleProcess.start("echo-server", "--name", ErlangPeer.uniqueName("auto2"),
          "--cookie", COOKIE, "--epmd", "auto", "--epmd-port", port)) {
        String echo = second.awaitReady();
        assertFalse(second.errText().contains("embedded EPMD"), second.errText());

        SampleProcess taken = SampleProcess.run("echo-server", "--cookie", COOKIE, "--epmd", "embedded",
            "--epmd-port", port);
        assertEquals(1, taken.exitValue());
        assertTrue(taken.errText().contains("port " + port + " is taken"), taken.errText());

        try (ErlangPeer erl = ErlangSide.peer(ErlangPeer.uniqueName("eauto"), COOKIE)
            .env("ERL_EPMD_PORT", port).start()) {
          assertEquals("reply {cnode,8}", ask(erl, "call " + cnode + " cnode foo 7", "^reply .*"));
          assertTrue(ask(erl, "echo " + echo + " {x, \"y\"}", "^echo .*").startsWith("echo true"));
        }
      }
    }
  }

  @Test
  void externalWithoutAnEpmdFails() throws Exception {
    SampleProcess p = SampleProcess.run("cnode-server", "--cookie", COOKIE, "--epmd", "external",
        "--epmd-port", Integer.toString(ReadmeQuickStartIT.freePort()));
    assertEquals(1, p.exitValue());
    assertTrue(p.errText().contains("no EPMD answers"), p.errText());
    assertEquals("", p.outText());
  }
}
