package io.ei4j.term;

import java.util.Objects;

/**
 * An Erlang process identifier: the node it lives on, an id and a serial (together the
 * process number) and the node's creation.
 *
 * <p>{@code id}, {@code serial} and {@code creation} are unsigned 32-bit values held in an
 * {@code int}; use {@link Integer#toUnsignedLong} to read them as numbers. Pids order as Erlang
 * orders them: by serial, then id, then node name, then creation.
 */
public final class ErlPid implements ErlTerm {
  private final ErlAtom node;
  private final int id;
  private final int serial;
  private final int creation;

  private ErlPid(ErlAtom node, int id, int serial, int creation) {
    this.node = node;
    this.id = id;
    this.serial = serial;
    this.creation = creation;
  }

  /** The pid {@code <node.id.serial>} of the node incarnation {@code creation}. */
  public static ErlPid of(ErlAtom node, int id, int serial, int creation) {
    return new ErlPid(Objects.requireNonNull(node, "node"), id, serial, creation);
  }

  /** The node the process lives on. */
  public ErlAtom node() {
    return node;
  }

  /** The process number's low part (unsigned 32-bit). */
  public int id() {
    return id;
  }

  /** The process number's high part (unsigned 32-bit). */
  public int serial() {
    return serial;
  }

  /** The incarnation of the node that made the pid (unsigned 32-bit). */
  public int creation() {
    return creation;
  }

  @Override
  public boolean equals(Object o) {
    return o == this
        || (o instanceof ErlPid p
            && p.id == id
            && p.serial == serial
            && p.creation == creation
            && p.node.equals(node));
  }

  @Override
  public int hashCode() {
    return ((node.hashCode() * 31 + id) * 31 + serial) * 31 + creation;
  }

  /** {@code <node@host.42.0.3>}: node, id, serial and creation; see {@link Terms#print}. */
  @Override
  public String toString() {
    return TermPrinter.print(this);
  }
}
