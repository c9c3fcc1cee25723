package io.ei4j.term;

import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * Erlang's term order, in two modes.
 *
 * <ul>
 *   <li>Arithmetic mode ({@code exact == false}) is the order of Erlang's {@code <}, {@code ==}:
 *       integers and floats compare by value.
 *   <li>Exact mode is map key order: every integer sorts before every float, whatever the
 *       values, so it agrees with {@code =:=}.
 * </ul>
 *
 * Map keys always compare in exact mode, even inside an arithmetic comparison, as in OTP.
 * {@link #compare} is the arithmetic order with ties broken by the exact order; that is the
 * total order {@link ErlTerm#compareTo} promises.
 */
final class TermOrder {
  private static final long LOSSLESS = 1L << 53;

  private TermOrder() {}

  static int compare(ErlTerm a, ErlTerm b) {
    int c = cmp(a, b, false);
    return c != 0 ? c : cmp(a, b, true);
  }

  static int compareKeys(ErlTerm a, ErlTerm b) {
    return cmp(a, b, true);
  }

  /** Erlang's class rank: number, atom, ref, fun, port, pid, tuple, map, nil, list, bitstring. */
  static int rank(ErlTerm t) {
    if (t instanceof ErlInteger || t instanceof ErlFloat) {
      return 0;
    } else if (t instanceof ErlAtom) {
      return 1;
    } else if (t instanceof ErlRef) {
      return 2;
    } else if (t instanceof ErlFun || t instanceof ErlExportFun) {
      return 3;
    } else if (t instanceof ErlPort) {
      return 4;
    } else if (t instanceof ErlPid) {
      return 5;
    } else if (t instanceof ErlTuple) {
      return 6;
    } else if (t instanceof ErlMap) {
      return 7;
    } else if (t instanceof ErlList l) {
      return l.isNil() ? 8 : 9;
    } else {
      return 10;
    }
  }

  static int cmp(ErlTerm a, ErlTerm b, boolean exact) {
    if (a == b) {
      return 0;
    }
    int ra = rank(a);
    int rb = rank(b);
    if (ra != rb) {
      return ra < rb ? -1 : 1;
    }
    switch (ra) {
      case 0:
        return cmpNumbers(a, b, exact);
      case 1:
        return cmpAtoms((ErlAtom) a, (ErlAtom) b);
      case 2:
        return cmpRefs((ErlRef) a, (ErlRef) b);
      case 3:
        return cmpFuns(a, b, exact);
      case 4:
        {
          ErlPort x = (ErlPort) a;
          ErlPort y = (ErlPort) b;
          int c = cmpAtoms(x.node(), y.node());
          if (c == 0) {
            c = Integer.compareUnsigned(x.creation(), y.creation());
          }
          return c != 0 ? c : Long.compareUnsigned(x.id(), y.id());
        }
      case 5:
        {
          ErlPid x = (ErlPid) a;
          ErlPid y = (ErlPid) b;
          int c = Integer.compareUnsigned(x.serial(), y.serial());
          if (c == 0) {
            c = Integer.compareUnsigned(x.id(), y.id());
          }
          if (c == 0) {
            c = cmpAtoms(x.node(), y.node());
          }
          return c != 0 ? c : Integer.compareUnsigned(x.creation(), y.creation());
        }
      case 6:
        {
          ErlTerm[] x = ((ErlTuple) a).array();
          ErlTerm[] y = ((ErlTuple) b).array();
          if (x.length != y.length) {
            return x.length < y.length ? -1 : 1;
          }
          return cmpArrays(x, y, x.length, exact);
        }
      case 7:
        return cmpMaps((ErlMap) a, (ErlMap) b, exact);
      case 8:
        return 0;
      case 9:
        return cmpLists((ErlList) a, (ErlList) b, exact);
      default:
        return cmpBits((ErlBinary) a, (ErlBinary) b);
    }
  }

  private static int cmpArrays(ErlTerm[] x, ErlTerm[] y, int n, boolean exact) {
    for (int i = 0; i < n; i++) {
      int c = cmp(x[i], y[i], exact);
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }

  private static int cmpNumbers(ErlTerm a, ErlTerm b, boolean exact) {
    if (a instanceof ErlInteger x) {
      if (b instanceof ErlInteger y) {
        return cmpIntegers(x, y);
      }
      return exact ? -1 : cmpIntFloat(x, ((ErlFloat) b).value());
    }
    double x = ((ErlFloat) a).value();
    if (b instanceof ErlFloat y) {
      double v = y.value();
      return x < v ? -1 : x > v ? 1 : 0;
    }
    return exact ? 1 : -cmpIntFloat((ErlInteger) b, x);
  }

  private static int cmpIntegers(ErlInteger x, ErlInteger y) {
    BigInteger bx = x.bigOrNull();
    BigInteger by = y.bigOrNull();
    if (bx == null && by == null) {
      return Long.compare(x.longValue(), y.longValue());
    }
    return x.bigValue().compareTo(y.bigValue());
  }

  /** Compares an integer with a float by their mathematical values. */
  private static int cmpIntFloat(ErlInteger i, double f) {
    if (i.isLong()) {
      long v = i.longValue();
      if (v > -LOSSLESS && v < LOSSLESS) {
        double d = v;
        return d < f ? -1 : d > f ? 1 : 0;
      }
    }
    return new BigDecimal(i.bigValue()).compareTo(new BigDecimal(f));
  }

  static int cmpAtoms(ErlAtom a, ErlAtom b) {
    return a == b ? 0 : java.util.Arrays.compareUnsigned(a.utf8(), b.utf8());
  }

  private static int cmpRefs(ErlRef x, ErlRef y) {
    int c = cmpAtoms(x.node(), y.node());
    if (c == 0) {
      c = Integer.compareUnsigned(x.creation(), y.creation());
    }
    for (int i = ErlRef.MAX_IDS - 1; i >= 0 && c == 0; i--) {
      c = Integer.compareUnsigned(x.idOrZero(i), y.idOrZero(i));
    }
    return c;
  }

  private static int cmpFuns(ErlTerm a, ErlTerm b, boolean exact) {
    if (a instanceof ErlFun x) {
      if (!(b instanceof ErlFun y)) {
        return -1;
      }
      int c = cmpAtoms(x.module(), y.module());
      if (c == 0) {
        c = Integer.compare(x.oldIndex(), y.oldIndex());
      }
      if (c == 0) {
        c = Integer.compare(x.oldUniq(), y.oldUniq());
      }
      ErlTerm[] fx = x.freeVarArray();
      ErlTerm[] fy = y.freeVarArray();
      if (c == 0) {
        c = Integer.compare(fx.length, fy.length);
      }
      if (c == 0) {
        c = cmpArrays(fx, fy, fx.length, exact);
      }
      if (c == 0) {
        c = Integer.compareUnsigned(x.index(), y.index());
      }
      if (c == 0) {
        c = java.util.Arrays.compareUnsigned(x.uniqArray(), y.uniqArray());
      }
      return c != 0 ? c : Integer.compare(x.arity(), y.arity());
    }
    if (b instanceof ErlFun) {
      return 1;
    }
    ErlExportFun x = (ErlExportFun) a;
    ErlExportFun y = (ErlExportFun) b;
    int c = cmpAtoms(x.module(), y.module());
    if (c == 0) {
      c = cmpAtoms(x.function(), y.function());
    }
    return c != 0 ? c : Integer.compare(x.arity(), y.arity());
  }

  private static int cmpMaps(ErlMap x, ErlMap y, boolean exact) {
    if (x.size() != y.size()) {
      return x.size() < y.size() ? -1 : 1;
    }
    int c = cmpArrays(x.keyArray(), y.keyArray(), x.size(), true);
    return c != 0 ? c : cmpArrays(x.valueArray(), y.valueArray(), x.size(), exact);
  }

  private static int cmpLists(ErlList x, ErlList y, boolean exact) {
    ErlTerm[] ex = x.array();
    ErlTerm[] ey = y.array();
    int n = Math.min(ex.length, ey.length);
    int c = cmpArrays(ex, ey, n, exact);
    if (c != 0) {
      return c;
    }
    ErlTerm restX = ex.length == n ? x.tail() : ErlList.NIL;
    ErlTerm restY = ey.length == n ? y.tail() : ErlList.NIL;
    if (ex.length == ey.length) {
      return cmp(restX, restY, exact);
    }
    // One side has more elements: its rest is a non-empty list (rank 9).
    if (ex.length > n) {
      return rank(restY) < 9 ? 1 : -1;
    }
    return rank(restX) < 9 ? -1 : 1;
  }

  private static int cmpBits(ErlBinary x, ErlBinary y) {
    long bx = x.bitSize();
    long by = y.bitSize();
    long m = Math.min(bx, by);
    int fullBytes = (int) (m / 8);
    int c =
        java.util.Arrays.compareUnsigned(
            x.array(),
            x.arrayOffset(),
            x.arrayOffset() + fullBytes,
            y.array(),
            y.arrayOffset(),
            y.arrayOffset() + fullBytes);
    if (c != 0) {
      return Integer.signum(c);
    }
    int rest = (int) (m % 8);
    if (rest != 0) {
      int mask = (0xff << (8 - rest)) & 0xff;
      int a = x.byteAt(fullBytes) & mask;
      int b = y.byteAt(fullBytes) & mask;
      if (a != b) {
        return a < b ? -1 : 1;
      }
    }
    return Long.compare(bx, by);
  }
}
