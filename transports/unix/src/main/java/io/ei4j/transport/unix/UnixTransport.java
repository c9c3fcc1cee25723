package io.ei4j.transport.unix;

import com.sun.jna.Memory;
import io.ei4j.api.Accepted;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Erlang distribution over AF_UNIX stream sockets, as OTP's {@code erl_uds_dist} example
 * runs it: {@code erl -proto_dist erl_uds -no_epmd -sname peer@localhost}.
 *
 * <p>Each {@link UnixSocket} is a real, non-blocking, close-on-exec descriptor made with
 * {@code socket(AF_UNIX, SOCK_STREAM)} and driven through JNA. Distribution handshake
 * messages have 2-byte length headers, as over TCP.
 *
 * <h2>Naming</h2>
 * There is no EPMD: node {@code alive@host} listens on the socket file {@code alive} in a
 * directory ({@link Builder#directory}, by default the working directory, which is where
 * {@code erl_uds_dist} puts it), and {@link #nodeAddress} resolves peers the same way, so
 * a Java node and Erlang nodes started in the same directory find each other by name. The
 * host part is ignored: AF_UNIX peers are always on this machine. With
 * {@link Builder#abstractNames} nodes use Linux abstract names instead of files.
 *
 * <h2>Listening</h2>
 * Like {@code erl_uds_dist}'s {@code listen/1}: when the socket file already exists, a
 * connection attempt decides. If a process answers, the name is taken and {@code listen}
 * fails with {@link Errno#EADDRINUSE} ("duplicate node name"); if nobody does, the file is
 * a stale leftover of a crashed node and is replaced. Unlike {@code erl_uds_dist}, a file
 * that is not a socket is never deleted. The socket file has owner-only permissions
 * ({@link Builder#socketFilePermissions}) from the moment {@code bind} creates it, whatever
 * the umask (the unbound socket is {@code fchmod}ed first, whose mode Linux gives the file),
 * so nobody else can connect before or after it listens, and it is removed when the listening socket is closed,
 * unless it has been replaced by another file meanwhile.
 *
 * <h2>Timeouts</h2>
 * With {@link #FLAG_FULL_IMPL} (the default) {@code accept}, {@code connect}, {@code read},
 * {@code write} and {@code writev} wait with {@code poll(2)} and fail with
 * {@link Errno#ETIMEDOUT}. With {@link Builder#fullImpl fullImpl(false)} they leave
 * timeouts to core, which waits on {@link #fd} through {@link UnixFdPoller} as ei waits
 * with {@code select()}; the callbacks then wait without limit, except {@code connect},
 * which core cannot pre-wait for and which keeps its timeout. Signals ({@code EINTR}) are
 * retried with the time left in both modes.
 *
 * <h2>Read wakeups</h2>
 * With {@link #FLAG_FULL_IMPL}, {@link #hasReadWakeup} is true and {@link #wakeupRead} makes
 * a waiting {@code read} time out at once, so that core lets a thread waiting for a message
 * read the connection itself. A read waits on the socket and on an {@code eventfd(2)} of its
 * own, which {@code wakeupRead} rings; the eventfd is made by the socket's first waiting read
 * and closed with the socket (see {@link UnixSocket}). Without {@code FLAG_FULL_IMPL} core
 * polls the descriptor itself and never asks for wakeups, and {@link #hasReadWakeup} is false.
 *
 * <h2>Peer credentials</h2>
 * {@code accept} and {@code connect} check the peer's user id from {@code SO_PEERCRED},
 * which the kernel records and peers cannot forge; a mismatch closes the connection and
 * fails with {@link Errno#EACCES}. By default only our own user id is allowed; see
 * {@link Builder#allowUid}, {@link Builder#allowedPeerUids} and {@link Builder#allowAnyPeerUid}.
 *
 * <h2>Socket directory</h2>
 * {@code listen} and {@code connect} refuse a socket file in a directory that group or
 * others may write to without the sticky bit ({@link InsecureSocketDirectoryException}),
 * and warn once about a shared sticky one such as {@code /tmp} (see {@link SocketFiles}).
 *
 * <p>Instances are immutable and thread-safe; one serves any number of nodes and sockets.
 */
public final class UnixTransport implements SocketCallbacks<UnixSocket> {
  private static final int MAX_CONNECT_BACKOFF_MILLIS = 16;
  private static final int MAX_STALE_RETRIES = 3;

  private final Path directory;
  private final String abstractPrefix;
  private final boolean fullImpl;
  private final Set<PosixFilePermission> filePermissions;
  private final Set<Integer> allowedPeerUids;

  private UnixTransport(Builder b) {
    this.directory = b.directory;
    this.abstractPrefix = b.abstractPrefix;
    this.fullImpl = b.fullImpl;
    this.filePermissions = Collections.unmodifiableSet(EnumSet.copyOf(b.filePermissions));
    this.allowedPeerUids =
        b.allowedPeerUids == null ? null : Collections.unmodifiableSet(new LinkedHashSet<>(b.allowedPeerUids));
  }

  /**
   * True when AF_UNIX sockets can be created through this transport here: Linux, a 64-bit
   * C library whose socket constants the transport knows, JNA's native library, and a
   * kernel that lets this process create AF_UNIX stream sockets. Checked once, by creating
   * and closing a socket. Without it, {@link #builder()} fails with a clear
   * {@link IllegalStateException} rather than a crash at the first call.
   *
   * <pre>{@code
   * if (!UnixTransport.isAvailable()) {
   *   log.warn("no AF_UNIX distribution", UnixTransport.unavailabilityCause());
   * }
   * }</pre>
   */
  public static boolean isAvailable() {
    return Availability.isAvailable();
  }

  /** Why the transport is not available, or null when it is. */
  public static Throwable unavailabilityCause() {
    return Availability.unavailabilityCause();
  }

  /**
   * Returns normally when the transport is available.
   *
   * @throws IllegalStateException naming the reason, with the original failure as its cause
   */
  public static void ensureAvailability() {
    Availability.ensureAvailability();
  }

  /**
   * Options for the transport.
   *
   * @throws IllegalStateException when {@link #isAvailable()} is false
   */
  public static Builder builder() {
    Availability.ensureAvailability();
    return new Builder();
  }

  /** The transport with default options: see {@link Builder}. */
  public static UnixTransport create() {
    return builder().build();
  }

  /**
   * The address node {@code nodeName} ({@code alive@host}, or {@code alive} alone) listens
   * on with these options: the listening address for a Java node that Erlang nodes should
   * find by name.
   *
   * @throws IllegalArgumentException when the alive part cannot name a socket file
   *     (empty, {@code .}, {@code ..}, containing {@code /} or NUL) or the resulting
   *     address is longer than {@value UnixSocketAddress#MAX_NAME_BYTES} bytes
   */
  public UnixSocketAddress addressOf(String nodeName) {
    int at = nodeName.indexOf('@');
    return addressOfAlive(at < 0 ? nodeName : nodeName.substring(0, at));
  }

  /** The directory in which node names resolve to socket files. */
  public Path directory() {
    return directory;
  }

  /** Whether the callbacks implement timeouts themselves ({@link #FLAG_FULL_IMPL}). */
  public boolean isFullImpl() {
    return fullImpl;
  }

  @Override
  public int flags() {
    return fullImpl ? FLAG_FULL_IMPL : 0;
  }

  /** Creates a non-blocking AF_UNIX stream socket; {@code setupContext} is not used. */
  @Override
  public UnixSocket socket(Object setupContext) throws IOException {
    int fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0);
    if (fd < 0) {
      throw Errors.of(LibC.errno(), "socket(AF_UNIX, SOCK_STREAM)");
    }
    return new UnixSocket(fd);
  }

  /**
   * Closes the descriptor (once no other thread is inside a call on it; those calls fail
   * with {@link Errno#EBADF} at once) and removes the socket file a listening socket
   * created. Closing twice does nothing.
   */
  @Override
  public void close(UnixSocket ctx) throws IOException {
    Path file = ctx.ownedFile();
    Object fileKey = ctx.ownedFileKey();
    int err = ctx.markClosed();
    if (err == UnixSocket.ALREADY_CLOSED) {
      return;
    }
    if (file != null) {
      SocketFiles.removeIfUnchanged(file, fileKey);
    }
    if (err != 0) {
      throw Errors.of(err, "close " + ctx);
    }
  }

  /**
   * Binds to {@code address} ({@link UnixSocketAddress} or {@link java.net.UnixDomainSocketAddress})
   * and listens; see the class comment for an existing socket file.
   *
   * @return the bound address as the kernel reports it; for
   *     {@link UnixSocketAddress#unnamed()} the abstract name Linux chose
   * @throws ErrnoException {@link Errno#EADDRINUSE} when a live socket already has the name,
   *     or when the path exists and is not a socket; what {@code bind} and {@code listen}
   *     report otherwise ({@link Errno#ENOENT} for a missing directory, say)
   */
  @Override
  public SocketAddress listen(UnixSocket ctx, SocketAddress address, int backlog) throws IOException {
    UnixSocketAddress target = Sockaddrs.toUnix(address);
    ctx.enter("listen");
    try (Memory sa = Sockaddrs.sockaddr(target)) {
      if (target.kind() == UnixSocketAddress.Kind.PATH) {
        SocketFiles.checkDirectory(target.path().orElseThrow(), "listen on " + target);
        SocketFiles.restrictBeforeBind(ctx.fd(), filePermissions, "listen on " + target);
      }
      for (int attempt = 0; ; attempt++) {
        if (LibC.bind(ctx.fd(), LibC.address(sa), target.sockaddrLength()) == 0) {
          break;
        }
        int err = LibC.errno();
        if (err == LibC.EADDRINUSE && target.kind() == UnixSocketAddress.Kind.PATH
            && attempt < MAX_STALE_RETRIES) {
          SocketFiles.removeStale(target);
          continue;
        }
        if (err == LibC.EADDRINUSE) {
          throw new ErrnoException(Errno.EADDRINUSE, "listen on " + target
              + ": another socket is listening there (duplicate node name?)");
        }
        throw Errors.of(err, "bind to " + target);
      }
      Path file = target.path().orElse(null);
      if (file != null) {
        try {
          Files.setPosixFilePermissions(file, filePermissions);
          ctx.ownFile(file, SocketFiles.fileKey(file));
        } catch (IOException | UnsupportedOperationException e) {
          SocketFiles.deleteQuietly(file);
          throw new ErrnoException(Errno.EACCES, "listen on " + target
              + ": cannot set the socket file's permissions to " + filePermissions, e);
        }
      }
      if (LibC.listen(ctx.fd(), backlog) != 0) {
        int err = LibC.errno();
        if (file != null) {
          SocketFiles.deleteQuietly(file);
          ctx.ownFile(null, null);
        }
        throw Errors.of(err, "listen on " + target);
      }
      UnixSocketAddress bound = SocketOptions.localAddress(ctx);
      ctx.localAddress(bound);
      return bound;
    } finally {
      ctx.exit();
    }
  }

  @Override
  public Accepted<UnixSocket> accept(UnixSocket listenCtx, long timeoutMillis) throws IOException {
    long timeout = effective(timeoutMillis);
    long start = System.nanoTime();
    listenCtx.enter("accept");
    try (Memory sa = new Memory(LibC.SOCKADDR_UN_SIZE + 4)) {
      long saAddress = LibC.address(sa);
      for (;;) {
        sa.setInt(LibC.SOCKADDR_UN_SIZE, LibC.SOCKADDR_UN_SIZE);
        int fd = LibC.accept4(listenCtx.fd(), saAddress, saAddress + LibC.SOCKADDR_UN_SIZE,
            LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC);
        if (fd >= 0) {
          UnixSocket conn = new UnixSocket(fd);
          UnixSocketAddress peer = Sockaddrs.decode(sa, sa.getInt(LibC.SOCKADDR_UN_SIZE));
          conn.localAddress(listenCtx.localAddress());
          conn.peerAddress(peer);
          try {
            checkPeer(conn, "accept on " + listenCtx.localAddress());
          } catch (IOException e) {
            conn.markClosed();
            throw e;
          }
          return new Accepted<>(conn, peer);
        }
        int err = LibC.errno();
        if (err == LibC.EINTR || err == LibC.ECONNABORTED) {
          continue;
        }
        if (listenCtx.isClosed()) {
          throw Errors.closed("accept");
        }
        if (err == LibC.EAGAIN) {
          PollWaits.await(listenCtx, LibC.POLLIN, timeout, start, "accept");
          continue;
        }
        throw Errors.of(err, "accept on " + listenCtx.localAddress());
      }
    } finally {
      listenCtx.exit();
    }
  }

  /**
   * Connects to {@code address}. AF_UNIX connections are made at once or refused; only a
   * listener whose backlog is full makes {@code connect} wait, retrying with a short
   * back-off until the timeout. A missing socket file is {@link Errno#ENOENT}, a file
   * nobody listens on {@link Errno#ECONNREFUSED}.
   */
  @Override
  public void connect(UnixSocket ctx, SocketAddress address, long timeoutMillis) throws IOException {
    UnixSocketAddress target = Sockaddrs.toUnix(address);
    if (target.kind() == UnixSocketAddress.Kind.UNNAMED) {
      throw new IllegalArgumentException("cannot connect to an unnamed address");
    }
    checkTimeout(timeoutMillis);
    if (target.kind() == UnixSocketAddress.Kind.PATH) {
      SocketFiles.checkDirectory(target.path().orElseThrow(), "connect to " + target);
    }
    long start = System.nanoTime();
    ctx.enter("connect");
    try (Memory sa = Sockaddrs.sockaddr(target)) {
      long backoff = 1;
      for (;;) {
        if (LibC.connect(ctx.fd(), LibC.address(sa), target.sockaddrLength()) == 0) {
          break;
        }
        int err = LibC.errno();
        if (err == LibC.EISCONN) {
          break;
        }
        if (ctx.isClosed()) {
          throw Errors.closed("connect to " + target);
        }
        if (err == LibC.EINTR) {
          continue;
        }
        if (err == LibC.EINPROGRESS || err == LibC.EALREADY) {
          PollWaits.await(ctx, LibC.POLLOUT, timeoutMillis, start, "connect to " + target);
          int soError = SocketOptions.socketError(ctx);
          if (soError != 0) {
            throw Errors.of(soError, "connect to " + target);
          }
          break;
        }
        if (err == LibC.EAGAIN) {
          // The listener's backlog is full: poll cannot tell when it drains, so back off.
          long left = timeoutMillis == INFINITE ? Long.MAX_VALUE
              : TimeUnit.MILLISECONDS.toNanos(timeoutMillis) - (System.nanoTime() - start);
          if (left <= 0) {
            throw Errors.timeout("connect to " + target + " (its backlog is full)", timeoutMillis);
          }
          sleepNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(backoff)));
          backoff = Math.min(backoff * 2, MAX_CONNECT_BACKOFF_MILLIS);
          continue;
        }
        throw Errors.of(err, "connect to " + target);
      }
      ctx.peerAddress(target);
      checkPeer(ctx, "connect to " + target);
    } finally {
      ctx.exit();
    }
  }

  @Override
  public boolean hasWritev() {
    return true;
  }

  @Override
  public long writev(UnixSocket ctx, ByteBuffer[] buffers, long timeoutMillis) throws IOException {
    return ctx.writev(buffers, effective(timeoutMillis));
  }

  @Override
  public int write(UnixSocket ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    return ctx.write(buffer, effective(timeoutMillis));
  }

  @Override
  public int read(UnixSocket ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    return ctx.read(buffer, effective(timeoutMillis), fullImpl);
  }

  /** True with {@link #FLAG_FULL_IMPL}, the only mode in which core asks for wakeups. */
  @Override
  public boolean hasReadWakeup() {
    return fullImpl;
  }

  /**
   * Makes the {@code read} of {@code ctx} that waits on another thread, or else the next one
   * that would wait, throw {@link Errno#ETIMEDOUT} at once; data already readable is still
   * returned first. Rings the socket's eventfd (see {@link UnixSocket}); never blocks, and
   * does nothing on a closed socket.
   */
  @Override
  public void wakeupRead(UnixSocket ctx) {
    ctx.wakeupRead();
  }

  /** 2, as {@code erl_uds_dist} uses {@code {packet, 2}} until the handshake completes. */
  @Override
  public int handshakePacketHeaderSize(UnixSocket ctx) {
    return 2;
  }

  @Override
  public int fd(UnixSocket ctx) {
    return ctx.fd();
  }

  /**
   * The socket file {@code alive} in {@link #directory()} (or the abstract name with the
   * configured prefix), as {@code erl_uds_dist} resolves node names; {@code host} is
   * ignored since AF_UNIX peers run on this machine. Never empty: AF_UNIX has no EPMD.
   *
   * @throws IllegalArgumentException see {@link #addressOf}
   */
  @Override
  public Optional<SocketAddress> nodeAddress(String alive, String host) {
    return Optional.of(addressOfAlive(alive));
  }

  @Override
  public String toString() {
    return "UnixTransport[" + (abstractPrefix != null ? "abstract @" + abstractPrefix
        : "directory " + (directory.toString().isEmpty() ? "." : directory))
        + (fullImpl ? "" : ", no FULL_IMPL")
        + (allowedPeerUids != null ? ", peer uids " + allowedPeerUids : "") + "]";
  }

  // ---------------------------------------------------------------------------------------

  private UnixSocketAddress addressOfAlive(String alive) {
    Objects.requireNonNull(alive, "alive");
    if (alive.isEmpty() || alive.equals(".") || alive.equals("..") || alive.indexOf('/') >= 0
        || alive.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("node name part '" + alive + "' cannot name a socket");
    }
    return abstractPrefix != null
        ? UnixSocketAddress.ofAbstract(abstractPrefix + alive)
        : UnixSocketAddress.of(directory.resolve(alive));
  }

  private long effective(long timeoutMillis) {
    checkTimeout(timeoutMillis);
    return fullImpl ? timeoutMillis : INFINITE;
  }

  private static void checkTimeout(long timeoutMillis) {
    if (timeoutMillis < 0 && timeoutMillis != INFINITE) {
      throw new IllegalArgumentException("negative timeout: " + timeoutMillis);
    }
  }

  private void checkPeer(UnixSocket ctx, String operation) throws ErrnoException {
    if (allowedPeerUids == null) {
      return;
    }
    PeerCredentials peer = SocketOptions.peerCredentials(ctx);
    if (!allowedPeerUids.contains(peer.uid())) {
      throw new ErrnoException(Errno.EACCES, operation + ": the peer (pid " + peer.pid()
          + ") runs as uid " + peer.uid() + ", which is not among the allowed uids " + allowedPeerUids);
    }
  }




  private static void sleepNanos(long nanos) throws ErrnoException {
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ErrnoException(Errno.EINTR, "connect interrupted", e);
    }
  }

  /**
   * Options of {@link UnixTransport}. Defaults: socket files in the working
   * directory, {@link #FLAG_FULL_IMPL} on, owner-only socket files, peers of our own user
   * id only.
   */
  public static final class Builder {
    private Path directory = Path.of("");
    private String abstractPrefix;
    private boolean fullImpl = true;
    private Set<PosixFilePermission> filePermissions =
        EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    private Set<Integer> allowedPeerUids = new LinkedHashSet<>(Set.of(LibC.getuid()));

    private Builder() {}

    /**
     * The directory in which node names resolve to socket files ({@code alive@host} is
     * {@code directory/alive}). The default, the empty path, is the working directory, as
     * for {@code erl_uds_dist}; an Erlang node and a Java node find each other when this is
     * the Erlang node's working directory. Clears {@link #abstractNames}.
     */
    public Builder directory(Path directory) {
      this.directory = Objects.requireNonNull(directory, "directory");
      this.abstractPrefix = null;
      return this;
    }

    /**
     * Resolve node names to Linux abstract names {@code prefix + alive} instead of files.
     * Abstract names need no directory and never go stale, but any local user can connect
     * to them: combine with {@link #allowedPeerUids}. Erlang's {@code erl_uds_dist} uses
     * files, so Erlang nodes cannot be reached this way.
     */
    public Builder abstractNames(String prefix) {
      this.abstractPrefix = Objects.requireNonNull(prefix, "prefix");
      return this;
    }

    /**
     * Whether the callbacks implement timeouts ({@link #FLAG_FULL_IMPL}, the default). Off,
     * core does it by polling the descriptor, which is how ei runs a transport without
     * {@code EI_SCLBK_FLG_FULL_IMPL}; useful to exercise that path on a real descriptor.
     */
    public Builder fullImpl(boolean fullImpl) {
      this.fullImpl = fullImpl;
      return this;
    }

    /**
     * The permissions of socket files this transport listens on (default: owner read and
     * write). Connecting to a socket file needs write permission on it.
     */
    public Builder socketFilePermissions(Set<PosixFilePermission> permissions) {
      this.filePermissions = EnumSet.noneOf(PosixFilePermission.class);
      this.filePermissions.addAll(permissions);
      return this;
    }

    /**
     * Also accept connections from, and connect to, processes running as user {@code uid}
     * ({@code SO_PEERCRED}), besides our own user and any allowed before. This is the option
     * behind a command line's {@code --allow-uid}.
     */
    public Builder allowUid(int uid) {
      if (allowedPeerUids == null) {
        allowedPeerUids = new LinkedHashSet<>();
      }
      allowedPeerUids.add(LibC.getuid());
      allowedPeerUids.add(uid);
      return this;
    }

    /**
     * Accept connections from, and connect to, processes running as one of exactly these
     * user ids, as the kernel reports them ({@code SO_PEERCRED}); unlike {@link #allowUid},
     * our own user is not added. An empty call allows the current user alone, the default.
     */
    public Builder allowedPeerUids(int... uids) {
      Set<Integer> set = new LinkedHashSet<>();
      if (uids.length == 0) {
        set.add(LibC.getuid());
      }
      for (int uid : uids) {
        set.add(uid);
      }
      this.allowedPeerUids = set;
      return this;
    }

    /**
     * Turn the peer-uid check off: any local user who can reach the socket may connect, and
     * we connect to a socket whoever listens on it. Only safe when the socket's directory and
     * permissions alone keep other users out.
     */
    public Builder allowAnyPeerUid() {
      this.allowedPeerUids = null;
      return this;
    }

    /** The transport with these options; the builder may be changed and used again. */
    public UnixTransport build() {
      return new UnixTransport(this);
    }
  }
}
