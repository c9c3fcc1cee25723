package io.ei4j.bench.jinterface;

import com.ericsson.otp.erlang.OtpErlangDecodeException;
import com.ericsson.otp.erlang.OtpErlangObject;
import com.ericsson.otp.erlang.OtpExternal;
import com.ericsson.otp.erlang.OtpInputStream;
import com.ericsson.otp.erlang.OtpOutputStream;
import io.ei4j.bench.ForeignCodec;

/**
 * JInterface's codec behind {@link ForeignCodec}. Compiled at run time against the
 * installed {@code OtpErlang.jar} (this file is a resource of the bench module, not part
 * of its build). Encoding reuses one {@link OtpOutputStream}, reset before each term, as
 * ei4j's benchmark reuses one {@code TermBuffer}.
 */
public final class JInterfaceCodec implements ForeignCodec {
  private final OtpOutputStream out = new OtpOutputStream();

  @Override
  public Object decode(byte[] etf) throws OtpErlangDecodeException {
    return new OtpInputStream(etf, 0).read_any();
  }

  @Override
  public int encode(Object term) {
    out.reset();
    out.write1(OtpExternal.versionTag);
    out.write_any((OtpErlangObject) term);
    return out.size();
  }

  @Override
  public byte[] encodeToBytes(Object term) {
    OtpOutputStream o = new OtpOutputStream();
    o.write1(OtpExternal.versionTag);
    o.write_any((OtpErlangObject) term);
    return o.toByteArray();
  }
}
