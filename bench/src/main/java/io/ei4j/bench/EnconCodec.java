package io.ei4j.bench;

import io.appulse.encon.terms.ErlangTerm;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * encon-java's codec (issue 21) behind {@link ForeignCodec}: decoding wraps the bytes in
 * a netty {@link ByteBuf} and calls {@code ErlangTerm.newInstance}, as encon's connection
 * does for a received message body; encoding writes the version byte and
 * {@code ErlangTerm.writeTo} into one reused heap {@code ByteBuf}, cleared before each
 * term, as ei4j's benchmark reuses one {@code TermBuffer}.
 */
public final class EnconCodec implements ForeignCodec {
  private static final int VERSION = 131;
  private final ByteBuf out = Unpooled.buffer(64 * 1024);

  /**
   * Whether encon 1.6.10 can decode the corpus term {@code name}: not {@code bigints},
   * whose integers of 128 bytes and more it fails on (it reads the {@code SMALL_BIG_EXT}
   * length byte as signed; {@code EnconCodecTest} checks both ways).
   */
  static boolean holds(String name) {
    return !name.equals("bigints");
  }

  @Override
  public Object decode(byte[] etf) {
    if (etf.length < 2 || (etf[0] & 0xff) != VERSION) {
      throw new IllegalArgumentException("not a term in the external format: " + etf.length + " bytes");
    }
    return ErlangTerm.newInstance(Unpooled.wrappedBuffer(etf, 1, etf.length - 1));
  }

  @Override
  public int encode(Object term) {
    out.clear();
    out.writeByte(VERSION);
    ((ErlangTerm) term).writeTo(out);
    return out.writerIndex();
  }

  @Override
  public byte[] encodeToBytes(Object term) {
    ByteBuf b = Unpooled.buffer();
    b.writeByte(VERSION);
    ((ErlangTerm) term).writeTo(b);
    byte[] bytes = new byte[b.readableBytes()];
    b.readBytes(bytes);
    return bytes;
  }
}
