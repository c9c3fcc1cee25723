package io.ei4j.transport.tls;

import io.ei4j.api.Accepted;
import io.ei4j.api.ByteBuffers;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import io.ei4j.api.SocketCallbacks;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnresolvedAddressException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;

/**
 * One socket of the {@link TlsTransport}: the context core hands back to every callback.
 * Either a listener (all of whose work is done by its {@link TlsListener}, with the
 * handshakes it accepts in {@link TlsPendingHandshake}s), or a connected TCP socket with
 * a BCJSSE {@link SSLEngine} on it: this class is that connection.
 *
 * <p>The TCP channel is non-blocking; every wait goes through a {@link Selector} with the
 * caller's deadline, so reads, writes, connects and accepts honour their timeouts
 * ({@code FULL_IMPL}). Reads and writes have their own lock and their own selector, so one
 * thread may read while another writes, as core does; {@link #close} from any thread
 * closes both selectors, which wakes any blocked call and makes it fail with
 * {@link Errno#EBADF}. {@link #wakeupRead} wakes only the read selector: a read then gives
 * up with {@link Errno#ETIMEDOUT} where it would wait for the channel, never in the middle
 * of decrypting what it has.
 *
 * <p>Buffers, all kept in write mode between calls:
 * <pre>
 *   channel --read--> netIn --unwrap--> caller            (the caller's buffer has room for a record)
 *                           --unwrap--> appIn --copy--> caller   (it has not)
 *   caller --wrap--> netOut --write--> channel
 * </pre>
 * A read decrypts every whole record {@code netIn} holds while the caller's buffer has room
 * for one more, so a bulk transfer costs one read call per buffer of records, and its
 * plaintext is copied by BCJSSE straight into the caller's buffer.
 */
public final class TlsSocket {
  static final long NO_DEADLINE = Long.MAX_VALUE;
  /** The most plaintext one write call encrypts before it returns (a short write). */
  private static final int MAX_PLAINTEXT_PER_WRITE = 256 * 1024;
  /** How long {@link #close} tries to deliver close_notify to a slow peer. */
  private static final long CLOSE_NOTIFY_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
  /**
   * How many records' worth {@code netIn} grows to once a read of the channel fills it: a bulk
   * transfer is then read and decrypted four records per call, while a connection that never
   * filled its buffer keeps one of one record. It does not shrink back (about 67 KB per
   * connection that once received in bulk).
   */
  private static final int BULK_READ_RECORDS = 4;
  /** No TLS record needs more; see {@link #grow}. */
  private static final int MAX_BUFFER_BYTES = 1 << 20;
  private static final ByteBuffer[] NOTHING = {ByteBuffer.allocate(0)};
  /** The most a refused peer's unread bytes are read for, before the close; see {@link #discardReadable}. */
  private static final int DISCARD_BYTES = 16 * 1024;
  /** A TLS record header: content type, protocol version, length. */
  static final int RECORD_HEADER_BYTES = 5;
  /** TLS record content type of handshake messages, visible in a TLS 1.2 record header. */
  private static final int CONTENT_TYPE_HANDSHAKE = 22;
  /** TLS record content type of application data, and of every TLS 1.3 record after the handshake. */
  private static final int CONTENT_TYPE_APPLICATION_DATA = 23;
  private static final System.Logger LOG = System.getLogger(TlsSocket.class.getName());

  private final TlsConfig config;
  private final ReentrantLock readLock = new ReentrantLock();
  private final ReentrantLock writeLock = new ReentrantLock();
  private final AtomicBoolean closed = new AtomicBoolean();
  /** Set when the engine may hold an answer to a post-handshake record; see {@link #answerPeer}. */
  private final AtomicBoolean answerPending = new AtomicBoolean();

  /** Set by {@link #listen}: the listener this socket is, else null. */
  private volatile TlsListener listener;
  private volatile SocketChannel channel;
  private volatile Selector readSelector;
  private volatile Selector writeSelector;
  private SelectionKey writeKey;
  private volatile SSLEngine engine;
  private String peerName = "TLS peer";
  private ByteBuffer netIn;
  private ByteBuffer appIn;
  private ByteBuffer netOut;
  private boolean inputClosed;
  /**
   * A failure of a record that followed others decrypted in the same {@link #read} (see
   * {@link #unwrapMore}): thrown by the next read, so that the data before it is returned
   * first. Guarded by readLock.
   */
  private SSLException deferredReadFailure;
  /** Set once the peer tried to renegotiate: why every later read fails. Guarded by readLock. */
  private String renegotiationRefused;
  private volatile boolean closeNotifyReceived;
  /**
   * Set by {@link #wakeupRead()}: the next wait of {@link #read} for bytes from the channel
   * (or the one under way) throws {@link Errno#ETIMEDOUT} instead; cleared by that wait.
   * Only {@link #fill} looks at it, where everything received so far is buffered in
   * {@code netIn} or already decrypted, so a wakeup never cuts a record or a handshake short.
   */
  private volatile boolean readWakeup;
  private volatile int fd = -1;
  /**
   * An accepted socket's first record header as it arrives, until its engine is made (see
   * {@link #startOnFirstHeader}); null otherwise.
   */
  private ByteBuffer firstHeader;
  /** Set once the handshake saw the peer's first bytes (checked to look like TLS). */
  private boolean sawInput;
  /** Whole TLS records the handshake has taken from the peer: its progress. */
  private int handshakeRecordsIn;

  TlsSocket(TlsConfig config) {
    this.config = config;
  }

  /** The configuration this socket was created with. */
  public TlsConfig config() {
    return config;
  }

  /**
   * The TLS session once the handshake has succeeded: the negotiated protocol and cipher
   * suite, and the peer's certificates. Empty for a listening or unconnected socket.
   */
  public Optional<SSLSession> session() {
    SSLEngine e = engine;
    if (e == null || e.getHandshakeStatus() != HandshakeStatus.NOT_HANDSHAKING) {
      return Optional.empty();
    }
    return Optional.of(e.getSession());
  }

  @Override
  public String toString() {
    if (listener != null) {
      return "TlsSocket{listening}";
    }
    return channel == null ? "TlsSocket{unconnected}" : "TlsSocket{" + peerName + "}";
  }

  // ---------------------------------------------------------------- listen and accept

  SocketAddress listen(SocketAddress address, int backlog) throws IOException {
    ensureFresh();
    if (!(address instanceof InetSocketAddress isa)) {
      throw new ErrnoException(Errno.EAFNOSUPPORT, "TLS listens on an InetSocketAddress, not " + address);
    }
    if (!config.hasCertificate()) {
      throw new ErrnoException(Errno.EINVAL,
          "a TLS listener needs a certificate: configure TlsConfig.certificate(..) or keyStore(..)");
    }
    TlsListener l = TlsListener.open(config, isa, backlog);
    listener = l;
    if (closed.get()) {
      l.close(); // a close that ran while we opened may have missed it
      throw Errors.closed("listen");
    }
    return l.localAddress();
  }

  /**
   * The next accepted connection whose TLS handshake completes within the timeout; see
   * {@link TlsListener#accept}. Calls are serialized by the read lock.
   */
  Accepted<TlsSocket> accept(long timeoutMillis) throws IOException {
    TlsListener l = listener;
    if (l == null) {
      throw new ErrnoException(Errno.EINVAL, "accept on a socket that is not listening");
    }
    long deadline = deadline(timeoutMillis);
    readLock.lock();
    try {
      ensureOpen("accept");
      return l.accept(timeoutMillis, deadline);
    } finally {
      readLock.unlock();
    }
  }

  /**
   * A server-side socket for a TCP connection a {@link TlsListener} accepted, with its TLS
   * handshake started; {@link #stepHandshake} advances it without blocking.
   */
  static TlsSocket accepted(TlsConfig config, SocketChannel c, SocketAddress remote) throws IOException {
    TlsSocket child = new TlsSocket(config);
    child.channel = c;
    child.peerName = String.valueOf(remote);
    try {
      c.configureBlocking(false);
      c.setOption(StandardSocketOptions.TCP_NODELAY, true);
      // no engine yet: stepHandshake makes one once the peer's first record header arrives
      child.firstHeader = ByteBuffer.allocate(RECORD_HEADER_BYTES);
      return child;
    } catch (IOException | RuntimeException e) {
      closeQuietly(child);
      throw e;
    }
  }

  /**
   * How many whole TLS records the handshake has taken from the peer so far. An honest
   * client sends its ClientHello at once; a connection that has sent no whole record has
   * done nothing a listener must keep a slot for.
   */
  int handshakeRecordsIn() {
    return handshakeRecordsIn;
  }

  /**
   * Whether this accepted socket has read nothing from its peer yet: its channel can then be
   * handed to a fresh socket later as if it had just been accepted.
   */
  boolean readNothing() {
    return engine == null && firstHeader != null && firstHeader.position() == 0;
  }

  /**
   * Gives up the TLS state of a server-side socket whose handshake never got anywhere and
   * returns its channel, still open, for the listener to close later: this socket counts as
   * closed from now on, and no alert is sent.
   */
  SocketChannel detachChannel() {
    closed.set(true);
    engine = null;
    firstHeader = null;
    netIn = null;
    appIn = null;
    netOut = null;
    return channel;
  }

  /** The peer's name for messages: its address, or the node name it was connected to by. */
  String peerName() {
    return peerName;
  }

  boolean isClosed() {
    return closed.get();
  }

  /** The TCP channel of a connected or accepted socket, else null. */
  SocketChannel channel() {
    return channel;
  }

  static void closeQuietly(TlsSocket s) {
    try {
      s.close();
    } catch (IOException e) {
      // the handshake failure is the error worth reporting
    }
  }

  // ---------------------------------------------------------------- connect

  void connect(SocketAddress address, long timeoutMillis) throws IOException {
    ensureFresh();
    if (!(address instanceof InetSocketAddress isa)) {
      throw new ErrnoException(Errno.EAFNOSUPPORT, "TLS connects to an InetSocketAddress, not " + address);
    }
    long deadline = deadline(timeoutMillis);
    String host = isa.getHostString();
    int port = isa.getPort();
    peerName = host + ":" + port;
    InetSocketAddress target = isa.isUnresolved() ? new InetSocketAddress(host, port) : isa;
    if (target.isUnresolved()) {
      throw new ErrnoException(Errno.EHOSTUNREACH, "connect to " + peerName + ": cannot resolve " + host);
    }
    writeLock.lock();
    try {
      SocketChannel c = SocketChannel.open();
      attach(c);
      if (!c.connect(target)) {
        writeKey.interestOps(SelectionKey.OP_CONNECT);
        while (!c.finishConnect()) {
          await(writeSelector, deadline, "connect to " + peerName);
        }
        writeKey.interestOps(SelectionKey.OP_WRITE);
      }
    } catch (ClosedSelectorException e) {
      throw Errors.closed("connect to " + peerName);
    } catch (UnresolvedAddressException e) {
      throw new ErrnoException(Errno.EHOSTUNREACH, "connect to " + peerName + ": cannot resolve " + host);
    } catch (IOException e) {
      throw Errors.map(e, "connect to " + peerName);
    } finally {
      writeLock.unlock();
    }
    engine = config.newEngine(true, host, port);
    long handshakeDeadline = System.nanoTime() + config.handshakeTimeout().toNanos();
    handshake(Math.min(deadline, handshakeDeadline));
  }

  private void attach(SocketChannel c) throws IOException {
    channel = c;
    c.configureBlocking(false);
    c.setOption(StandardSocketOptions.TCP_NODELAY, true);
    openSelectors();
  }

  /** The read and write selectors of a connected socket. */
  void openSelectors() throws IOException {
    SocketChannel c = channel;
    readSelector = Selector.open();
    writeSelector = Selector.open();
    c.register(readSelector, SelectionKey.OP_READ);
    writeKey = c.register(writeSelector, SelectionKey.OP_WRITE);
    if (closed.get()) {
      releaseAll(); // a close that ran while we opened may have missed these
      throw Errors.closed("connect");
    }
  }

  // ---------------------------------------------------------------- the TLS handshake

  /** Allocates the handshake's buffers and begins it. */
  private void startHandshake() throws IOException {
    SSLSession session = engine.getSession();
    netIn = ByteBuffer.allocate(session.getPacketBufferSize());
    appIn = ByteBuffer.allocate(session.getApplicationBufferSize());
    netOut = ByteBuffer.allocate(4 * session.getPacketBufferSize());
    try {
      engine.beginHandshake();
    } catch (SSLException e) {
      throw Errors.map(e, "TLS handshake with " + peerName + " failed");
    }
  }

  /**
   * Runs the whole TLS handshake on this thread. Any failure sends the engine's alert (if
   * it has one) and is reported as {@link Errno#EPROTO} with the reason, or
   * {@link Errno#ETIMEDOUT}; the caller closes the socket.
   */
  private void handshake(long deadline) throws IOException {
    String what = "TLS handshake with " + peerName;
    startHandshake();
    readLock.lock();
    writeLock.lock();
    try {
      while (true) {
        int op = stepHandshake();
        if (op == 0) {
          return;
        }
        await(op == SelectionKey.OP_READ ? readSelector : writeSelector, deadline, what);
      }
    } catch (ClosedSelectorException e) {
      throw Errors.closed(what);
    } finally {
      writeLock.unlock();
      readLock.unlock();
    }
  }

  /**
   * Advances the handshake as far as it goes without waiting. Returns 0 once it is done
   * (and all our handshake bytes are sent), else the {@link SelectionKey} operation it
   * waits for ({@code OP_READ} or {@code OP_WRITE}). Any failure sends the engine's alert
   * (if it has one) and is reported as {@link Errno#EPROTO} with the reason; the caller
   * closes the socket.
   */
  int stepHandshake() throws IOException {
    String what = "TLS handshake with " + peerName;
    try {
      if (engine == null && !startOnFirstHeader(what)) {
        return SelectionKey.OP_READ;
      }
      while (true) {
        if (netOut.position() > 0 && !writeSome()) {
          return SelectionKey.OP_WRITE;
        }
        HandshakeStatus status = engine.getHandshakeStatus();
        switch (status) {
          case NEED_WRAP -> {
            SSLEngineResult r = engine.wrap(NOTHING, netOut);
            if (r.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
              runTasks();
            }
            switch (r.getStatus()) {
              case BUFFER_OVERFLOW -> {
                if (netOut.position() == 0) {
                  netOut = grow(netOut, engine.getSession().getPacketBufferSize());
                }
              }
              case CLOSED -> {
                writeSome();
                throw new ErrnoException(Errno.EPROTO, what + ": the TLS engine closed during the handshake");
              }
              default -> {
                // sent at the top of the loop
              }
            }
          }
          case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
            if (netIn.position() > 0 && !sawInput) {
              sawInput = true;
              Errors.checkLooksLikeTls(netIn, what);
            }
            if (netIn.position() == 0 || !unwrapForHandshake()) {
              int n = channel.read(netIn);
              if (n < 0) {
                throw new ErrnoException(Errno.ECONNRESET, what + ": the peer closed the connection "
                    + "during the TLS handshake (it may have rejected our certificate, or not speak TLS)");
              }
              if (n == 0) {
                return SelectionKey.OP_READ;
              }
            }
          }
          case NEED_TASK -> runTasks();
          case FINISHED, NOT_HANDSHAKING -> {
            if (netOut.position() == 0) {
              return 0;
            }
          }
          default -> throw new ErrnoException(Errno.EPROTO, what + ": unexpected engine state " + status);
        }
      }
    } catch (SSLException e) {
      String hint = Errors.hint(e, engine, config);
      sendAlert();
      throw Errors.map(e, what + " failed" + hint);
    } catch (ErrnoException e) {
      throw e;
    } catch (IOException e) {
      throw Errors.map(e, what);
    }
  }

  /**
   * For an accepted socket: reads the peer's first record header and, once all of it is
   * there and it starts a handshake, makes the engine and hands the header to it. Until
   * then the socket holds no engine and no record buffers, so a connection that sends
   * nothing, or sends something that is not TLS, costs the listener one small buffer and
   * never the work of setting up an engine. Returns whether the engine exists now.
   */
  private boolean startOnFirstHeader(String what) throws IOException {
    ByteBuffer header = firstHeader;
    if (channel.read(header) < 0) {
      throw new ErrnoException(Errno.ECONNRESET, what + ": the peer closed the connection "
          + "before sending a TLS record");
    }
    if (header.position() > 0) {
      try {
        Errors.checkClientHelloHeader(header, what);
      } catch (ErrnoException refused) {
        discardReadable();
        throw refused;
      }
    }
    if (header.hasRemaining()) {
      return false;
    }
    SSLEngine e = config.newEngine(false, null, -1);
    engine = e;
    startHandshake();
    header.flip();
    netIn.put(header);
    firstHeader = null;
    return true;
  }

  /**
   * Reads and drops what a refused peer has sent so far (up to {@link #DISCARD_BYTES}), so
   * that closing the connection ends it with a FIN the peer can read as end of stream, not
   * with the reset the kernel sends when unread data remains.
   */
  private void discardReadable() {
    ByteBuffer scratch = ByteBuffer.allocate(DISCARD_BYTES);
    try {
      while (channel.read(scratch) > 0 && scratch.hasRemaining()) {
        // keep reading: only as much as is already there
      }
    } catch (IOException e) {
      // already reset or closed by the peer: nothing left to spare it
    }
  }

  /** One non-blocking write of {@code netOut}; true when all of it went out. */
  private boolean writeSome() throws IOException {
    netOut.flip();
    try {
      channel.write(netOut);
    } finally {
      netOut.compact();
    }
    return netOut.position() == 0;
  }




  /** One unwrap during the handshake; false when more bytes from the network are needed. */
  private boolean unwrapForHandshake() throws IOException {
    netIn.flip();
    SSLEngineResult r;
    try {
      r = engine.unwrap(netIn, appIn);
    } finally {
      netIn.compact();
    }
    switch (r.getStatus()) {
      case BUFFER_UNDERFLOW -> {
        growNetInIfFull();
        return false;
      }
      case BUFFER_OVERFLOW -> {
        appIn = grow(appIn, engine.getSession().getApplicationBufferSize());
        return true;
      }
      case CLOSED -> throw new ErrnoException(Errno.ECONNRESET,
          "TLS handshake with " + peerName + ": the peer closed the TLS session during the handshake");
      default -> {
        if (r.bytesConsumed() > 0) {
          handshakeRecordsIn++;
        }
        // no progress from the bytes we have means the engine waits for more of them
        return r.bytesConsumed() > 0 || r.bytesProduced() > 0
            || r.getHandshakeStatus() != HandshakeStatus.NEED_UNWRAP;
      }
    }
  }

  private void runTasks() {
    Runnable task;
    while ((task = engine.getDelegatedTask()) != null) {
      task.run();
    }
  }

  /** Best effort: the alert the engine produced after a failure, so the peer learns why. */
  private void sendAlert() {
    if (writeSelector == null) {
      sendAlertNow();
      return;
    }
    try {
      engine.closeOutbound();
      long deadline = System.nanoTime() + CLOSE_NOTIFY_NANOS;
      for (int i = 0; i < 4 && !engine.isOutboundDone(); i++) {
        wrap(NOTHING, deadline, "alert");
      }
      flush(deadline, "alert");
    } catch (IOException | RuntimeException e) {
      // the connection is failing anyway; the original error is what matters
    }
  }

  /** As {@link #sendAlert}, without waiting: for a listener's pending handshakes. */
  private void sendAlertNow() {
    try {
      engine.closeOutbound();
      for (int i = 0; i < 4 && !engine.isOutboundDone(); i++) {
        if (engine.wrap(NOTHING, netOut).getStatus() != SSLEngineResult.Status.OK) {
          break;
        }
      }
      writeSome();
    } catch (IOException | RuntimeException e) {
      // the connection is failing anyway; the original error is what matters
    }
  }

  // ---------------------------------------------------------------- read

  int read(ByteBuffer dst, long timeoutMillis) throws IOException {
    String what = "read from " + peerName;
    long deadline = deadline(timeoutMillis);
    requireConnected(what);
    readLock.lock();
    try {
      ensureOpen(what);
      boolean viaAppIn = false;
      while (true) {
        if (appIn.position() > 0) {
          return drainAppIn(dst);
        }
        if (deferredReadFailure != null) {
          SSLException e = deferredReadFailure;
          deferredReadFailure = null;
          throw e;
        }
        if (renegotiationRefused != null) {
          throw new ErrnoException(Errno.EPROTO, renegotiationRefused);
        }
        if (inputClosed) {
          return -1;
        }
        boolean needBytes = netIn.position() == 0;
        if (!needBytes) {
          boolean renegotiation = isRenegotiationRecord();
          // a record decrypts into dst itself when dst has room for the largest one, else into appIn
          ByteBuffer out = !viaAppIn && dst.remaining() >= appIn.capacity() ? dst : appIn;
          netIn.flip();
          SSLEngineResult r;
          try {
            r = engine.unwrap(netIn, out);
            if (out == dst && r.getStatus() == SSLEngineResult.Status.OK && r.bytesProduced() > 0) {
              afterUnwrap(r);
              // Returned at once: whatever follows (a failing record, an alert, the end of
              // the stream, a renegotiation) comes with the next read, after this data.
              return r.bytesProduced() + unwrapMore(dst);
            }
          } catch (SSLException e) {
            if (renegotiation) {
              throw new ErrnoException(Errno.EPROTO, Errors.renegotiationReason(what, e), e);
            }
            throw e;
          } finally {
            netIn.compact();
          }
          switch (r.getStatus()) {
            case OK -> {
              afterUnwrap(r);
              if (renegotiation && r.bytesConsumed() > 0) {
                // BCJSSE has queued its no_renegotiation warning, and afterUnwrap sent it. A
                // peer that renegotiates does not carry on without the new handshake (Erlang's
                // ssl ends the connection on that warning, and until then holds back its
                // data), so waiting for more would only hang until the tick timeout: the
                // connection ends here, once the data that came before is read.
                renegotiationRefused = Errors.renegotiationReason(what, null);
              }
              needBytes = r.bytesConsumed() == 0 && r.bytesProduced() == 0;
            }
            case CLOSED -> {
              inputClosed = true; // close_notify: end of stream once appIn is drained
              closeNotifyReceived = true;
              afterUnwrap(r);
            }
            case BUFFER_OVERFLOW -> {
              if (out == appIn) {
                appIn = grow(appIn, engine.getSession().getApplicationBufferSize());
              }
              viaAppIn = true;
            }
            case BUFFER_UNDERFLOW -> {
              growNetInIfFull();
              needBytes = true;
            }
            default -> throw new ErrnoException(Errno.EIO, what + ": unexpected unwrap status " + r.getStatus());
          }
        }
        if (needBytes && fill(deadline, what) < 0) {
          try {
            engine.closeInbound(); // complains about a missing close_notify; EOF either way
          } catch (SSLException e) {
            // a truncated session is still the end of the stream for the caller
          }
          inputClosed = true;
        }
      }
    } catch (ClosedSelectorException e) {
      throw Errors.closed(what);
    } catch (IOException e) {
      throw Errors.map(e, what);
    } finally {
      readLock.unlock();
    }
  }

  /**
   * With {@code netIn} flipped, right after a record of application data was decrypted into
   * {@code dst}: decrypts the application-data records that follow in {@code netIn} into
   * {@code dst} as well, while it has room for the largest one, so that a bulk transfer costs
   * one call and one compaction of {@code netIn} per buffer of records, not per record. Stops
   * at a record of another content type (a TLS 1.2 handshake or alert: {@link #read} looks at
   * those), at an incomplete one, and after a record that gave the caller nothing (a TLS 1.3
   * KeyUpdate or close_notify, handled here as {@link #read} handles them). Returns the bytes
   * decrypted; a record that fails is left to the next read as {@link #deferredReadFailure}.
   */
  private int unwrapMore(ByteBuffer dst) {
    int produced = 0;
    while (dst.remaining() >= appIn.capacity() && netIn.remaining() > 0
        && (netIn.get(netIn.position()) & 0xff) == CONTENT_TYPE_APPLICATION_DATA) {
      SSLEngineResult r;
      try {
        r = engine.unwrap(netIn, dst);
      } catch (SSLException e) {
        deferredReadFailure = e;
        break;
      }
      if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
        inputClosed = true;
        closeNotifyReceived = true;
        afterUnwrap(r);
        break;
      }
      if (r.getStatus() != SSLEngineResult.Status.OK) {
        break; // an incomplete record: read() asks the channel for the rest
      }
      afterUnwrap(r);
      produced += r.bytesProduced();
      if (r.bytesProduced() == 0) {
        break;
      }
    }
    return produced;
  }

  private int drainAppIn(ByteBuffer dst) {
    appIn.flip();
    int n = Math.min(appIn.remaining(), dst.remaining());
    ByteBuffer slice = appIn.slice();
    slice.limit(n);
    dst.put(slice);
    appIn.position(appIn.position() + n);
    appIn.compact();
    return n;
  }

  /**
   * Whether the next record in {@code netIn} is a handshake record on an established TLS 1.2
   * session: a HelloRequest from a server or a ClientHello from a client, that is, the peer
   * starting a renegotiation. (TLS 1.2 has no other post-handshake handshake message; TLS
   * 1.3 encrypts the content type, and its post-handshake messages are no renegotiation.)
   */
  private boolean isRenegotiationRecord() {
    if ((netIn.get(0) & 0xff) != CONTENT_TYPE_HANDSHAKE) {
      return false;
    }
    return !"TLSv1.3".equals(engine.getSession().getProtocol());
  }


  /**
   * After an unwrap on an established session: run tasks, and send what the engine has to
   * say in return. BCJSSE answers a post-handshake record that carries no application data
   * (a TLS 1.2 HelloRequest or ClientHello with a no_renegotiation warning, a TLS 1.3
   * KeyUpdate with its own, a close_notify with ours) by queueing the answer for its next
   * wrap; the unwrap's result does not ask for that wrap (only a later
   * {@code getHandshakeStatus()} may). So after every such record, and whenever the engine
   * wants to wrap, we wrap nothing, which sends exactly what is queued.
   *
   * <p>The answer must not wait for the next application write: a peer that renegotiates
   * holds its own data back until it has the answer (Erlang's ssl does), so a caller
   * waiting for a reply and a peer waiting for our answer would both wait until a tick.
   * That is what happened when the answer was sent only if the write lock was free at this
   * moment: a writer that had already wrapped its last record and was about to let go of the
   * lock left the answer queued. {@link #answerPeer} hands it over instead.
   */
  private void afterUnwrap(SSLEngineResult r) {
    HandshakeStatus hs = engine.getHandshakeStatus();
    if (hs == HandshakeStatus.NEED_TASK) {
      runTasks();
      hs = engine.getHandshakeStatus();
    }
    if (hs == HandshakeStatus.NEED_WRAP || (r.bytesConsumed() > 0 && r.bytesProduced() == 0)) {
      answerPending.set(true);
      answerPeer();
    }
  }

  /**
   * Sends the engine's queued answers if {@link #answerPending} is set, unless another thread
   * holds the write side. That thread calls this method again once it has let go of the
   * write lock (see {@link #write}), so an answer is never left behind: whoever releases
   * the lock last finds the flag. Best effort, and bounded to half a second on a peer that
   * does not read: a failure here shows up again on the next read or write, and bytes that
   * could not be sent stay in {@code netOut}, which the next write sends first.
   */
  private void answerPeer() {
    while (answerPending.get() && writeLock.tryLock()) {
      try {
        if (answerPending.getAndSet(false) && !closed.get()) {
          String what = "TLS reply to " + peerName;
          long deadline = System.nanoTime() + CLOSE_NOTIFY_NANOS;
          for (int i = 0; i < 8; i++) {
            if (wrap(NOTHING, deadline, what).bytesProduced() == 0) {
              break;
            }
          }
          flush(deadline, what);
        }
      } catch (IOException | ClosedSelectorException e) {
        // see the javadoc: the next read or write reports a broken connection
      } finally {
        writeLock.unlock();
      }
    }
  }

  /**
   * Reads whatever the channel has into {@code netIn}, waiting until the deadline for at
   * least one byte. Returns the count, or -1 at end of stream. Called by {@link #read} only
   * when nothing decrypted is left and {@code netIn} holds no complete record, so a pending
   * {@link #readWakeup} makes it throw {@link Errno#ETIMEDOUT} before it would wait (bytes
   * the channel already has are read first, and a partial record stays in {@code netIn}
   * for the next read). A read with a timeout of zero times out without consuming the
   * wakeup, as it does not wait.
   */
  private int fill(long deadline, String what) throws IOException {
    while (true) {
      int n = channel.read(netIn);
      if (n != 0) {
        if (n > 0 && !netIn.hasRemaining()) {
          growForBulk();
        }
        return n;
      }
      if (deadline != NO_DEADLINE && deadline - System.nanoTime() <= 0) {
        throw Errors.timeout(what);
      }
      if (readWakeup) {
        readWakeup = false;
        throw new ErrnoException(Errno.ETIMEDOUT, what + ": woken up before anything arrived");
      }
      await(readSelector, deadline, what);
    }
  }

  /**
   * Makes the wait of {@link #read} for the channel under way on another thread, or else the
   * next one, throw {@link Errno#ETIMEDOUT} at once. Decrypted data and complete records
   * already received are still returned first. Never blocks: it sets {@link #readWakeup} and
   * wakes the read selector, which a selector closed meanwhile ignores. A wakeup during a
   * wait of the TLS handshake makes that wait return early, which the handshake treats as
   * any return: it retries.
   */
  void wakeupRead() {
    readWakeup = true;
    Selector sel = readSelector;
    if (sel != null) {
      sel.wakeup(); // a select under way returns at once, or else the next one does
    }
  }

  // ---------------------------------------------------------------- write

  long write(ByteBuffer[] srcs, long timeoutMillis) throws IOException {
    try {
      return writeLocked(srcs, timeoutMillis);
    } finally {
      // a reader that found the write lock taken left its answer to us; see answerPeer
      answerPeer();
    }
  }

  private long writeLocked(ByteBuffer[] srcs, long timeoutMillis) throws IOException {
    String what = "write to " + peerName;
    long deadline = deadline(timeoutMillis);
    requireConnected(what);
    writeLock.lock();
    try {
      ensureOpen(what);
      if (!flush(deadline, what)) {
        throw Errors.timeout(what); // still sending an earlier write's bytes
      }
      long consumed = 0;
      boolean flushed = true;
      while (consumed < MAX_PLAINTEXT_PER_WRITE && ByteBuffers.hasRemaining(srcs)) {
        int packet = engine.getSession().getPacketBufferSize();
        if (netOut.remaining() < packet) {
          if (!flush(deadline, what)) {
            flushed = false;
            break;
          }
          if (netOut.remaining() < packet) {
            netOut = grow(netOut, packet);
          }
        }
        SSLEngineResult r = engine.wrap(srcs, netOut);
        switch (r.getStatus()) {
          case OK -> consumed += r.bytesConsumed();
          case BUFFER_OVERFLOW -> netOut = grow(netOut, packet);
          case CLOSED -> throw new ErrnoException(Errno.EPIPE, what + ": the TLS session is closed");
          default -> throw new ErrnoException(Errno.EIO, what + ": unexpected wrap status " + r.getStatus());
        }
        if (r.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
          runTasks();
        }
      }
      if (flushed) {
        flushed = flush(deadline, what);
      }
      if (!flushed && consumed == 0) {
        throw Errors.timeout(what);
      }
      // a short flush leaves ciphertext in netOut; the next write (or close) sends it first
      return consumed;
    } catch (ClosedSelectorException e) {
      throw Errors.closed(what);
    } catch (IOException e) {
      throw Errors.map(e, what);
    } finally {
      writeLock.unlock();
    }
  }


  /** One wrap into {@code netOut}, flushing or growing it when the record does not fit. */
  private SSLEngineResult wrap(ByteBuffer[] srcs, long deadline, String what) throws IOException {
    while (true) {
      SSLEngineResult r = engine.wrap(srcs, netOut);
      if (r.getStatus() != SSLEngineResult.Status.BUFFER_OVERFLOW) {
        if (r.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
          runTasks();
        }
        return r;
      }
      if (netOut.position() > 0) {
        if (!flush(deadline, what)) {
          throw Errors.timeout(what);
        }
      } else {
        netOut = grow(netOut, engine.getSession().getPacketBufferSize());
      }
    }
  }

  /** Sends all of {@code netOut}; false when the deadline passed first (the rest stays). */
  private boolean flush(long deadline, String what) throws IOException {
    while (netOut.position() > 0) {
      netOut.flip();
      try {
        channel.write(netOut);
      } finally {
        netOut.compact();
      }
      if (netOut.position() > 0) {
        try {
          await(writeSelector, deadline, what);
        } catch (ErrnoException e) {
          if (e.isTimeout()) {
            return false;
          }
          throw e;
        }
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- close, fd, hooks

  /**
   * Closes the socket: sends close_notify when no write is in progress (waiting at most half
   * a second for a slow peer), closes the TCP channel, and wakes every blocked call, which
   * then fails with {@link Errno#EBADF}. Idempotent.
   */
  void close() throws IOException {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    SSLEngine e = engine;
    if (e != null && channel != null && writeSelector != null && writeLock.tryLock()) {
      try {
        if (netOut != null && channel.isOpen()) {
          e.closeOutbound();
          long deadline = System.nanoTime() + CLOSE_NOTIFY_NANOS;
          for (int i = 0; i < 4 && !e.isOutboundDone(); i++) {
            wrap(NOTHING, deadline, "close_notify");
          }
          flush(deadline, "close_notify");
        }
      } catch (IOException | RuntimeException ex) {
        // the peer is gone or slow: closing without close_notify is all that is left
      } finally {
        writeLock.unlock();
      }
    }
    IOException failure = releaseAll();
    TlsListener l = listener;
    if (l != null) {
      failure = failure != null ? failure : l.close();
    }
    if (failure != null) {
      throw Errors.map(failure, "close");
    }
  }

  /** Closes the channels and selectors opened so far; idempotent. Returns the first failure. */
  private IOException releaseAll() {
    IOException failure = null;
    for (java.io.Closeable c : new java.io.Closeable[] {channel, readSelector, writeSelector}) {
      if (c != null) {
        try {
          c.close();
        } catch (IOException ex) {
          if (failure == null) {
            failure = ex;
          }
        }
      }
    }
    return failure;
  }

  /** Whether the peer ended the session with close_notify (not just a TCP close). */
  boolean closeNotifyReceived() {
    return closeNotifyReceived;
  }

  int fd() throws IOException {
    int cached = fd;
    if (cached >= 0) {
      return cached;
    }
    ensureOpen("fd");
    TlsListener l = listener;
    if (l != null) {
      cached = NativeFd.of(l.channel(), true);
    } else if (channel != null) {
      cached = NativeFd.of(channel, false);
    } else {
      throw new ErrnoException(Errno.ENOTCONN, "the socket has no descriptor before listen or connect");
    }
    fd = cached;
    return cached;
  }

  /** As ei's TCP transport does once a distribution handshake succeeded. */
  void handshakeComplete() throws IOException {
    SocketChannel c = channel;
    if (c != null) {
      try {
        c.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
      } catch (IOException e) {
        throw Errors.map(e, "set SO_KEEPALIVE");
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private void ensureFresh() throws ErrnoException {
    ensureOpen("use");
    if (listener != null || channel != null) {
      throw new ErrnoException(Errno.EISCONN, "the socket is already listening or connected");
    }
  }

  private void ensureOpen(String what) throws ErrnoException {
    if (closed.get()) {
      throw Errors.closed(what);
    }
  }

  private void requireConnected(String what) throws ErrnoException {
    ensureOpen(what);
    if (engine == null || netIn == null) {
      throw new ErrnoException(Errno.ENOTCONN, what + ": the socket is not connected");
    }
  }

  /** After a read of the channel filled {@code netIn}: see {@link #BULK_READ_RECORDS}. */
  private void growForBulk() throws ErrnoException {
    int bulk = BULK_READ_RECORDS * engine.getSession().getPacketBufferSize();
    if (netIn.capacity() < bulk) {
      netIn = grow(netIn, bulk - netIn.position());
    }
  }

  private void growNetInIfFull() throws ErrnoException {
    if (!netIn.hasRemaining()) {
      netIn = grow(netIn, engine.getSession().getPacketBufferSize());
    }
  }

  /**
   * A buffer with room for at least {@code room} more bytes, holding {@code b}'s bytes.
   * BCJSSE bounds TLS records to about 16 KiB, so buffers never need to grow far; the cap
   * stops a misbehaving engine or peer from making them grow without limit.
   */
  private static ByteBuffer grow(ByteBuffer b, int room) throws ErrnoException {
    int capacity = Math.max(b.capacity() * 2, b.position() + room);
    if (capacity > MAX_BUFFER_BYTES) {
      throw new ErrnoException(Errno.EMSGSIZE, "a TLS record needs a buffer of " + capacity
          + " bytes, more than the " + MAX_BUFFER_BYTES + " this transport allows");
    }
    ByteBuffer bigger = ByteBuffer.allocate(capacity);
    b.flip();
    bigger.put(b);
    return bigger;
  }

  /**
   * Waits on {@code selector} until its channel is ready, the deadline passes (then
   * {@link Errno#ETIMEDOUT}), or the socket is closed (then {@link Errno#EBADF}). A return
   * does not promise readiness; callers retry their operation.
   */
  private void await(Selector selector, long deadline, String what) throws IOException {
    if (deadline == NO_DEADLINE) {
      selector.select();
    } else {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        throw Errors.timeout(what);
      }
      selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining + 999_999)));
    }
    selector.selectedKeys().clear();
    if (closed.get()) {
      throw Errors.closed(what);
    }
  }

  static long deadline(long timeoutMillis) throws ErrnoException {
    if (timeoutMillis == SocketCallbacks.INFINITE) {
      return NO_DEADLINE;
    }
    if (timeoutMillis < 0) {
      throw new ErrnoException(Errno.EINVAL, "negative timeout " + timeoutMillis);
    }
    // capped at about 73 years, so that adding it to nanoTime() cannot overflow
    long nanos = Math.min(TimeUnit.MILLISECONDS.toNanos(timeoutMillis), Long.MAX_VALUE / 4);
    return System.nanoTime() + nanos;
  }
}
