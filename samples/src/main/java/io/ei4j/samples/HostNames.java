package io.ei4j.samples;

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
   * {@code alive@host} as given, or {@code alive} completed with {@link #shortHostName()}.
   *
   * @throws UsageException when the name is empty or has an empty part
   */
  static String complete(String name) throws UsageException {
    int at = name.indexOf('@');
    if (at < 0) {
      if (name.isEmpty()) {
        throw new UsageException("--name is empty");
      }
      return name + "@" + shortHostName();
    }
    if (at == 0 || at == name.length() - 1 || name.indexOf('@', at + 1) >= 0) {
      throw new UsageException("a node name is alive or alive@host, got '" + name + "'");
    }
    return name;
  }
}
