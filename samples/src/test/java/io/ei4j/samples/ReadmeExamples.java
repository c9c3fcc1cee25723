package io.ei4j.samples;

// README:begin imports
import io.ei4j.api.SocketCallbacks;
import io.ei4j.connect.EiConnection;
import io.ei4j.connect.EiListener;
import io.ei4j.connect.EiMessage;
import io.ei4j.connect.EiNode;
import io.ei4j.connect.EiRawMessage;
import io.ei4j.node.Mailbox;
import io.ei4j.node.Node;
import io.ei4j.term.ErlAtom;
import io.ei4j.term.ErlInteger;
import io.ei4j.term.ErlList;
import io.ei4j.term.ErlPid;
import io.ei4j.term.ErlRef;
import io.ei4j.term.ErlTerm;
import io.ei4j.term.ErlTuple;
import io.ei4j.term.TermCursor;
import io.ei4j.term.Terms;
import io.ei4j.transport.tcp.TcpTransport;
import io.ei4j.transport.tls.TlsConfig;
import io.ei4j.transport.tls.TlsTransport;
import io.ei4j.transport.unix.UnixTransport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
// README:end

/**
 * The Java snippets of README.md, between the {@code README:begin} and {@code README:end}
 * markers: {@code ReadmeSnippetsTest} checks that README.md holds exactly these, so that
 * every snippet there compiles, and {@code ReadmeExamplesIT} runs them against real
 * Erlang nodes.
 */
final class ReadmeExamples {
  private ReadmeExamples() {}

  // README:begin connect-rpc
  /** Connects to an Erlang node such as "e1@myhost" and calls lists:reverse([1,2,3]) there. */
  static ErlTerm callErlang(String erlNode, String cookie) throws IOException {
    try (EiNode node = EiNode.builder("java1@localhost")
            .cookie(cookie)                     // leave out to use ~/.erlang.cookie
            .transport(TcpTransport.create())
            .build();
        EiConnection erl = node.connect(erlNode, 5_000)) {   // EPMD lookup, connect, handshake
      ErlList args = (ErlList) Terms.parse("[[1,2,3]]");
      return erl.rpc("lists", "reverse", args, 5_000);       // [3,2,1], or {badrpc, Reason}
    }
  }
  // README:end

  // README:begin send-receive
  /** Sends {Self, hello} to the process registered as echo on the peer; returns its answer. */
  static ErlTerm askEcho(EiConnection erl) throws IOException {
    ErlPid me = erl.self();
    erl.regSend(me, "echo", Terms.tuple(me, Terms.atom("hello")));
    while (true) {
      EiMessage m = erl.receive(5_000);               // ETIMEDOUT after 5 s of silence
      if (m instanceof EiMessage.Send s && s.to().equals(me)) {
        return s.message();                           // {echo,hello}
      }
    }
  }
  // README:end

  // README:begin serve
  /** A C node for one connection: published as nodeName, answers {Pid, Msg} with Pid ! {ok, Msg}. */
  static void serveOne(String nodeName, String cookie) throws IOException {
    try (EiNode node = EiNode.builder(nodeName).cookie(cookie).transport(TcpTransport.create()).build();
        EiListener listener = node.listen(new InetSocketAddress(0), 5)) {
      node.publish(((InetSocketAddress) listener.address()).getPort());  // now erl finds it by name
      try (EiConnection conn = listener.accept(SocketCallbacks.INFINITE)) {
        EiMessage m = conn.receive(SocketCallbacks.INFINITE);
        if (m instanceof EiMessage.RegSend r && r.message() instanceof ErlTuple t
            && t.arity() == 2 && t.get(0) instanceof ErlPid from) {
          conn.send(from, Terms.tuple(Terms.atom("ok"), t.get(1)));
        }
      }
    }
  }
  // README:end

  // README:begin raw
  static final ErlAtom SEQ = Terms.atom("seq");

  /** Adds up the sizes of the binaries in count messages {seq, N, Bin}, read in place. */
  static long binaryBytes(EiConnection erl, int count) throws IOException {
    EiRawMessage m = new EiRawMessage();               // reused: its buffer grows once
    long bytes = 0;
    for (int i = 0; i < count; i++) {
      TermCursor c = erl.receive(m, 5_000).payload();  // undecoded, as ei_xreceive_msg
      if (c.tupleHeader() == 3 && c.atomIs(SEQ)) {     // as ei_decode_tuple_header, ...
        c.longValue();
        bytes += c.binary().remaining();               // a view of the holder's buffer
      }
    }
    return bytes;
  }
  // README:end

  // README:begin node
  /** A Java node that Erlang can rpc:call: calc:add(A, B) runs in Java. */
  static Node calculator(String nodeName, String cookie) throws IOException {
    Node node = Node.builder(nodeName).cookie(cookie).transport(TcpTransport.create())
        .listen(new InetSocketAddress(0))       // accept connections, published in EPMD
        .build();
    node.registerFunction("calc", "add", 2, (self, args) -> Terms.integer(
        ((ErlInteger) args.get(0)).longValue() + ((ErlInteger) args.get(1)).longValue()));
    return node;   // erl: rpc:call('NODENAME', calc, add, [1, 2]) returns 3
  }

  /** Monitors the process registered as name on erlNode; returns its 'DOWN' message. */
  static ErlTerm awaitDown(Node node, String name, String erlNode) throws Exception {
    Mailbox box = node.createMailbox();
    ErlRef ref = box.monitor(name, erlNode);   // erlang:monitor(process, {Name, Node})
    // {'DOWN', Ref, process, {Name, Node}, Reason}; Reason noconnection if the node is lost
    return box.receive(m -> m instanceof ErlTuple t && t.arity() == 5 && ref.equals(t.get(1)), -1);
  }

  /** Links box to pid and returns {'EXIT', Pid, Reason} when pid exits. */
  static ErlTerm awaitExit(Mailbox box, ErlPid pid) throws Exception {
    box.trapExits(true);   // exit signals arrive as messages instead of killing the mailbox
    box.link(pid);
    return box.receive(m -> m instanceof ErlTuple t && t.arity() == 3 && pid.equals(t.get(1)), -1);
  }
  // README:end

  // README:begin tls
  /** TLS as erl -proto_dist inet_tls: the files an ssl_dist_optfile names. */
  static TlsTransport tls(Path dir) {
    TlsConfig config = TlsConfig.builder()
        .certificate(dir.resolve("node.pem"), dir.resolve("node.key"))   // certfile, keyfile
        .trustedCertificates(dir.resolve("ca.pem"))                      // cacertfile
        .build();   // verify_peer, and fail_if_no_peer_cert for listeners, are the defaults
    return new TlsTransport(config);
  }
  // README:end

  // README:begin unix
  /** AF_UNIX as erl_uds_dist: node alive@host listens on the socket file dir/alive. */
  static UnixTransport unix(Path dir) {
    return UnixTransport.builder().directory(dir).build();
  }
  // README:end
}
