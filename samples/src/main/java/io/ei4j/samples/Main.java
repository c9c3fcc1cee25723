package io.ei4j.samples;

import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiNode;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermParseException;
import io.ei4j.term.Terms;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code java -jar ei4j-samples.jar COMMAND [OPTIONS]}: C-node style servers and
 * command-line clients built on ei4j's ei-level API ({@link EiNode},
 * {@link EiConnection}).
 *
 * <p>Exit status: 0 on success, {@link #EXIT_FAILURE} when the command failed (a
 * {@code badrpc}, a peer that cannot be reached, a refused cookie), {@link #EXIT_USAGE}
 * for a command line that cannot be run (one line that says why, and one that points at
 * {@code COMMAND --help}). Servers run until SIGINT or SIGTERM.
 */
public final class Main {
  /** The command failed; the reason is on standard error. */
  static final int EXIT_FAILURE = 1;
  /** The command line is wrong; the reason and where to find the usage are on standard error. */
  static final int EXIT_USAGE = 2;

  private static final long DEFAULT_TIMEOUT_MILLIS = 10_000;
  private static final Set<String> CLIENT_OPTIONS = Set.of("peer", "timeout");

  private static final String USAGE = """
      Usage: java -jar ei4j-samples.jar COMMAND [OPTIONS]

      Commands:
        cnode-server   the C-node tutorial server: registered process cnode answers
                       {call, Pid, {foo, X}} with {cnode, X+1}, {call, Pid, {bar, Y}} with {cnode, 2*Y}
        echo-server    registered process echo answers {Pid, Term} with {echo, Term}
        rpc            rpc --peer NODE MODULE FUNCTION ARGS: call a function on an Erlang node
        send           send --peer NODE NAME TERM: send a message to a registered process
        tls-setup      write a development CA, a node certificate and erl's ssl_dist_optfile

      COMMAND --help describes a command and its options.
      """;

  private static final String SERVER_USAGE = """
      Usage: java -jar ei4j-samples.jar %1$s [OPTIONS]

      %2$s
      Listens for connections from Erlang nodes, publishes itself in EPMD (TCP and TLS),
      prints "ready NODENAME" on standard output once it accepts connections, and serves
      every connection on its own thread until SIGINT or SIGTERM, when it unpublishes itself,
      closes its connections and removes its socket file (AF_UNIX).
      From erl:  {%3$s, 'NODENAME'} ! %4$s

      """;

  private static final String RPC_USAGE = """
      Usage: java -jar ei4j-samples.jar rpc --peer NODE [OPTIONS] MODULE FUNCTION ARGS

      Calls MODULE:FUNCTION(ARGS...) on NODE through its rex server, as ei_rpc does, and
      prints the result in Erlang syntax. ARGS is an Erlang list of the arguments, e.g.
        rpc --peer e1 lists reverse '[[1,2,3]]'        prints [3,2,1]
      Exit status 0; 1 when the call failed ({badrpc, Reason}: Reason goes to standard
      error) or the node could not be reached; 2 for a wrong command line.

        --peer NODE       the node to call, ALIVE[@HOST] (a bare ALIVE: this machine, as -sname)
        --timeout MS      how long connecting and the call may take (default 10000)
      """;

  private static final String SEND_USAGE = """
      Usage: java -jar ei4j-samples.jar send --peer NODE [OPTIONS] NAME TERM

      Sends TERM (Erlang syntax) to the process registered as NAME on NODE, e.g.
        send --peer e1 logger_proc '{hello, [1,2,3], <<"bin">>}'
      Exit status 0 once the message is handed to the connection; 1 when the node could
      not be reached; 2 for a wrong command line.

        --peer NODE       the node, ALIVE[@HOST] (a bare ALIVE: this machine, as -sname)
        --timeout MS      how long connecting may take (default 10000)
      """;

  private Main() {}

  /** Runs a command; exits with its status (servers: when they are told to stop). */
  public static void main(String[] args) {
    if (Arrays.asList(args).contains("--verbose")) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "debug");
    }
    int status = run(Arrays.asList(args), System.out, System.err);
    System.out.flush();
    System.err.flush();
    if (!ServerState.stopping) {
      System.exit(status);
    }
  }

  /** Whether a server is shutting down; {@link #main} then must not call {@code System.exit}. */
  static final class ServerState {
    static volatile boolean stopping;

    private ServerState() {}
  }

  /**
   * Runs one command line and returns its exit status; servers return only when stopped.
   */
  static int run(List<String> args, PrintStream out, PrintStream err) {
    if (args.isEmpty() || args.get(0).equals("--help") || args.get(0).equals("-h") || args.get(0).equals("help")) {
      (args.isEmpty() ? err : out).print(USAGE);
      return args.isEmpty() ? EXIT_USAGE : 0;
    }
    String command = args.get(0);
    List<String> rest = args.subList(1, args.size());
    String usage = usageOf(command);
    if (usage == null) {
      err.println("unknown command '" + command + "'");
      err.println("see java -jar ei4j-samples.jar --help");
      return EXIT_USAGE;
    }
    try {
      if (command.equals("tls-setup")) {
        Options o = Options.parse(rest, TlsSetup.WITH_VALUE, TlsSetup.FLAGS);
        if (o.has("help")) {
          out.print(usage);
          return 0;
        }
        return TlsSetup.run(o, out);
      }
      boolean client = command.equals("rpc") || command.equals("send");
      Set<String> withValue = new HashSet<>(NodeOptions.WITH_VALUE);
      if (client) {
        withValue.addAll(CLIENT_OPTIONS);
      }
      Options o = Options.parse(rest, withValue, NodeOptions.FLAGS);
      if (o.has("help")) {
        out.print(usage);
        return 0;
      }
      switch (command) {
        case "cnode-server":
          return server(o, "c1", new CNodeHandler(), out, err);
        case "echo-server":
          return server(o, "echo1", new EchoHandler(), out, err);
        case "rpc":
          return rpc(o, out, err);
        default:
          return send(o, err);
      }
    } catch (UsageException e) {
      // One line that says what is wrong, and where the usage is: the whole usage text
      // would scroll the line away.
      err.println(command + ": " + e.getMessage());
      err.println("see java -jar ei4j-samples.jar " + command + " --help");
      return EXIT_USAGE;
    } catch (IOException | RuntimeException e) {
      err.println(command + ": " + describe(e));
      return EXIT_FAILURE;
    }
  }

  private static String usageOf(String command) {
    switch (command) {
      case "cnode-server":
        return String.format(SERVER_USAGE, command, "The C-node tutorial's server as the registered process cnode:\n"
            + "{call, Pid, {foo, X}} -> Pid ! {cnode, X+1}; {call, Pid, {bar, Y}} -> Pid ! {cnode, 2*Y};\n"
            + "anything else is logged and ignored. Default --name c1.",
            "cnode", "{call, self(), {foo, 3}}, receive R -> R end.") + NodeOptions.USAGE;
      case "echo-server":
        return String.format(SERVER_USAGE, command, "Registered process echo: {Pid, Term} -> Pid ! {echo, Term};\n"
            + "anything else is logged and ignored. Default --name echo1.",
            "echo", "{self(), hello}, receive R -> R end.") + NodeOptions.USAGE;
      case "rpc":
        return RPC_USAGE + NodeOptions.USAGE;
      case "send":
        return SEND_USAGE + NodeOptions.USAGE;
      case "tls-setup":
        return TlsSetup.USAGE;
      default:
        return null;
    }
  }

  private static int server(Options o, String defaultName, Server.Handler handler, PrintStream out, PrintStream err)
      throws UsageException, IOException {
    if (!o.positional().isEmpty()) {
      throw new UsageException("unexpected argument '" + o.positional().get(0) + "'");
    }
    Server server = new Server(NodeOptions.of(o, defaultName, true), handler);
    int status = server.run(out, err);
    ServerState.stopping = server.isStopping();
    return status;
  }

  private static int rpc(Options o, PrintStream out, PrintStream err) throws UsageException, IOException {
    List<String> p = o.positional();
    if (p.size() != 3) {
      throw new UsageException("rpc takes MODULE FUNCTION ARGS, got " + p.size() + " argument(s)");
    }
    ErlTerm args = parse(p.get(2), "ARGS");
    if (!(args instanceof ErlList list) || !list.isProper()) {
      throw new UsageException("ARGS must be an Erlang list of the arguments, such as '[[1,2,3]]' or '[]', got " + p.get(2));
    }
    long timeout = o.getLong("timeout", DEFAULT_TIMEOUT_MILLIS, 1, Integer.MAX_VALUE);
    String peer = peer(o);
    NodeOptions no = NodeOptions.of(o, "ei4j_rpc_" + ProcessHandle.current().pid(), false);
    try (EiNode node = no.buildNode(err, NodeOptions.hostOf(peer));
        EiConnection c = connect(no, node, peer, timeout)) {
      ErlTerm result = c.rpc(p.get(0), p.get(1), list, timeout);
      if (result instanceof ErlTuple t && t.arity() == 2 && ErlAtom.of("badrpc").equals(t.get(0))) {
        err.println("badrpc " + Terms.print(t.get(1)));
        return EXIT_FAILURE;
      }
      out.println(Terms.print(result));
      return 0;
    }
  }

  private static int send(Options o, PrintStream err) throws UsageException, IOException {
    List<String> p = o.positional();
    if (p.size() != 2) {
      throw new UsageException("send takes NAME TERM, got " + p.size() + " argument(s)");
    }
    String name = p.get(0);
    if (name.isEmpty()) {
      throw new UsageException("NAME is empty");
    }
    ErlTerm message = parse(p.get(1), "TERM");
    long timeout = o.getLong("timeout", DEFAULT_TIMEOUT_MILLIS, 1, Integer.MAX_VALUE);
    String peer = peer(o);
    NodeOptions no = NodeOptions.of(o, "ei4j_send_" + ProcessHandle.current().pid(), false);
    try (EiNode node = no.buildNode(err, NodeOptions.hostOf(peer));
        EiConnection c = connect(no, node, peer, timeout)) {
      c.regSend(c.self(), name, message, timeout);
      return 0;
    }
  }

  private static String peer(Options o) throws UsageException {
    String peer = o.get("peer");
    if (peer == null) {
      throw new UsageException("--peer NODE is required");
    }
    return HostNames.complete(peer, "--peer");
  }

  private static EiConnection connect(NodeOptions no, EiNode node, String peer, long timeout) throws IOException {
    if (no.port != null) {
      return node.connect(new InetSocketAddress(NodeOptions.hostOf(peer), no.port), timeout);
    }
    return node.connect(peer, timeout);
  }

  private static ErlTerm parse(String text, String what) throws UsageException {
    try {
      return Terms.parse(text);
    } catch (TermParseException e) {
      throw new UsageException(what + " is not an Erlang term: " + e.getMessage());
    }
  }

  /** A one-line reason for a failure, with the cause when it says more. */
  private static String describe(Throwable e) {
    String m = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    Throwable cause = e.getCause();
    if (cause != null && cause.getMessage() != null && !m.contains(cause.getMessage())) {
      m += " (" + cause.getMessage() + ")";
    }
    if (m.contains("the peer answers with TLS")) {
      m += "; use --transport tls with --cert, --key and --cacert";
    }
    return m;
  }
}
