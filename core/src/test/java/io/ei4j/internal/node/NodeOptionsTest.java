package io.ei4j.internal.node;

import io.ei4j.connect.BudgetPolicy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.ei4j.connect.EiNode;
import io.ei4j.term.DecodeLimits;
import org.junit.jupiter.api.Test;

class NodeOptionsTest {
  @Test
  void defaultsAreThoseBothBuildersDocument() {
    NodeOptions d = NodeOptions.DEFAULTS;
    assertNull(d.cookie());
    assertNull(d.creation());
    assertNull(d.transport());
    assertEquals(EiNode.DEFAULT_TICK_TIME_MILLIS, d.tickTimeMillis());
    assertEquals(EiNode.DEFAULT_MAX_MESSAGE_BYTES, d.maxMessageBytes());
    assertEquals(DecodeLimits.DEFAULT, d.decodeLimits());
    assertEquals(Integer.MAX_VALUE, d.maxQueueLength());
  }

  @Test
  void eachWithChangesItsOwnOptionOnly() {
    NodeOptions o = NodeOptions.DEFAULTS.withCookie("c").withCreation(7).withTickTimeMillis(1_000).withSendTimeoutMillis(5)
        .withMaxMessageBytes(4096).withMaxQueueLength(3);
    assertEquals(new NodeOptions("c", 7, null, null, null, 1_000, 5, 4096, DecodeLimits.DEFAULT, 3, 0, BudgetPolicy.PAUSE, null), o);
  }

  @Test
  void toStringNeverShowsTheCookie() {
    String s = NodeOptions.DEFAULTS.withCookie("s3cr3t-cookie").toString();
    assertFalse(s.contains("s3cr3t-cookie"), s);
  }
}
