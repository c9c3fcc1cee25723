package io.ei4j.samples;

import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.DistFlag;
import io.ei4j.connect.EiNode;
import io.ei4j.epmd.EmbeddedEpmd;
import io.ei4j.epmd.EpmdClient;
import io.ei4j.epmd.EpmdException;
import io.ei4j.transport.tcp.TcpTransport;
import io.ei4j.transport.tls.TlsConfig;
import io.ei4j.transport.tls.TlsTransport;
import io.ei4j.transport.unix.UnixTransport;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The options every command shares, checked together: the node name, cookie, transport
 * and its settings, and how EPMD is used. Builds the {@link EiNode} and, for servers,
 * starts or finds the EPMD to publish in.
 */
final class NodeOptions {
  /** Options with a value that every command accepts. */
  static final Set<String> WITH_VALUE = Set.of("name", "cookie", "cookie-file", "transport", "port", "epmd", "epmd-port",
      "cert", "key", "cacert", "verify", "socket-dir", "allow-uid");
  /** Flags every command accepts. */
  static final Set<String> FLAGS = Set.of("help", "verbose");

  /** The usage text of the shared options. */
  static final String USAGE = """
      Node options:
        --name ALIVE[@HOST]   this node's name; a bare ALIVE takes the host part as
                              erl -sname does (this machine's host name up to the first dot)
        --cookie-file FILE    read the cookie from FILE: its first line; the file must be
                              accessible by its owner only, as erl requires of
                              ~/.erlang.cookie (safe: the cookie stays off the command line)
        --cookie COOKIE       the cookie itself; like erl -setcookie it is visible to every
                              local user in ps: prefer --cookie-file or $EI4J_COOKIE
                              Without either: $EI4J_COOKIE when set (safe: the environment
                              of a process is readable by its user and root only), else
                              the first line of ~/.erlang.cookie, created owner-only with
                              a random cookie if missing, as erl does
        --transport T         tcp (default), tls or unix
        --port PORT           servers: the port to listen on (default 0: any free port);
                              clients: the peer's port, to connect without asking EPMD
        --epmd MODE           auto (default): use the EPMD running on the EPMD port, else
                              start an embedded one (servers); embedded: start an EPMD in
                              this process; external: use the running EPMD; none: no EPMD
                              (servers are not published; clients need --port).
                              AF_UNIX nodes never use EPMD.
        --epmd-port PORT      EPMD's port; default $ERL_EPMD_PORT, else 4369 (as erl)
        --verbose             debug logging on stderr
      TLS (--transport tls, as erl -proto_dist inet_tls):
        --cert FILE --key FILE   this node's certificate chain and private key (PEM);
                                 required for servers
        --cacert FILE            the CA certificates peers must chain to (PEM)
        --verify peer|none       verify the peer's certificate (default peer: then
                                 --cacert is required, and servers require client
                                 certificates, as fail_if_no_peer_cert)
      AF_UNIX (--transport unix, as erl -proto_dist erl_uds -no_epmd):
        --socket-dir DIR         where node ALIVE@HOST listens, on the socket file
                                 DIR/ALIVE (default: the working directory, as erl_uds_dist);
                                 a group- or world-writable DIR without the sticky bit is refused
        --allow-uid UID[,UID...]|any
                                 peers whose uid may connect, besides our own (default: our
                                 own uid only, checked with SO_PEERCRED); any: no check
      """;

  /**
   * The environment variable the cookie is taken from when neither {@code --cookie} nor
   * {@code --cookie-file} is given. OTP has no such variable ({@code auth} reads
   * {@code -setcookie} or {@code ~/.erlang.cookie}); the nearest is
   * {@code ERL_FLAGS="-setcookie C"}, which {@code erl} reads as arguments.
   */
  static final String COOKIE_ENV = "EI4J_COOKIE";

  final String nodeName;
  /** The cookie given by {@code --cookie} or {@link #COOKIE_ENV}, or null. */
  final String cookie;
  /** The file the cookie is read from: {@code --cookie-file}, else the default one. */
  final Path cookieFile;
  /** Whether {@link #cookieFile} was named by {@code --cookie-file} (it is then never created). */
  final boolean cookieFileGiven;
  final String transport;
  final Integer port;
  final String epmdMode;
  final int epmdPort;
  final Path cert;
  final Path key;
  final Path cacert;
  final boolean verifyPeer;
  final Path socketDir;
  /** {@code --allow-uid}: uids besides our own that may connect over AF_UNIX, or "any"; null: our own only. */
  final String allowUid;

  private NodeOptions(Options o, String defaultName, boolean server, Map<String, String> env)
      throws UsageException {
    this.nodeName = HostNames.complete(o.get("name", defaultName), "--name");
    String given = o.get("cookie");
    if (given != null && given.isEmpty()) {
      throw new UsageException("--cookie is empty");
    }
    Path file = path(o, "cookie-file");
    if (given != null && file != null) {
      throw new UsageException("--cookie and --cookie-file exclude each other");
    }
    if (given == null && file == null && env.containsKey(COOKIE_ENV)) {
      given = env.get(COOKIE_ENV);
      if (given.isEmpty()) {
        throw new UsageException("$" + COOKIE_ENV + " is set but empty");
      }
    }
    this.cookie = given;
    this.cookieFileGiven = file != null;
    this.cookieFile = file != null ? file : CookieFile.defaultFile();
    this.transport = o.choice("transport", "tcp", List.of("tcp", "tls", "unix"));
    this.port = o.has("port") ? (int) o.getLong("port", 0, server ? 0 : 1, 65535) : null;
    this.epmdMode = o.choice("epmd", "auto", List.of("auto", "embedded", "external", "none"));
    int defaultEpmdPort;
    try {
      defaultEpmdPort = EpmdClient.defaultPort();
    } catch (IllegalStateException e) {
      throw new UsageException(e.getMessage());
    }
    this.epmdPort = (int) o.getLong("epmd-port", defaultEpmdPort, 1, 65535);
    this.cert = path(o, "cert");
    this.key = path(o, "key");
    this.cacert = path(o, "cacert");
    this.verifyPeer = o.choice("verify", "peer", List.of("peer", "none")).equals("peer");
    this.socketDir = path(o, "socket-dir");
    this.allowUid = o.get("allow-uid", null);

    boolean tls = transport.equals("tls");
    boolean unix = transport.equals("unix");
    for (String opt : List.of("cert", "key", "cacert", "verify")) {
      if (!tls && o.has(opt)) {
        throw new UsageException("--" + opt + " applies to --transport tls only");
      }
    }
    if (!unix && o.has("socket-dir")) {
      throw new UsageException("--socket-dir applies to --transport unix only");
    }
    if (!unix && o.has("allow-uid")) {
      throw new UsageException("--allow-uid applies to --transport unix only");
    }
    if (allowUid != null && !allowUid.equals("any") && !allowUid.matches("[0-9]+(,[0-9]+)*")) {
      throw new UsageException("--allow-uid takes uids separated by commas, or any; got " + allowUid);
    }
    if (allowUid != null && !allowUid.equals("any")) {
      for (String uid : allowUid.split(",")) {
        try {
          Integer.parseInt(uid);
        } catch (NumberFormatException e) {
          throw new UsageException("--allow-uid: " + uid + " is not a uid");
        }
      }
    }
    if (tls) {
      if ((cert == null) != (key == null)) {
        throw new UsageException("--cert and --key go together");
      }
      if (server && cert == null) {
        throw new UsageException("a TLS server needs --cert and --key");
      }
      if (verifyPeer && cacert == null) {
        throw new UsageException("--verify peer (the default) needs --cacert; use --verify none to skip verification");
      }
    }
    if (unix) {
      if (o.has("port")) {
        throw new UsageException("--port does not apply to --transport unix: nodes are socket files named after them");
      }
      if (epmdMode.equals("embedded") || epmdMode.equals("external") || o.has("epmd-port")) {
        throw new UsageException("--transport unix does not use EPMD: nodes find each other by socket file");
      }
    } else if (!server) {
      if (epmdMode.equals("embedded")) {
        throw new UsageException("--epmd embedded applies to servers; a client only looks its peer up (--epmd external)");
      }
      if (epmdMode.equals("none") && port == null) {
        throw new UsageException("--epmd none needs --port, the peer's distribution port");
      }
    }
  }

  /** Reads the shared options of a server ({@code server} true) or a client command. */
  static NodeOptions of(Options o, String defaultName, boolean server) throws UsageException {
    return of(o, defaultName, server, System.getenv());
  }

  /** As {@link #of(Options, String, boolean)}, with {@code env} as the environment. */
  static NodeOptions of(Options o, String defaultName, boolean server, Map<String, String> env)
      throws UsageException {
    return new NodeOptions(o, defaultName, server, env);
  }

  private static Path path(Options o, String name) throws UsageException {
    String v = o.get(name);
    if (v == null) {
      return null;
    }
    if (v.isEmpty()) {
      throw new UsageException("--" + name + " is empty");
    }
    return Path.of(v);
  }

  boolean isUnix() {
    return transport.equals("unix");
  }

  /** The host part of a node name. */
  static String hostOf(String nodeName) {
    return nodeName.substring(nodeName.indexOf('@') + 1);
  }

  /** The transport the options describe. */
  SocketCallbacks<?> callbacks() throws IOException {
    switch (transport) {
      case "tls": {
        BouncyCastleLogging.install();
        TlsConfig.Builder b = TlsConfig.builder().verifyPeer(verifyPeer);
        if (cert != null) {
          b.certificate(cert, key);
        }
        if (cacert != null) {
          b.trustedCertificates(cacert);
        }
        return new TlsTransport(b.build());
      }
      case "unix": {
        UnixTransport.ensureAvailability();
        UnixTransport.Builder b = UnixTransport.builder();
        if (socketDir != null) {
          if (!Files.isDirectory(socketDir)) {
            throw new IOException("--socket-dir " + socketDir + " is not a directory");
          }
          b.directory(socketDir);
        }
        if ("any".equals(allowUid)) {
          b.allowAnyPeerUid();
        } else if (allowUid != null) {
          for (String uid : allowUid.split(",")) {
            b.allowUid(Integer.parseInt(uid));
          }
        }
        return b.build();
      }
      default:
        return TcpTransport.create();
    }
  }

  /**
   * The node, with the cookie given ({@code --cookie}, {@code $EI4J_COOKIE}), the one in
   * {@code --cookie-file}, or the one in {@code ~/.erlang.cookie}, which is created first
   * when missing.
   *
   * @param epmdHost where the node's EPMD runs: {@code localhost} for a server, which
   *     publishes itself there; the peer's host for a client, which looks the peer up
   */
  EiNode buildNode(PrintStream err, String epmdHost) throws IOException {
    return buildNode(err, epmdHost, Set.of());
  }

  /** {@link #buildNode(PrintStream, String)}, advertising {@code extraFlags} too ({@link EiNode.Builder#advertise}). */
  EiNode buildNode(PrintStream err, String epmdHost, Set<DistFlag> extraFlags) throws IOException {
    EiNode.Builder b = EiNode.builder(nodeName).transport(callbacks()).advertise(extraFlags);
    if (cookie != null) {
      b.cookie(cookie);
    } else if (cookieFileGiven) {
      b.cookie(CookieFile.read(cookieFile));
    } else {
      CookieFile.ensureExists(cookieFile, err);
    }
    if (!isUnix()) {
      b.epmd(new EpmdClient(epmdHost, epmdPort, EpmdClient.DEFAULT_TIMEOUT_MILLIS));
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new IOException("cannot create node " + nodeName + ": " + e.getMessage(), e);
    }
  }

  /**
   * Applies {@code --epmd} for a server: starts an embedded EPMD (mode {@code embedded},
   * or {@code auto} when none answers on the EPMD port) and says so on {@code err}.
   *
   * @return the embedded EPMD this process now runs, or null
   * @throws IOException when {@code embedded} cannot bind the port, or {@code external}
   *     finds no EPMD there
   */
  EmbeddedEpmd startEpmdForServer(PrintStream err) throws IOException {
    if (isUnix() || epmdMode.equals("none")) {
      return null;
    }
    if (epmdMode.equals("external") || (epmdMode.equals("auto") && epmdAnswers())) {
      if (epmdMode.equals("external") && !epmdAnswers()) {
        throw new IOException("--epmd external: no EPMD answers on port " + epmdPort
            + "; start one (epmd -daemon) or use --epmd auto or embedded");
      }
      return null;
    }
    try {
      EmbeddedEpmd epmd = EmbeddedEpmd.builder().port(epmdPort).start();
      err.println("started an embedded EPMD on port " + epmd.port() + " (all interfaces), as epmd would");
      return epmd;
    } catch (BindException e) {
      if (epmdMode.equals("auto") && epmdAnswers()) {
        return null; // another process started one meanwhile
      }
      throw new IOException("cannot start an embedded EPMD: port " + epmdPort + " is taken ("
          + e.getMessage() + "); if an epmd runs there, use --epmd auto or external", e);
    }
  }

  private boolean epmdAnswers() throws IOException {
    try {
      new EpmdClient("localhost", epmdPort, 2_000).names();
      return true;
    } catch (EpmdException e) {
      if (e.reason() == EpmdException.Reason.UNREACHABLE) {
        return false;
      }
      throw new IOException("something listens on the EPMD port " + epmdPort + " but does not answer as EPMD: "
          + e.getMessage(), e);
    }
  }
}
