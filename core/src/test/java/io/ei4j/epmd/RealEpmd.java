package io.ei4j.epmd;

import io.ei4j.testkit.ErlangPeer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code epmd} on a private port, run in the foreground as a child process and
 * killed by {@link #close()}, so tests never touch the machine's EPMD on 4369.
 */
final class RealEpmd implements AutoCloseable {
  private final Process process;
  private final int port;

  private RealEpmd(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** Starts {@code epmd -port P} on a free port, with extra arguments. */
  static RealEpmd start(String... extraArgs) {
    AssertionError last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int port = freePort();
      List<String> cmd = new ArrayList<>();
      cmd.add(ErlangPeer.executable("epmd").toString());
      cmd.add("-port");
      cmd.add(Integer.toString(port));
      cmd.addAll(List.of(extraArgs));
      Process p;
      try {
        p = new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      } catch (IOException e) {
        throw new AssertionError("cannot start " + cmd, e);
      }
      RealEpmd epmd = new RealEpmd(p, port);
      try {
        epmd.awaitListening();
        return epmd;
      } catch (AssertionError e) {
        epmd.close();
        last = e;
      }
    }
    throw last;
  }

  int port() {
    return port;
  }

  EpmdClient client() {
    return new EpmdClient("localhost", port, 3_000);
  }

  /** Runs {@code epmd -port P ARGS} as a client (e.g. {@code -names}) and returns its output. */
  String cli(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(ErlangPeer.executable("epmd").toString());
    cmd.add("-port");
    cmd.add(Integer.toString(port));
    cmd.addAll(List.of(args));
    return ErlangPeer.run(cmd);
  }

  private void awaitListening() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("epmd on port " + port + " exited with " + process.exitValue());
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
        return;
      } catch (IOException e) {
        sleep(20);
      }
    }
    throw new AssertionError("epmd did not listen on port " + port);
  }

  /** A TCP port nobody listens on right now. */
  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Kills epmd (every registration it held goes with it) and waits for it to exit. */
  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
