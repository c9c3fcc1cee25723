package io.ei4j.epmd;

import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an {@link EmbeddedEpmd} does with one whole request: checks where it came from,
 * updates the {@link EpmdRegistry}, and says what to answer and what then becomes of the
 * connection. It never touches a socket; {@link EpmdSelectorLoop} carries the outcome out.
 * Called on the loop thread only, except {@link #allowKill(boolean)}.
 */
final class EpmdRequestHandler {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedEpmd.class);

  /** What becomes of the connection after a request. */
  enum Action {
    /** Write the reply, then close. */
    REPLY_AND_CLOSE,
    /** Write the reply and keep the connection: it now holds {@link Outcome#registered}. */
    REPLY_AND_KEEP,
    /** Write the reply, close, then stop the whole server (a permitted KILL_REQ). */
    REPLY_AND_STOP,
    /** Close without an answer; {@link Outcome#reason} says why. */
    DROP
  }

  /**
   * The handler's decision.
   *
   * @param reply the bytes to write; null for {@link Action#DROP}
   * @param registered the registration the connection now holds, for
   *     {@link Action#REPLY_AND_KEEP}
   * @param reason why the connection is dropped, for {@link Action#DROP}
   */
  record Outcome(Action action, byte[] reply, EpmdRegistry.Entry registered, String reason) {
    static Outcome close(byte[] reply) {
      return new Outcome(Action.REPLY_AND_CLOSE, reply, null, null);
    }

    static Outcome drop(String reason) {
      return new Outcome(Action.DROP, null, null, reason);
    }
  }

  private final EpmdRegistry registry;
  private volatile boolean allowKill;
  /** The server's port, as NAMES and DUMP answers start with it. */
  private int port;

  EpmdRequestHandler(EpmdRegistry registry, boolean allowKill) {
    this.registry = registry;
    this.allowKill = allowKill;
  }

  /** Sets the port that answers report, once it is bound. */
  void port(int port) {
    this.port = port;
  }

  void allowKill(boolean allow) {
    this.allowKill = allow;
  }

  /**
   * Handles one request body (tag first).
   *
   * @param isLocal whether the client is on this machine; asked only for the requests
   *     {@code epmd} restricts to local clients (ALIVE2, DUMP, KILL, STOP)
   * @param connectionId the connection's number, which a registration keeps for DUMP
   */
  Outcome handle(byte[] req, BooleanSupplier isLocal, long connectionId) {
    int tag = req[0] & 0xFF;
    switch (tag) {
      case EpmdWire.ALIVE2_REQ:
        if (!isLocal.getAsBoolean()) {
          return remote("ALIVE2_REQ");
        }
        return alive2(req, connectionId);
      case EpmdWire.PORT_PLEASE2_REQ:
        try {
          String name = EpmdServerCodec.decodePortPlease2(req);
          return Outcome.close(EpmdServerCodec.port2Reply(registry.lookup(name)));
        } catch (EpmdServerCodec.MalformedRequestException e) {
          return Outcome.drop(e.getMessage());
        }
      case EpmdWire.NAMES_REQ:
        return Outcome.close(EpmdServerCodec.namesReply(port, registry.newestFirst()));
      case EpmdWire.DUMP_REQ:
        if (!isLocal.getAsBoolean()) {
          return remote("DUMP_REQ");
        }
        return Outcome.close(
            EpmdServerCodec.dumpReply(port, registry.newestFirst(), registry.released()));
      case EpmdWire.KILL_REQ:
        if (!isLocal.getAsBoolean()) {
          return remote("KILL_REQ");
        }
        if (allowKill) {
          return new Outcome(Action.REPLY_AND_STOP, EpmdServerCodec.killReply(true), null, null);
        }
        log.debug("embedded EPMD {}: KILL_REQ refused", port);
        return Outcome.close(EpmdServerCodec.killReply(false));
      case EpmdWire.STOP_REQ:
        return Outcome.drop("STOP_REQ is not allowed");
      default:
        return Outcome.drop("unknown request " + EpmdWire.describeByte(tag));
    }
  }

  /** Ends a registration whose connection closed. */
  void release(EpmdRegistry.Entry entry) {
    if (registry.release(entry)) {
      log.debug("embedded EPMD {}: released '{}'", port, entry.name);
    }
  }

  /** Publishes an empty registry snapshot once the server has stopped. */
  void serverStopped() {
    registry.clearSnapshot();
  }

  private Outcome alive2(byte[] req, long connectionId) {
    EpmdServerCodec.Alive2Request a;
    try {
      a = EpmdServerCodec.decodeAlive2(req);
    } catch (EpmdServerCodec.MalformedRequestException e) {
      return Outcome.drop(e.getMessage());
    }
    EpmdRegistry.Entry n = null;
    if (a.name() == null) {
      log.debug("embedded EPMD {}: ALIVE2_REQ with an invalid name", port);
    } else {
      n = registry.register(a, connectionId);
      if (n == null) {
        log.debug("embedded EPMD {}: name '{}' is already registered", port, a.name());
      } else {
        log.debug("embedded EPMD {}: registered '{}' at port {}, creation {}", port, n.name,
            n.port, n.counter);
      }
    }
    byte[] reply = EpmdServerCodec.alive2Reply(a.highVersion(), n);
    return n == null
        ? Outcome.close(reply)
        : new Outcome(Action.REPLY_AND_KEEP, reply, n, null);
  }

  private static Outcome remote(String what) {
    return Outcome.drop(what + " from a remote address");
  }
}
