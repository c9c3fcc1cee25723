package io.ei4j.term;

import java.util.Objects;

/**
 * An Erlang port identifier: node, id (up to 64 bits since OTP 24's {@code V4_PORT_EXT}) and
 * the node's creation (unsigned 32-bit). Ports order by node name, then creation, then id.
 * Ids from 2<sup>28</sup> up are encoded as {@code V4_PORT_EXT}, as OTP 25 encodes them.
 */
public final class ErlPort implements ErlTerm {
  private final ErlAtom node;
  private final long id;
  private final int creation;

  private ErlPort(ErlAtom node, long id, int creation) {
    this.node = node;
    this.id = id;
    this.creation = creation;
  }

  /** The port {@code id} (unsigned 64-bit) of the node incarnation {@code creation}. */
  public static ErlPort of(ErlAtom node, long id, int creation) {
    return new ErlPort(Objects.requireNonNull(node, "node"), id, creation);
  }

  /** The node the port belongs to. */
  public ErlAtom node() {
    return node;
  }

  /** The port number (unsigned 64-bit). */
  public long id() {
    return id;
  }

  /** The incarnation of the node that made the port (unsigned 32-bit). */
  public int creation() {
    return creation;
  }

  @Override
  public boolean equals(Object o) {
    return o == this
        || (o instanceof ErlPort p && p.id == id && p.creation == creation && p.node.equals(node));
  }

  @Override
  public int hashCode() {
    return (node.hashCode() * 31 + Long.hashCode(id)) * 31 + creation;
  }

  /** {@code #Port<node@host.7.3>}: node, id and creation; see {@link Terms#print}. */
  @Override
  public String toString() {
    return TermPrinter.print(this);
  }
}
