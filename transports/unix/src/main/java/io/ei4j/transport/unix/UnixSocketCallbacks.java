package io.ei4j.transport.unix;

import com.sun.jna.Memory;
import io.ei4j.api.Accepted;
import io.ei4j.api.ByteBuffers;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
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
 * that is not a socket is never deleted. The socket file gets owner-only permissions
 * ({@link Builder#socketFilePermissions}) before the socket starts listening, so nobody
 * else can connect in between, and it is removed when the listening socket is closed,
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
 * {@link Builder#allowedPeerUids} makes {@code accept} and {@code connect} check the
 * peer's user id from {@code SO_PEERCRED}, which the kernel records and peers cannot
 * forge; a mismatch closes the connection and fails with {@link Errno#EACCES}.
 *
 * <p>Instances are immutable and thread-safe; one serves any number of nodes and sockets.
 */
public final class UnixSocketCallbacks implements SocketCallbacks<UnixSocket> {
  /** The most buffers one {@code writev} call hands to the kernel; the rest is a short write. */
  static final int MAX_IOV = 64;
  /**
   * How much of heap buffers one call copies through native memory: the size of each
   * socket's staging areas when they are allocated.
   */
  static final int STAGING_SIZE = 64 * 1024;
  /**
   * The most a socket's write staging area grows to, once, when a call has more heap bytes
   * to write than {@link #STAGING_SIZE}: it grows to the socket's send buffer size
   * ({@code SO_SNDBUF}, what the kernel can take at most in one call) within
   * {@code STAGING_SIZE} and this bound, so that large messages take a few system calls
   * instead of one per 64 KiB.
   */
  static final int MAX_STAGING_SIZE = 1024 * 1024;
  private static final int MAX_CONNECT_BACKOFF_MILLIS = 16;
  private static final int S_IFMT = 0xF000;
  private static final int S_IFSOCK = 0xC000;
  private static final int MAX_STALE_RETRIES = 3;

  private final Path directory;
  private final String abstractPrefix;
  private final boolean fullImpl;
  private final Set<PosixFilePermission> filePermissions;
  private final Set<Integer> allowedPeerUids;

  private UnixSocketCallbacks(Builder b) {
    this.directory = b.directory;
    this.abstractPrefix = b.abstractPrefix;
    this.fullImpl = b.fullImpl;
    this.filePermissions = Collections.unmodifiableSet(EnumSet.copyOf(b.filePermissions));
    this.allowedPeerUids =
        b.allowedPeerUids == null ? null : Collections.unmodifiableSet(new LinkedHashSet<>(b.allowedPeerUids));
  }

  /**
   * Options for the transport.
   *
   * @throws IllegalStateException when {@link UnixTransport#isAvailable()} is false
   */
  public static Builder builder() {
    UnixTransport.ensureAvailability();
    return new Builder();
  }

  /** The transport with default options: see {@link Builder}. */
  public static UnixSocketCallbacks create() {
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
      removeIfUnchanged(file, fileKey);
    }
    if (err != 0) {
      throw Errors.of(err, "close " + ctx);
    }
  }

  /**
   * Binds to {@code address} ({@link UnixSocketAddress} or {@link UnixDomainSocketAddress})
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
    UnixSocketAddress target = toUnix(address);
    ctx.enter("listen");
    try (Memory sa = sockaddr(target)) {
      for (int attempt = 0; ; attempt++) {
        if (LibC.bind(ctx.fd(), LibC.address(sa), target.sockaddrLength()) == 0) {
          break;
        }
        int err = LibC.errno();
        if (err == LibC.EADDRINUSE && target.kind() == UnixSocketAddress.Kind.PATH
            && attempt < MAX_STALE_RETRIES) {
          removeStale(target);
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
          ctx.ownFile(file, fileKey(file));
        } catch (IOException | UnsupportedOperationException e) {
          deleteQuietly(file);
          throw new ErrnoException(Errno.EACCES, "listen on " + target
              + ": cannot set the socket file's permissions to " + filePermissions, e);
        }
      }
      if (LibC.listen(ctx.fd(), backlog) != 0) {
        int err = LibC.errno();
        if (file != null) {
          deleteQuietly(file);
          ctx.ownFile(null, null);
        }
        throw Errors.of(err, "listen on " + target);
      }
      UnixSocketAddress bound = localAddress(ctx);
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
          UnixSocketAddress peer = decode(sa, sa.getInt(LibC.SOCKADDR_UN_SIZE));
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
          await(listenCtx, LibC.POLLIN, timeout, start, "accept");
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
    UnixSocketAddress target = toUnix(address);
    if (target.kind() == UnixSocketAddress.Kind.UNNAMED) {
      throw new IllegalArgumentException("cannot connect to an unnamed address");
    }
    checkTimeout(timeoutMillis);
    long start = System.nanoTime();
    ctx.enter("connect");
    try (Memory sa = sockaddr(target)) {
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
          await(ctx, LibC.POLLOUT, timeoutMillis, start, "connect to " + target);
          int soError = socketError(ctx);
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

  /**
   * One {@code sendmsg(2)} of up to {@value #MAX_IOV} buffers; heap buffers are copied
   * through native memory, up to {@value #STAGING_SIZE} bytes per call, or up to the
   * socket's send buffer size (at most {@value #MAX_STAGING_SIZE}) once the socket has had a
   * call with more heap bytes than that (see {@link UnixSocket}). A peer that has gone is
   * {@link Errno#EPIPE} (never a {@code SIGPIPE}).
   */
  @Override
  public long writev(UnixSocket ctx, ByteBuffer[] buffers, long timeoutMillis) throws IOException {
    long timeout = effective(timeoutMillis);
    long start = System.nanoTime();
    ctx.enter("writev");
    try {
      Memory control = ctx.writeControl;
      long msg = LibC.address(control);
      long iov = msg + LibC.MSGHDR_SIZE;
      int count = 0;
      int staged = 0;
      Memory staging = null;
      int capacity = 0;
      for (ByteBuffer b : buffers) {
        int remaining = b.remaining();
        if (remaining == 0) {
          continue;
        }
        if (count == MAX_IOV) {
          break;
        }
        long address;
        long length;
        if (b.isDirect()) {
          address = addressOf(b);
          length = remaining;
        } else {
          if (staging == null) {
            staging = ctx.writeStaging(heapBytes(buffers));
            capacity = (int) staging.size();
          }
          if (staged == capacity) {
            break;
          }
          int n = Math.min(remaining, capacity - staged);
          ctx.writeView().put(staged, b, b.position(), n);
          address = LibC.address(staging) + staged;
          length = n;
          staged += n;
        }
        long slot = LibC.MSGHDR_SIZE + (long) count * LibC.IOVEC_SIZE;
        control.setLong(slot, address);
        control.setLong(slot + 8, length);
        count++;
        if (length < remaining) {
          break;
        }
      }
      if (count == 0) {
        return 0;
      }
      control.setMemory(0, LibC.MSGHDR_SIZE, (byte) 0);
      control.setLong(LibC.MSGHDR_IOV, iov);
      control.setLong(LibC.MSGHDR_IOVLEN, count);
      for (;;) {
        long n = LibC.sendmsg(ctx.fd(), msg, LibC.MSG_NOSIGNAL);
        if (n >= 0) {
          ByteBuffers.advance(buffers, n);
          return n;
        }
        int err = LibC.errno();
        if (err == LibC.EINTR) {
          continue;
        }
        if (ctx.isClosed()) {
          throw Errors.closed("writev");
        }
        if (err == LibC.EAGAIN) {
          await(ctx, LibC.POLLOUT, timeout, start, "writev");
          continue;
        }
        throw Errors.of(err, "write to " + ctx.peerAddress());
      }
    } finally {
      ctx.exit();
    }
  }

  @Override
  public int write(UnixSocket ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    int remaining = buffer.remaining();
    if (remaining == 0) {
      return 0;
    }
    long timeout = effective(timeoutMillis);
    long start = System.nanoTime();
    ctx.enter("write");
    try {
      long address;
      int length;
      if (buffer.isDirect()) {
        address = addressOf(buffer);
        length = remaining;
      } else {
        Memory staging = ctx.writeStaging(remaining);
        length = (int) Math.min(remaining, staging.size());
        ctx.writeView().put(0, buffer, buffer.position(), length);
        address = LibC.address(staging);
      }
      for (;;) {
        long n = LibC.send(ctx.fd(), address, length, LibC.MSG_NOSIGNAL);
        if (n >= 0) {
          buffer.position(buffer.position() + (int) n);
          return (int) n;
        }
        int err = LibC.errno();
        if (err == LibC.EINTR) {
          continue;
        }
        if (ctx.isClosed()) {
          throw Errors.closed("write");
        }
        if (err == LibC.EAGAIN) {
          await(ctx, LibC.POLLOUT, timeout, start, "write");
          continue;
        }
        throw Errors.of(err, "write to " + ctx.peerAddress());
      }
    } finally {
      ctx.exit();
    }
  }

  @Override
  public int read(UnixSocket ctx, ByteBuffer buffer, long timeoutMillis) throws IOException {
    int remaining = buffer.remaining();
    if (remaining == 0) {
      return 0;
    }
    long timeout = effective(timeoutMillis);
    long start = System.nanoTime();
    ctx.enter("read");
    try {
      boolean direct = buffer.isDirect();
      Memory staging = direct ? null : ctx.readStaging();
      ByteBuffer view = direct ? null : ctx.readView();
      for (;;) {
        long n;
        if (direct) {
          n = LibC.recv(ctx.fd(), addressOf(buffer), remaining, 0);
          if (n > 0) {
            buffer.position(buffer.position() + (int) n);
          }
        } else {
          n = LibC.recv(ctx.fd(), LibC.address(staging), Math.min(remaining, STAGING_SIZE), 0);
          if (n > 0) {
            int position = buffer.position();
            buffer.put(position, view, 0, (int) n);
            buffer.position(position + (int) n);
          }
        }
        if (n > 0) {
          return (int) n;
        }
        if (ctx.isClosed()) {
          throw Errors.closed("read");
        }
        if (n == 0) {
          return -1;
        }
        int err = LibC.errno();
        if (err == LibC.EINTR) {
          continue;
        }
        if (err == LibC.EAGAIN) {
          if (fullImpl) {
            awaitReadable(ctx, timeout, start);
          } else {
            await(ctx, LibC.POLLIN, timeout, start, "read");
          }
          continue;
        }
        throw Errors.of(err, "read from " + ctx.peerAddress());
      }
    } finally {
      ctx.exit();
    }
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
    return "UnixSocketCallbacks[" + (abstractPrefix != null ? "abstract @" + abstractPrefix
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

  /**
   * Waits with {@code poll(2)} until {@code ctx} is ready for {@code events} or the time
   * left of {@code timeoutMillis} since {@code start} runs out.
   */
  private static void await(UnixSocket ctx, short events, long timeoutMillis, long start,
      String operation) throws ErrnoException {
    for (;;) {
      int wait = pollMillis(timeoutMillis, start, operation);
      int revents = LibC.pollOne(ctx.fd(), events, wait);
      if (ctx.isClosed() || (revents > 0 && (revents & LibC.POLLNVAL) != 0)) {
        throw Errors.closed(operation);
      }
      if (revents > 0) {
        return;
      }
      if (revents < 0) {
        int err = LibC.errno();
        if (err != LibC.EINTR) {
          throw Errors.of(err, operation + ": poll");
        }
      }
    }
  }

  /**
   * The {@code poll(2)} timeout for what is left of {@code timeoutMillis} since
   * {@code start}: -1 for {@link #INFINITE}, else at least 1 ms.
   *
   * @throws ErrnoException {@link Errno#ETIMEDOUT} when nothing is left
   */
  private static int pollMillis(long timeoutMillis, long start, String operation) throws ErrnoException {
    if (timeoutMillis == INFINITE) {
      return -1;
    }
    long left = TimeUnit.MILLISECONDS.toNanos(timeoutMillis) - (System.nanoTime() - start);
    if (left <= 0) {
      throw Errors.timeout(operation, timeoutMillis);
    }
    return (int) Math.min(Integer.MAX_VALUE, UnixFdPoller.ceilMillis(left));
  }

  /**
   * {@link #await} for a read with {@link #FLAG_FULL_IMPL}: also ends, with
   * {@link Errno#ETIMEDOUT}, when a {@link #wakeupRead} is pending or arrives, by polling the
   * socket's wakeup eventfd along with it. Readable data wins over a wakeup that arrives
   * during the wait: the wakeup then stays pending for the next wait.
   */
  private static void awaitReadable(UnixSocket ctx, long timeoutMillis, long start) throws ErrnoException {
    int wakeFd = ctx.wakeFd();
    for (;;) {
      int wait = pollMillis(timeoutMillis, start, "read");
      if (ctx.consumeReadWakeup()) {
        throw Errors.woken("read");
      }
      int revents = LibC.pollTwo(ctx.fd(), LibC.POLLIN, wakeFd, wait);
      if (ctx.isClosed() || (revents > 0 && (revents & (LibC.POLLNVAL | LibC.POLLNVAL << 16)) != 0)) {
        throw Errors.closed("read");
      }
      if (revents > 0) {
        if ((revents & 0xFFFF) != 0) {
          return;
        }
        // Only the doorbell rang: empty it, and let the flag say whether it was for this wait.
        LibC.eventfdRead(wakeFd);
      } else if (revents < 0) {
        int err = LibC.errno();
        if (err != LibC.EINTR) {
          throw Errors.of(err, "read: poll");
        }
      }
    }
  }

  private void checkPeer(UnixSocket ctx, String operation) throws ErrnoException {
    if (allowedPeerUids == null) {
      return;
    }
    PeerCredentials peer = peerCredentials(ctx);
    if (!allowedPeerUids.contains(peer.uid())) {
      throw new ErrnoException(Errno.EACCES, operation + ": the peer (pid " + peer.pid()
          + ") runs as uid " + peer.uid() + ", which is not among the allowed uids " + allowedPeerUids);
    }
  }

  static PeerCredentials peerCredentials(UnixSocket ctx) throws ErrnoException {
    try (Memory cred = new Memory(LibC.UCRED_SIZE + 4)) {
      long address = LibC.address(cred);
      cred.setInt(LibC.UCRED_SIZE, LibC.UCRED_SIZE);
      if (LibC.getsockopt(ctx.fd(), LibC.SOL_SOCKET, LibC.SO_PEERCRED, address,
          address + LibC.UCRED_SIZE) != 0) {
        throw Errors.of(LibC.errno(), "getsockopt(SO_PEERCRED) on " + ctx);
      }
      return new PeerCredentials(cred.getInt(0), cred.getInt(4), cred.getInt(8));
    }
  }

  private static int socketError(UnixSocket ctx) throws ErrnoException {
    try (Memory value = new Memory(8)) {
      long address = LibC.address(value);
      value.setInt(4, 4);
      if (LibC.getsockopt(ctx.fd(), LibC.SOL_SOCKET, LibC.SO_ERROR, address, address + 4) != 0) {
        throw Errors.of(LibC.errno(), "getsockopt(SO_ERROR)");
      }
      return value.getInt(0);
    }
  }

  private static UnixSocketAddress localAddress(UnixSocket ctx) throws ErrnoException {
    try (Memory sa = new Memory(LibC.SOCKADDR_UN_SIZE + 4)) {
      long address = LibC.address(sa);
      sa.setInt(LibC.SOCKADDR_UN_SIZE, LibC.SOCKADDR_UN_SIZE);
      if (LibC.getsockname(ctx.fd(), address, address + LibC.SOCKADDR_UN_SIZE) != 0) {
        throw Errors.of(LibC.errno(), "getsockname");
      }
      return decode(sa, sa.getInt(LibC.SOCKADDR_UN_SIZE));
    }
  }

  /** Decodes a {@code sockaddr_un} of {@code length} bytes (the kernel's {@code addrlen}). */
  private static UnixSocketAddress decode(Memory sa, int length) {
    int pathLength = Math.min(length, LibC.SOCKADDR_UN_SIZE) - LibC.SUN_PATH_OFFSET;
    if (pathLength <= 0) {
      return UnixSocketAddress.unnamed();
    }
    return UnixSocketAddress.fromSunPath(sa.getByteArray(LibC.SUN_PATH_OFFSET, pathLength), pathLength);
  }

  /** A zeroed {@code sockaddr_un} holding {@code address}; the caller closes it. */
  private static Memory sockaddr(UnixSocketAddress address) {
    Memory sa = new Memory(LibC.SOCKADDR_UN_SIZE);
    sa.clear();
    sa.setShort(0, (short) LibC.AF_UNIX);
    byte[] path = address.sunPathBytes();
    sa.write(LibC.SUN_PATH_OFFSET, path, 0, path.length);
    return sa;
  }

  private static UnixSocketAddress toUnix(SocketAddress address) {
    if (address instanceof UnixSocketAddress u) {
      return u;
    }
    if (address instanceof UnixDomainSocketAddress u) {
      return UnixSocketAddress.of(u);
    }
    throw new IllegalArgumentException("the AF_UNIX transport needs a UnixSocketAddress or a "
        + "UnixDomainSocketAddress, not " + (address == null ? "null" : address.getClass().getName()));
  }

  /** The bytes left in the heap buffers among {@code buffers}. */
  private static long heapBytes(ByteBuffer[] buffers) {
    long n = 0;
    for (ByteBuffer b : buffers) {
      if (!b.isDirect()) {
        n += b.remaining();
      }
    }
    return n;
  }

  private static long addressOf(ByteBuffer direct) {
    return LibC.address(direct);
  }


  /**
   * Handles {@code EADDRINUSE} on a socket file as {@code erl_uds_dist} does: a live
   * listener means a duplicate name; a socket file nobody answers on is stale and deleted.
   */
  private static void removeStale(UnixSocketAddress target) throws IOException {
    Path file = target.path().orElseThrow();
    Object keyBefore;
    try {
      int mode = (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      if ((mode & S_IFMT) != S_IFSOCK) {
        throw new ErrnoException(Errno.EADDRINUSE, "listen on " + target
            + ": the path exists and is not a socket; it is left alone");
      }
      keyBefore = fileKey(file);
    } catch (NoSuchFileException e) {
      return; // gone meanwhile: bind again
    }
    int probe = LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0);
    if (probe < 0) {
      throw Errors.of(LibC.errno(), "socket(AF_UNIX, SOCK_STREAM)");
    }
    int err;
    try (Memory sa = sockaddr(target)) {
      int rc;
      do {
        rc = LibC.connect(probe, LibC.address(sa), target.sockaddrLength());
        err = rc == 0 ? 0 : LibC.errno();
      } while (err == LibC.EINTR);
    } finally {
      LibC.close(probe);
    }
    if (err == 0 || err == LibC.EAGAIN || err == LibC.EINPROGRESS) {
      throw new ErrnoException(Errno.EADDRINUSE, "listen on " + target
          + ": a live socket already listens there (duplicate node name)");
    }
    if (err == LibC.ENOENT) {
      return;
    }
    if (err != LibC.ECONNREFUSED) {
      throw Errors.of(err, "listen on " + target + ": checking whether the existing socket is live");
    }
    try {
      if (!Objects.equals(keyBefore, fileKey(file))) {
        return; // replaced meanwhile: look again
      }
      Files.deleteIfExists(file);
    } catch (NoSuchFileException e) {
      // gone meanwhile: bind again
    } catch (IOException e) {
      throw new ErrnoException(Errno.EACCES, "listen on " + target
          + ": cannot remove the stale socket file", e);
    }
  }

  private static Object fileKey(Path file) throws IOException {
    return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
  }

  private static void removeIfUnchanged(Path file, Object fileKey) throws IOException {
    try {
      if (fileKey == null || fileKey.equals(fileKey(file))) {
        Files.deleteIfExists(file);
      }
    } catch (NoSuchFileException e) {
      // already gone
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // the listen failure is what the caller needs to see
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
   * Options of {@link UnixSocketCallbacks}. Defaults: socket files in the working
   * directory, {@link #FLAG_FULL_IMPL} on, owner-only socket files, no peer-uid check.
   */
  public static final class Builder {
    private Path directory = Path.of("");
    private String abstractPrefix;
    private boolean fullImpl = true;
    private Set<PosixFilePermission> filePermissions =
        EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    private Set<Integer> allowedPeerUids;

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
     * Accept connections from, and connect to, processes running as one of these user
     * ids only, as the kernel reports them ({@code SO_PEERCRED}). An empty call allows the
     * current user alone.
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

    /** The transport with these options; the builder may be changed and used again. */
    public UnixSocketCallbacks build() {
      return new UnixSocketCallbacks(this);
    }
  }
}
