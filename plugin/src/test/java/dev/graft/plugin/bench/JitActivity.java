package dev.graft.plugin.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * How much a JVM's JIT compilers have worked so far, to end a warm-up once they are idle: for this
 * JVM, the compilation time its {@code CompilationMXBean} reports; for another process (the served
 * host), the CPU time of its compiler threads ({@code C1 CompilerThre}, {@code C2 CompilerThre}) in
 * {@code /proc/<pid>/task/<tid>/stat}, summed over the threads seen so far so that a compiler
 * thread that exits (HotSpot starts and stops them with the load) does not make the sum go back.
 * Where neither is available the activity is always 0: warm-ups then last their minimum.
 */
abstract class JitActivity {
  /** At most this much compiler time per second of load counts as idle: 1% of a core. */
  static final long IDLE_NANOS_PER_SECOND = 10_000_000L;

  /** Compiler time (nanoseconds) so far; only differences mean something. */
  abstract long cpuNanos();

  /** The activity of {@code a} and {@code b} together. */
  static JitActivity both(JitActivity a, JitActivity b) {
    return new JitActivity() {
      @Override
      long cpuNanos() {
        return a.cpuNanos() + b.cpuNanos();
      }
    };
  }

  static JitActivity thisJvm() {
    var bean = ManagementFactory.getCompilationMXBean();
    boolean timed = bean != null && bean.isCompilationTimeMonitoringSupported();
    return new JitActivity() {
      @Override
      long cpuNanos() {
        return timed ? bean.getTotalCompilationTime() * 1_000_000L : 0;
      }
    };
  }

  /** The compiler threads of process {@code pid}, read from {@code /proc}. */
  static JitActivity process(long pid) {
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    Map<String, Long> seen = new HashMap<>();
    return new JitActivity() {
      @Override
      synchronized long cpuNanos() {
        if (Files.isDirectory(tasks)) {
          try (Stream<Path> list = Files.list(tasks)) {
            list.forEach(
                t -> {
                  long ticks = compilerTicks(t.resolve("stat"));
                  if (ticks >= 0) {
                    seen.merge(t.getFileName().toString(), ticks, Math::max);
                  }
                });
          } catch (IOException e) {
            // the process is gone: what was seen stays
          }
        }
        // Linux reports thread times in clock ticks of USER_HZ, which is 100 on every common
        // configuration (the kernel's HZ may differ; USER_HZ does not)
        return seen.values().stream().mapToLong(Long::longValue).sum() * 10_000_000L;
      }
    };
  }

  /** utime + stime of a compiler thread's {@code stat} file, or -1 for any other thread. */
  private static long compilerTicks(Path stat) {
    String line;
    try {
      line = Files.readString(stat);
    } catch (IOException e) {
      return -1; // the thread ended
    }
    int open = line.indexOf('(');
    int close = line.lastIndexOf(')');
    if (open < 0 || close < open) {
      return -1;
    }
    String comm = line.substring(open + 1, close);
    if (!comm.startsWith("C1 CompilerThre") && !comm.startsWith("C2 CompilerThre")) {
      return -1;
    }
    // after the command: state (field 3), ..., utime (field 14), stime (field 15)
    String[] f = line.substring(close + 2).trim().split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }
}
