package io.ei4j.epmd;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A fake EPMD on a real loopback socket that plays a script against one client: it
 * reads one length-prefixed request, records its bytes, then runs the script, which
 * writes whatever reply (well-formed or not) the test wants.
 */
final class ScriptedServer implements AutoCloseable {
  /** What the fake server does after reading the request. */
  interface Script {
    void play(OutputStream out, InputStream in) throws Exception;
  }

  private final ServerSocket server;
  private final CompletableFuture<byte[]> request = new CompletableFuture<>();
  private final Thread thread;

  ScriptedServer(Script script) throws IOException {
    server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
    thread = new Thread(() -> serve(script), "scripted-epmd");
    thread.setDaemon(true);
    thread.start();
  }

  int port() {
    return server.getLocalPort();
  }

  EpmdClient client(long timeoutMillis) {
    return new EpmdClient(InetAddress.getLoopbackAddress().getHostAddress(), port(),
        timeoutMillis);
  }

  /** The request the client sent, length prefix included. */
  byte[] request() throws Exception {
    return request.get(5, TimeUnit.SECONDS);
  }

  private void serve(Script script) {
    try (Socket s = server.accept()) {
      DataInputStream in = new DataInputStream(s.getInputStream());
      int len = in.readUnsignedShort();
      byte[] body = new byte[len];
      in.readFully(body);
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      all.write(len >> 8);
      all.write(len);
      all.write(body);
      request.complete(all.toByteArray());
      script.play(s.getOutputStream(), in);
      s.getOutputStream().flush();
    } catch (Exception e) {
      request.completeExceptionally(e);
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    thread.interrupt();
  }
}
