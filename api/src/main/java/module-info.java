/**
 * What a transport author implements: {@link io.ei4j.api.SocketCallbacks} and the errors
 * it reports, and the {@link io.ei4j.api.FdPoller} service a transport may provide.
 * Depends on nothing but {@code java.base}.
 */
module io.ei4j.api {
  exports io.ei4j.api;
}
