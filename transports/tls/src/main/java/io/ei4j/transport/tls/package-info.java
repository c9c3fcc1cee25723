/**
 * Erlang distribution over TLS, interoperating with OTP's {@code -proto_dist inet_tls}:
 * {@link io.ei4j.transport.tls.TlsTransport}, configured by a
 * {@link io.ei4j.transport.tls.TlsConfig} (the counterpart of an {@code ssl_dist_optfile}).
 * Runs on BouncyCastle's JSSE provider, which it never registers globally.
 */
package io.ei4j.transport.tls;
