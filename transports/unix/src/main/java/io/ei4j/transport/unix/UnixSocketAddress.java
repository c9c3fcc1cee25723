package io.ei4j.transport.unix;

import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * The address of an AF_UNIX stream socket: a socket file in the file system, a name in
 * Linux's abstract namespace, or no name at all (the unbound client end of a connection).
 *
 * <p>The kernel stores the name in the 108-byte {@code sun_path} field of
 * {@code struct sockaddr_un}. A file path needs a terminating NUL there, and an abstract
 * name starts with a NUL, so either can be at most {@value #MAX_NAME_BYTES} bytes long; the
 * factories check that limit on the encoded bytes (the file system encoding, as the JDK
 * uses for file names) and throw {@link IllegalArgumentException} naming the address and
 * its length, instead of letting the kernel truncate or reject it later.
 *
 * <p>Abstract names have no file: they disappear when the last socket bound to them is
 * closed, and any process that can see the network namespace may connect to them, whatever
 * its user; file permissions protect only socket files.
 *
 * <p>{@link UnixTransport} also accepts {@link UnixDomainSocketAddress} for paths.
 * Instances are immutable; two addresses are equal when they name the same bytes in the
 * same namespace.
 */
public final class UnixSocketAddress extends SocketAddress {
  private static final long serialVersionUID = 1L;

  /** The longest file path or abstract name, in bytes, that fits into {@code sun_path}. */
  public static final int MAX_NAME_BYTES = 107;

  private static final UnixSocketAddress UNNAMED = new UnixSocketAddress(Kind.UNNAMED, new byte[0]);

  /** Which namespace an address is in. */
  public enum Kind {
    /** A socket file; {@link #path()} is present. */
    PATH,
    /** A name in Linux's abstract namespace; {@link #abstractName()} is present. */
    ABSTRACT,
    /** No name: the unbound end of a connection, as {@code accept} reports clients. */
    UNNAMED
  }

  private final Kind kind;
  private final byte[] name;

  private UnixSocketAddress(Kind kind, byte[] name) {
    this.kind = kind;
    this.name = name;
  }

  /**
   * The socket file {@code path}, relative paths being resolved by the kernel against the
   * process's working directory at the time of each call.
   *
   * @throws IllegalArgumentException when the path is empty, contains a NUL character or
   *     is longer than {@value #MAX_NAME_BYTES} bytes once encoded
   */
  public static UnixSocketAddress of(Path path) {
    Objects.requireNonNull(path, "path");
    return ofPathString(path.toString());
  }

  /** The socket file at {@code path}; see {@link #of(Path)}. */
  public static UnixSocketAddress of(String path) {
    Objects.requireNonNull(path, "path");
    return ofPathString(path);
  }

  /** The socket file a {@link UnixDomainSocketAddress} names; see {@link #of(Path)}. */
  public static UnixSocketAddress of(UnixDomainSocketAddress address) {
    Objects.requireNonNull(address, "address");
    return of(address.getPath());
  }

  /**
   * A name in the abstract namespace, encoded as UTF-8 (without the leading NUL the
   * kernel uses to mark the namespace).
   *
   * @throws IllegalArgumentException when the name is empty or longer than
   *     {@value #MAX_NAME_BYTES} bytes
   */
  public static UnixSocketAddress ofAbstract(String name) {
    Objects.requireNonNull(name, "name");
    return ofAbstract(name.getBytes(StandardCharsets.UTF_8));
  }

  /** A name in the abstract namespace given as raw bytes; see {@link #ofAbstract(String)}. */
  public static UnixSocketAddress ofAbstract(byte[] name) {
    Objects.requireNonNull(name, "name");
    if (name.length == 0) {
      throw new IllegalArgumentException("an abstract socket name must not be empty");
    }
    if (name.length > MAX_NAME_BYTES) {
      throw new IllegalArgumentException("abstract socket name @"
          + new String(name, StandardCharsets.UTF_8) + " is " + name.length
          + " bytes long; AF_UNIX allows at most " + MAX_NAME_BYTES);
    }
    return new UnixSocketAddress(Kind.ABSTRACT, name.clone());
  }

  /**
   * The address of an unbound socket. Listening on it asks Linux to pick a unique abstract
   * name (autobind); {@link UnixTransport#listen} returns the name chosen.
   */
  public static UnixSocketAddress unnamed() {
    return UNNAMED;
  }

  private static UnixSocketAddress ofPathString(String path) {
    if (path.isEmpty()) {
      throw new IllegalArgumentException("a socket path must not be empty");
    }
    if (path.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a socket path must not contain NUL: " + path);
    }
    byte[] bytes = path.getBytes(fileSystemCharset());
    if (bytes.length > MAX_NAME_BYTES) {
      throw new IllegalArgumentException("socket path " + path + " is " + bytes.length
          + " bytes long; AF_UNIX allows at most " + MAX_NAME_BYTES
          + " (use a shorter directory or a relative path)");
    }
    return new UnixSocketAddress(Kind.PATH, bytes);
  }

  /** Decodes what the kernel wrote into a {@code sockaddr_un} of {@code length} bytes. */
  static UnixSocketAddress fromSunPath(byte[] sunPath, int pathLength) {
    if (pathLength <= 0) {
      return UNNAMED;
    }
    if (sunPath[0] == 0) {
      return new UnixSocketAddress(Kind.ABSTRACT, Arrays.copyOfRange(sunPath, 1, pathLength));
    }
    int end = 0;
    while (end < pathLength && sunPath[end] != 0) {
      end++;
    }
    return new UnixSocketAddress(Kind.PATH, Arrays.copyOf(sunPath, end));
  }

  /** Which namespace this address is in. */
  public Kind kind() {
    return kind;
  }

  /** The socket file, when this is a {@link Kind#PATH} address. */
  public Optional<Path> path() {
    return kind == Kind.PATH
        ? Optional.of(Path.of(new String(name, fileSystemCharset())))
        : Optional.empty();
  }

  /** The abstract name's bytes (without the leading NUL), when this is {@link Kind#ABSTRACT}. */
  public Optional<byte[]> abstractName() {
    return kind == Kind.ABSTRACT ? Optional.of(name.clone()) : Optional.empty();
  }

  /**
   * The bytes of {@code sun_path} that name this address: the encoded path without its
   * terminating NUL, or a NUL followed by the abstract name; empty when unnamed.
   */
  byte[] sunPathBytes() {
    return switch (kind) {
      case PATH -> name.clone();
      case ABSTRACT -> {
        byte[] b = new byte[name.length + 1];
        System.arraycopy(name, 0, b, 1, name.length);
        yield b;
      }
      case UNNAMED -> new byte[0];
    };
  }

  /**
   * The {@code addrlen} to pass with this address: the family field plus the name, plus
   * the terminating NUL for a path (abstract names are length-delimited, not
   * NUL-terminated).
   */
  int sockaddrLength() {
    return switch (kind) {
      case PATH -> LibC.SUN_PATH_OFFSET + name.length + 1;
      case ABSTRACT -> LibC.SUN_PATH_OFFSET + 1 + name.length;
      case UNNAMED -> LibC.SUN_PATH_OFFSET;
    };
  }

  /** The charset the JDK uses for file names ({@code sun.jnu.encoding}). */
  static Charset fileSystemCharset() {
    return FileSystemCharset.CHARSET;
  }

  private static final class FileSystemCharset {
    static final Charset CHARSET = lookup();
  }

  private static Charset lookup() {
    String name = System.getProperty("sun.jnu.encoding");
    if (name != null) {
      try {
        return Charset.forName(name);
      } catch (IllegalArgumentException e) {
        return StandardCharsets.UTF_8;
      }
    }
    return StandardCharsets.UTF_8;
  }

  /** Keeps deserialised addresses within the limits the factories enforce. */
  private Object readResolve() throws java.io.ObjectStreamException {
    if (kind == null || name == null || name.length > MAX_NAME_BYTES
        || (kind == Kind.UNNAMED) != (name.length == 0)) {
      throw new java.io.InvalidObjectException("not a valid AF_UNIX address");
    }
    return kind == Kind.UNNAMED ? UNNAMED : this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UnixSocketAddress a && a.kind == kind && Arrays.equals(a.name, name);
  }

  @Override
  public int hashCode() {
    return kind.hashCode() * 31 + Arrays.hashCode(name);
  }

  /**
   * The path; {@code @name} for an abstract name, as {@code ss} and {@code netstat} show
   * it; {@code (unnamed)} for an unbound socket.
   */
  @Override
  public String toString() {
    return switch (kind) {
      case PATH -> new String(name, fileSystemCharset());
      case ABSTRACT -> "@" + new String(name, StandardCharsets.UTF_8);
      case UNNAMED -> "(unnamed)";
    };
  }
}
