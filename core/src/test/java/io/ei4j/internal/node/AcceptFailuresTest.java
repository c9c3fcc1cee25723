package io.ei4j.internal.node;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import org.junit.jupiter.api.Test;

class AcceptFailuresTest {
  @Test
  void theFailureOfOneIncomingConnectionNeverPausesTheLoop() {
    for (Errno e : new Errno[] {Errno.EPROTO, Errno.ECONNRESET, Errno.ECONNABORTED, Errno.EIO, Errno.ETIMEDOUT}) {
      assertFalse(AcceptFailures.shouldPause(new ErrnoException(e, "TLS handshake with /127.0.0.1:1 failed")), e.name());
    }
  }

  @Test
  void aShortageOfDescriptorsOrMemoryOrABugPausesIt() {
    for (Errno e : new Errno[] {Errno.EMFILE, Errno.ENOMEM, Errno.ENOBUFS}) {
      assertTrue(AcceptFailures.shouldPause(new ErrnoException(e, "accept")), e.name());
    }
    assertTrue(AcceptFailures.shouldPause(new IllegalStateException("a bug")));
  }
}
