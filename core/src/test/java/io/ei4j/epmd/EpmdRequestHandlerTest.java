package io.ei4j.epmd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.ei4j.epmd.EpmdRequestHandler.Action;
import io.ei4j.epmd.EpmdRequestHandler.Outcome;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** What each request does, decided without a socket. */
class EpmdRequestHandlerTest {
  private static final byte[] ALIVE2 = {'x', 0x12, 0x34, 77, 0, 0, 6, 0, 5, 0, 2, 'a', 'b', 0, 0};
  private static final BooleanSupplier LOCAL = () -> true;
  private static final BooleanSupplier REMOTE = () -> false;
  /** For requests epmd answers from anywhere: asking where the client is would be a bug. */
  private static final BooleanSupplier NOT_ASKED = () -> {
    throw new AssertionError("the client's address was asked for");
  };

  private final EpmdRegistry registry = new EpmdRegistry();
  private final EpmdRequestHandler handler = new EpmdRequestHandler(registry, false);

  @Test
  void registrationKeepsTheConnectionAndIsReleasedByIt() {
    Outcome o = handler.handle(ALIVE2, LOCAL, 7);
    assertEquals(Action.REPLY_AND_KEEP, o.action());
    assertSame(registry.lookup("ab"), o.registered());
    assertEquals(7, o.registered().connectionId);
    Outcome taken = handler.handle(ALIVE2, LOCAL, 8);
    assertEquals(Action.REPLY_AND_CLOSE, taken.action());
    assertArrayEquals(new byte[] {'v', 1, 0, 0, 0, 99}, taken.reply());
    handler.release(o.registered());
    assertEquals(Action.REPLY_AND_CLOSE, handler.handle(new byte[] {'z', 'a', 'b'}, NOT_ASKED, 9).action());
    assertArrayEquals(new byte[] {'w', 1}, handler.handle(new byte[] {'z', 'a', 'b'}, NOT_ASKED, 9).reply());
  }

  @Test
  void localOnlyRequestsFromElsewhereAreDroppedOthersAnswered() {
    for (byte[] req : new byte[][] {ALIVE2, {'d'}, {'k'}}) {
      Outcome o = handler.handle(req, REMOTE, 1);
      assertEquals(Action.DROP, o.action());
      assertEquals(((char) req[0] == 'x' ? "ALIVE2_REQ" : (char) req[0] == 'd' ? "DUMP_REQ" : "KILL_REQ")
          + " from a remote address", o.reason());
    }
    assertEquals(Action.REPLY_AND_CLOSE, handler.handle(new byte[] {'n'}, NOT_ASKED, 1).action());
    assertEquals(Action.DROP, handler.handle(new byte[] {'s'}, NOT_ASKED, 1).action());
    assertEquals("unknown request 'q' (113)", handler.handle(new byte[] {'q'}, NOT_ASKED, 1).reason());
  }

  @Test
  void killIsAnsweredNoUntilAllowed() {
    Outcome no = handler.handle(new byte[] {'k'}, LOCAL, 1);
    assertEquals(Action.REPLY_AND_CLOSE, no.action());
    assertArrayEquals("NO".getBytes(StandardCharsets.US_ASCII), no.reply());
    handler.allowKill(true);
    Outcome ok = handler.handle(new byte[] {'k'}, LOCAL, 1);
    assertEquals(Action.REPLY_AND_STOP, ok.action());
    assertArrayEquals("OK".getBytes(StandardCharsets.US_ASCII), ok.reply());
  }
}
