package io.ei4j.transport.unix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Memory;
import io.ei4j.api.Errno;
import io.ei4j.api.ErrnoException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18's AF_UNIX guarantees, on real sockets: socket files are owner-only from the
 * moment they exist whatever the umask, a socket directory other users may write to is
 * refused (or, with the sticky bit, warned about), and only our own user id may connect
 * unless more are allowed; the other user is a real child process run as {@code nobody}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UnixSocketSecurityTest {
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  @TempDir Path dir;

  private final UnixTransport callbacks = UnixTransport.create();
  private final List<UnixSocket> opened = new ArrayList<>();

  @AfterEach
  void closeAll() throws IOException {
    for (UnixSocket s : opened) {
      callbacks.close(s);
    }
  }

  private UnixSocket socket() throws IOException {
    UnixSocket s = callbacks.socket(null);
    opened.add(s);
    return s;
  }

  private static int mode(Path file) throws IOException {
    return (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0777;
  }

  /** The file bind creates already has the restricted mode: nothing chmods it afterwards. */
  @Test
  void bindCreatesTheFileOwnerOnlyUnderUmask000() throws IOException {
    int old = LibC.umask(0);
    try {
      Path file = dir.resolve("born");
      UnixSocket s = socket();
      SocketFiles.restrictBeforeBind(s.fd(), OWNER_ONLY, "test");
      UnixSocketAddress address = UnixSocketAddress.of(file);
      try (Memory sa = Sockaddrs.sockaddr(address)) {
        assertEquals(0, LibC.bind(s.fd(), LibC.address(sa), address.sockaddrLength()), "bind");
      }
      assertEquals(0600, mode(file), Integer.toOctalString(mode(file)));

      // Without the fchmod the same umask gives a world-writable file: the test can fail.
      Path wide = dir.resolve("wide");
      UnixSocket t = socket();
      UnixSocketAddress wideAddress = UnixSocketAddress.of(wide);
      try (Memory sa = Sockaddrs.sockaddr(wideAddress)) {
        assertEquals(0, LibC.bind(t.fd(), LibC.address(sa), wideAddress.sockaddrLength()), "bind");
      }
      assertEquals(0777, mode(wide), Integer.toOctalString(mode(wide)));
    } finally {
      LibC.umask(old);
    }
  }

  /** A watcher that stats the path as fast as it can never sees more than 0600. */
  @Test
  void aListeningSocketFileIsNeverObservedWiderUnderUmask000() throws Exception {
    Path file = dir.resolve("watched");
    List<String> wider = new CopyOnWriteArrayList<>();
    AtomicBoolean stop = new AtomicBoolean();
    int[] seen = new int[1];
    Thread watcher = new Thread(() -> {
      while (!stop.get()) {
        try {
          int m = mode(file);
          seen[0]++;
          if ((m & 0177) != 0) {
            wider.add(Integer.toOctalString(m));
          }
        } catch (IOException e) {
          // not there at this instant
        }
      }
    });
    int old = LibC.umask(0);
    watcher.start();
    try {
      for (int i = 0; i < 200; i++) {
        UnixSocket l = callbacks.socket(null);
        try {
          callbacks.listen(l, UnixSocketAddress.of(file), 1);
          assertEquals(0600, mode(file));
        } finally {
          callbacks.close(l);
        }
      }
    } finally {
      stop.set(true);
      watcher.join();
      LibC.umask(old);
    }
    assertTrue(seen[0] > 0, "the watcher never saw the file");
    assertEquals(List.of(), wider, "modes wider than 0600 observed");
  }

  @Test
  void aWorldWritableDirectoryWithoutStickyBitIsRefused() throws IOException {
    Path shared = Files.createDirectory(dir.resolve("shared"));
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
    UnixSocketAddress address = UnixSocketAddress.of(shared.resolve("node"));
    InsecureSocketDirectoryException e = assertThrows(InsecureSocketDirectoryException.class,
        () -> callbacks.listen(socket(), address, 1));
    assertEquals(Errno.EACCES, e.errno());
    assertTrue(e.getMessage().contains(shared.toString()) && e.getMessage().contains("0777")
        && e.getMessage().contains("group and others") && e.getMessage().contains("sticky"), e.getMessage());
    assertTrue(Files.notExists(shared.resolve("node"), LinkOption.NOFOLLOW_LINKS), "bound anyway");
    InsecureSocketDirectoryException c = assertThrows(InsecureSocketDirectoryException.class,
        () -> callbacks.connect(socket(), address, 1000));
    assertTrue(c.getMessage().startsWith("EACCES: connect to "), c.getMessage());
  }

  @Test
  void aGroupWritableDirectoryWithoutStickyBitIsRefused() throws IOException {
    Path shared = Files.createDirectory(dir.resolve("group"));
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwx---"));
    InsecureSocketDirectoryException e = assertThrows(InsecureSocketDirectoryException.class,
        () -> callbacks.listen(socket(), UnixSocketAddress.of(shared.resolve("node")), 1));
    assertTrue(e.getMessage().contains("its group"), e.getMessage());
  }

  @Test
  void aStickySharedDirectoryIsAllowedWithOneWarning() throws Exception {
    Path shared = Files.createDirectory(dir.resolve("sticky"));
    Files.setAttribute(shared, "unix:mode", 01777);
    assertEquals(01777, (Integer) Files.getAttribute(shared, "unix:mode") & 07777);
    List<LogRecord> records = new CopyOnWriteArrayList<>();
    Handler handler = new Handler() {
      @Override
      public void publish(LogRecord r) {
        records.add(r);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    Logger jul = Logger.getLogger(SocketFiles.class.getName());
    jul.addHandler(handler);
    try {
      for (String name : new String[] {"a", "b"}) {
        UnixSocket l = socket();
        callbacks.listen(l, UnixSocketAddress.of(shared.resolve(name)), 1);
        assertEquals(0600, mode(shared.resolve(name)));
      }
    } finally {
      jul.removeHandler(handler);
    }
    assertEquals(1, records.size(), "one warning per directory: " + records);
    assertEquals(java.util.logging.Level.WARNING, records.get(0).getLevel());
    assertTrue(String.valueOf(records.get(0).getParameters()[0]).equals(shared.toString()));
  }

  @Test
  void aPrivateDirectoryIsAccepted() throws IOException {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    UnixSocket l = socket();
    callbacks.listen(l, UnixSocketAddress.of(dir.resolve("private")), 1);
    UnixSocket c = socket();
    callbacks.connect(c, UnixSocketAddress.of(dir.resolve("private")), 1000);
    opened.add(callbacks.accept(l, 1000).context());
  }

  /**
   * A real process of another user ({@code nobody}, through {@code setpriv}) connects to an
   * abstract name: refused by default, accepted once {@link UnixTransport.Builder#allowUid}
   * names its uid.
   */
  @Test
  void onlyOurOwnUidByDefaultAndAllowUidAddsOne() throws Exception {
    assumeTrue(LibC.getuid() == 0, "needs root to run a child process as another user");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")) && Files.isExecutable(Path.of("/usr/bin/python3")),
        "needs setpriv and /usr/bin/python3");
    int nobody = 65534;

    String name = "ei4j-sec-" + UUID.randomUUID();
    UnixSocket l = socket();
    callbacks.listen(l, UnixSocketAddress.ofAbstract(name), 5);
    Process p = connectAsNobody(name);
    ErrnoException e = assertThrows(ErrnoException.class, () -> callbacks.accept(l, 10_000));
    assertEquals(Errno.EACCES, e.errno());
    assertTrue(e.getMessage().contains("uid " + nobody), e.getMessage());
    p.waitFor(10, TimeUnit.SECONDS);

    UnixTransport allowing = UnixTransport.builder().allowUid(nobody).build();
    String name2 = name + "-2";
    UnixSocket l2 = allowing.socket(null);
    opened.add(l2);
    allowing.listen(l2, UnixSocketAddress.ofAbstract(name2), 5);
    Process p2 = connectAsNobody(name2);
    UnixSocket accepted = allowing.accept(l2, 10_000).context();
    opened.add(accepted);
    assertEquals(nobody, accepted.peerCredentials().uid());
    p2.waitFor(10, TimeUnit.SECONDS);

    // allowUid keeps our own user: a connection from this process still gets in.
    UnixSocket self = allowing.socket(null);
    opened.add(self);
    allowing.connect(self, UnixSocketAddress.ofAbstract(name2), 1000);
    opened.add(allowing.accept(l2, 1000).context());
  }

  private static Process connectAsNobody(String abstractName) throws IOException {
    String script = "import socket,sys,time\n"
        + "s=socket.socket(socket.AF_UNIX,socket.SOCK_STREAM)\n"
        + "s.connect('\\0'+sys.argv[1])\n"
        + "time.sleep(2)\n";
    return new ProcessBuilder("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
        "/usr/bin/python3", "-c", script, abstractName)
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
  }
}
