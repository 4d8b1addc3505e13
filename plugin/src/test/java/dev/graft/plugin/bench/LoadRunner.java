package dev.graft.plugin.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * A closed-loop load generator: {@code threads} callers, each sending its next request when the
 * previous one returned, for a bounded time. Every call is timed; a call that throws counts as a
 * failure (and is not timed) and the caller carries on.
 */
final class LoadRunner {
  private LoadRunner() {}

  /** One request; {@code i} numbers the caller's requests (with a per-caller offset). */
  interface Call {
    void run(int i) throws Exception;
  }

  /**
   * What one window measured.
   *
   * @param nanos latencies of the successful calls, sorted
   * @param failures calls that threw
   * @param firstFailure the first failure's message, or empty
   * @param seconds from the start until the last caller returned
   * @param clientCpuSeconds CPU time of this JVM (the callers, or in process the model itself)
   * @param hostCpuSeconds CPU time of the host process, or NaN when there is none
   */
  record Window(
      long[] nanos,
      int failures,
      String firstFailure,
      double seconds,
      double clientCpuSeconds,
      double hostCpuSeconds) {
    double throughput() {
      return nanos.length / seconds;
    }

    double percentileMs(double q) {
      if (nanos.length == 0) {
        return Double.NaN;
      }
      int index = (int) Math.ceil(q * nanos.length) - 1;
      return nanos[Math.max(0, Math.min(index, nanos.length - 1))] / 1e6;
    }

    /** Several windows as one: latencies pooled, times and failures added. */
    static Window merge(List<Window> windows) {
      long[] all = windows.stream().flatMapToLong(w -> Arrays.stream(w.nanos)).sorted().toArray();
      String first =
          windows.stream()
              .map(Window::firstFailure)
              .filter(f -> !f.isEmpty())
              .findFirst()
              .orElse("");
      return new Window(
          all,
          windows.stream().mapToInt(Window::failures).sum(),
          first,
          windows.stream().mapToDouble(Window::seconds).sum(),
          windows.stream().mapToDouble(Window::clientCpuSeconds).sum(),
          windows.stream().mapToDouble(Window::hostCpuSeconds).sum());
    }
  }

  /**
   * Runs {@code call} from {@code threads} callers for {@code seconds} (calls that started before
   * the end finish and count).
   *
   * @param hostCpuNanos the host process's CPU time so far, or {@code null} when in process
   */
  static Window run(
      Call call, int threads, double seconds, ExecutorService pool, LongSupplier hostCpuNanos)
      throws Exception {
    AtomicInteger failures = new AtomicInteger();
    AtomicReference<String> firstFailure = new AtomicReference<>("");
    long cpu0 = processCpuNanos();
    long host0 = hostCpuNanos == null ? 0 : hostCpuNanos.getAsLong();
    long start = System.nanoTime();
    long end = start + (long) (seconds * 1e9);
    List<Future<long[]>> callers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int offset = t * 7;
      callers.add(
          pool.submit(
              () -> {
                long[] lat = new long[1024];
                int n = 0;
                for (int i = 0; System.nanoTime() < end; i++) {
                  long t0 = System.nanoTime();
                  try {
                    call.run(offset + i);
                  } catch (Exception e) {
                    failures.incrementAndGet();
                    firstFailure.compareAndSet("", String.valueOf(e));
                    continue;
                  }
                  if (n == lat.length) {
                    lat = Arrays.copyOf(lat, n * 2);
                  }
                  lat[n++] = System.nanoTime() - t0;
                }
                return Arrays.copyOf(lat, n);
              }));
    }
    List<long[]> parts = new ArrayList<>();
    for (Future<long[]> c : callers) {
      parts.add(c.get((long) seconds + 300, TimeUnit.SECONDS));
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    double clientCpu = (processCpuNanos() - cpu0) / 1e9;
    double hostCpu = hostCpuNanos == null ? Double.NaN : (hostCpuNanos.getAsLong() - host0) / 1e9;
    return new Window(
        parts.stream().flatMapToLong(Arrays::stream).sorted().toArray(),
        failures.get(),
        firstFailure.get(),
        elapsed,
        clientCpu,
        hostCpu);
  }

  /** CPU time of this JVM (all threads, including ONNX Runtime's native ones). */
  static long processCpuNanos() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return sun.getProcessCpuTime();
    }
    return 0;
  }
}
