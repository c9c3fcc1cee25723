package io.ei4j.bench;

import java.lang.management.ManagementFactory;

/**
 * CPU time of this whole process (every thread, user and system), for the CPU-per-message
 * figures of issue 21: {@code com.sun.management.OperatingSystemMXBean#getProcessCpuTime},
 * which on Linux is the process's {@code CLOCK_PROCESS_CPUTIME_ID}, the same clock the C
 * client reads.
 */
final class Cpu {
  private Cpu() {}

  /** CPU time used so far by this process in nanoseconds, or -1 where the JVM cannot tell. */
  static long processNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }
}
