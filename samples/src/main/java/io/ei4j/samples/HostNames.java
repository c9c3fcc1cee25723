package io.ei4j.samples;

import io.ei4j.connect.EiNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Node names as {@code erl} completes them. */
final class HostNames {
  private HostNames() {}

  /**
   * The host part {@code erl -sname alive} gives a node on this machine: the kernel's host
   * name ({@code gethostname(2)}) up to its first dot.
   */
  static String shortHostName() {
    String host;
    try {
      host = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
    } catch (IOException e) {
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException ex) {
        host = "localhost";
      }
    }
    int dot = host.indexOf('.');
    return dot < 0 ? host : host.substring(0, dot);
  }

  /**
   * {@code alive@host} as given, or {@code alive} completed with {@link #shortHostName()},
   * checked against Erlang's rule for node names (as {@code erl -name} checks its own).
   *
   * @param option the option the name came from, for the message ({@code --name})
   * @throws UsageException when Erlang would not take the name, with the rule
   */
  static String complete(String name, String option) throws UsageException {
    if (name.isEmpty()) {
      throw new UsageException(option + " is empty");
    }
    String full = name.indexOf('@') < 0 ? name + "@" + shortHostName() : name;
    try {
      EiNode.builder(full); // checks the name as erl does, and nothing else
    } catch (IllegalArgumentException e) {
      throw new UsageException(option + ": " + e.getMessage());
    }
    return full;
  }
}
