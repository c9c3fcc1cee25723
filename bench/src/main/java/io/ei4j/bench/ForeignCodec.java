package io.ei4j.bench;

/**
 * Another library's term codec, seen through a narrow interface so that the benchmarks
 * can call JInterface without this module needing its jar at build time. The
 * implementation is compiled and loaded at run time by {@link JInterface#codec()}.
 *
 * <p>Terms are the other library's own objects, typed {@code Object} here. An instance
 * keeps one reusable output buffer and is not thread-safe.
 */
public interface ForeignCodec {

  /**
   * Decodes one term in the external term format, version byte (131) included, into the
   * library's term objects.
   *
   * @throws Exception whatever the library throws for bad input
   */
  Object decode(byte[] etf) throws Exception;

  /**
   * Encodes {@code term} (version byte included) into the instance's reused output buffer
   * and returns the number of bytes written, which stay valid until the next call.
   */
  int encode(Object term);

  /** Encodes {@code term}, version byte included, into a new array. */
  byte[] encodeToBytes(Object term);
}
