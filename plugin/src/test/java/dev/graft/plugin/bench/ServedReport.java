package dev.graft.plugin.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The served sections of the report ({@link ServedBench}): throughput at concurrency 8 against the
 * best in-process figure, and p99 latency under churn against the same load without it, as Markdown
 * and JSON. Stateless.
 */
final class ServedReport {
  static final double THROUGHPUT_GOAL = 0.9;
  static final double CHURN_GOAL = 1.5;

  private ServedReport() {}

  static String throughputMarkdown(List<ServedBench.Result> results, ServedBench.Settings s) {
    StringBuilder md =
        heading(
            "Served throughput at concurrency 8 vs in-process ONNX Runtime",
            "The host runs as a separate process (its defaults: %d worker threads), 8 callers"
                + " in this JVM send one image each, the next when the previous returned: KServe"
                + " v2 REST with the binary tensor extension (HTTP/1.1, a connection per caller)"
                + " and gRPC `ModelInfer` (%d channels). In-process baseline: the same runtime"
                + " the server builds, from the same `serving.properties`, called by 8 callers of"
                + " which at most *p* run ONNX Runtime at once (p = %s); the ratio is to the"
                + " best *p*. %.0f s measured per cell after a warm-up of at least %.0f s that"
                + " goes on (up to %.0f s) until the JIT compilers were idle for a second (in"
                + " process: this JVM's; served: the host's and the client's; column warm-up). CPU columns: CPU time per request of the"
                + " load-generating JVM (in process: the model itself) and of the host process,"
                + " and how many of the machine's %d cores each kept busy (they share them)."
                + " Floor rows: the same host and clients on a model that computes nothing"
                + " (Flatten and Slice, same input and output sizes): the CPU a request costs"
                + " apart from inference. Ceiling: the most a served client can reach here,"
                + " c / (c + floor client CPU + floor host CPU), c being the best in-process"
                + " row's CPU per request: the load generator shares the cores.\n\n",
            ServedBench.SERVER_WORKERS,
            s.grpcChannels(),
            s.permits(),
            s.seconds(),
            s.warmup(),
            s.maxWarmup(),
            Runtime.getRuntime().availableProcessors());
    md.append(
        "| model | client | ORT runs at once | warm-up s | req/s | p50 ms | p99 ms | n | failed |"
            + " client CPU ms/req (cores) | host CPU ms/req (cores) | / best in-process |\n");
    md.append(
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (ServedBench.Result r : results) {
      double best = best(r).window().throughput();
      for (ServedBench.Throughput t : r.throughput()) {
        LoadRunner.Window w = t.window();
        md.append(
            String.format(
                Locale.ROOT,
                "| %s | %s | %s | %.0f | %.1f | %.2f | %.2f | %d | %d | %s | %s | %s |%n",
                r.model(),
                t.client(),
                t.permits() > 0 ? Integer.toString(t.permits()) : "server",
                t.warmupSeconds(),
                w.throughput(),
                w.percentileMs(0.5),
                w.percentileMs(0.99),
                w.nanos().length,
                w.failures(),
                cpu(w.clientCpuSeconds(), w),
                cpu(w.hostCpuSeconds(), w),
                t.client().endsWith(ProtocolFloor.SUFFIX)
                    ? "-"
                    : String.format(Locale.ROOT, "%.2f", w.throughput() / best)));
      }
    }
    md.append("\n| model | best in-process req/s (p) | REST binary / best (ceiling) | gRPC / best")
        .append(" (ceiling) | goal: served / in-process >= ")
        .append(THROUGHPUT_GOAL)
        .append(" |\n| --- | ---: | ---: | ---: | --- |\n");
    for (ServedBench.Result r : results) {
      ServedBench.Throughput b = best(r);
      double rest = served(r, "rest-binary") / b.window().throughput();
      double grpc = served(r, "grpc") / b.window().throughput();
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %.1f (%d) | %.2f (%.2f) | %.2f (%.2f) | REST binary %s, gRPC %s |%n",
              r.model(),
              b.window().throughput(),
              b.permits(),
              rest,
              ceiling(r, "rest-binary"),
              grpc,
              ceiling(r, "grpc"),
              rest >= THROUGHPUT_GOAL ? "met" : "not met",
              grpc >= THROUGHPUT_GOAL ? "met" : "not met"));
    }
    md.append("\nServed layouts (`GET /models/{m}`):\n\n");
    for (ServedBench.Result r : results) {
      md.append("- ")
          .append(r.model())
          .append(": ")
          .append(r.sessionOptions())
          .append("; layout `")
          .append(r.layout())
          .append("`; served outputs equal the in-process ones within ")
          .append(String.format(Locale.ROOT, "%.1e", r.maxOutputDiff()))
          .append('\n');
    }
    return md.append('\n').toString();
  }

  static String churnMarkdown(List<ServedBench.Result> results, ServedBench.Settings s) {
    StringBuilder md =
        heading(
            "p99 latency during 1 patch/s churn vs without",
            "REST binary, 8 callers, %d pairs of %.0f s windows alternating (quiet, churn;"
                + " then churn, quiet): in a churn window a thread flips an RWS adapter once a"
                + " second (`POST /models/{m}/adapters/{a}/update?attach=true|false`; VGG: the"
                + " fixtures' gaussian_noise signature, ViT: a keep-4 signature of the suite's"
                + " synthetic patch), in a quiet window nothing changes (base weights). Latencies"
                + " of each kind of window pooled. Every response must be a well-formed 200.\n\n",
            s.churnPairs(),
            s.churnSeconds());
    md.append(
            "| model | requests quiet / churn | p50 ms quiet / churn | p99 ms quiet | p99 ms churn |"
                + " p99 churn / quiet | failed responses | adapter changes (failed) | change call ms"
                + " (median, max) | goal: p99 ratio <= ")
        .append(CHURN_GOAL)
        .append(" |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (ServedBench.Result r : results) {
      ServedBench.Churn c = r.churn();
      double ratio = c.churn().percentileMs(0.99) / c.quiet().percentileMs(0.99);
      boolean met = ratio <= CHURN_GOAL && c.quiet().failures() + c.churn().failures() == 0;
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %d / %d | %.2f / %.2f | %.2f | %.2f | %.2f | %d | %d (%d) | %.1f, %.1f | %s"
                  + " |%n",
              r.model(),
              c.quiet().nanos().length,
              c.churn().nanos().length,
              c.quiet().percentileMs(0.5),
              c.churn().percentileMs(0.5),
              c.quiet().percentileMs(0.99),
              c.churn().percentileMs(0.99),
              ratio,
              c.quiet().failures() + c.churn().failures(),
              c.patches(),
              c.patchFailures(),
              median(c.patchMs()),
              c.patchMs().length == 0 ? Double.NaN : c.patchMs()[c.patchMs().length - 1],
              met ? "met" : "not met"));
    }
    return md.append('\n').toString();
  }

  static List<Map<String, Object>> json(List<ServedBench.Result> results) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (ServedBench.Result r : results) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("model", r.model());
      m.put("sessionOptions", r.sessionOptions());
      m.put("layout", r.layout());
      m.put("maxOutputDiffServedVsInProcess", r.maxOutputDiff());
      List<Map<String, Object>> cells = new ArrayList<>();
      double best = best(r).window().throughput();
      for (ServedBench.Throughput t : r.throughput()) {
        Map<String, Object> c = window(t.window());
        c.put("client", t.client());
        c.put("ortRunsAtOnce", t.permits() > 0 ? t.permits() : "server");
        c.put("concurrency", t.concurrency());
        c.put("warmupSeconds", t.warmupSeconds());
        if (!t.client().endsWith(ProtocolFloor.SUFFIX)) {
          c.put("overBestInProcess", t.window().throughput() / best);
        }
        cells.add(c);
      }
      m.put("throughput", cells);
      m.put("bestInProcessPermits", best(r).permits());
      m.put("restBinaryOverInProcess", served(r, "rest-binary") / best);
      m.put("grpcOverInProcess", served(r, "grpc") / best);
      m.put("restBinaryCeiling", ceiling(r, "rest-binary"));
      m.put("grpcCeiling", ceiling(r, "grpc"));
      m.put("throughputGoal", "served / best in-process >= " + THROUGHPUT_GOAL);
      ServedBench.Churn c = r.churn();
      Map<String, Object> churn = new LinkedHashMap<>();
      churn.put("quiet", window(c.quiet()));
      churn.put("churn", window(c.churn()));
      churn.put("p99ChurnOverQuiet", c.churn().percentileMs(0.99) / c.quiet().percentileMs(0.99));
      churn.put("adapterChanges", c.patches());
      churn.put("adapterChangeFailures", c.patchFailures());
      churn.put("adapterChangeMs", c.patchMs());
      churn.put("goal", "p99 churn / quiet <= " + CHURN_GOAL + ", 0 failed responses");
      m.put("churn", churn);
      out.add(m);
    }
    return out;
  }

  /** CPU milliseconds per request, and the cores kept busy, e.g. {@code 0.52 (0.74)}. */
  private static String cpu(double seconds, LoadRunner.Window w) {
    return Double.isNaN(seconds)
        ? "-"
        : String.format(
            Locale.ROOT, "%.2f (%.2f)", 1000 * seconds / w.nanos().length, seconds / w.seconds());
  }

  private static StringBuilder heading(String title, String format, Object... args) {
    return new StringBuilder("## ")
        .append(title)
        .append("\n\n")
        .append(String.format(Locale.ROOT, format, args));
  }

  private static Map<String, Object> window(LoadRunner.Window w) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("requests", w.nanos().length);
    m.put("failures", w.failures());
    if (!w.firstFailure().isEmpty()) {
      m.put("firstFailure", w.firstFailure());
    }
    m.put("seconds", w.seconds());
    m.put("reqPerS", w.throughput());
    m.put("p50Ms", w.percentileMs(0.5));
    m.put("p99Ms", w.percentileMs(0.99));
    m.put("maxMs", w.percentileMs(1.0));
    m.put("clientCpuPerS", w.clientCpuSeconds() / w.seconds());
    m.put("hostCpuPerS", w.hostCpuSeconds() / w.seconds());
    m.put("clientCpuMsPerRequest", 1000 * w.clientCpuSeconds() / w.nanos().length);
    m.put("hostCpuMsPerRequest", 1000 * w.hostCpuSeconds() / w.nanos().length);
    return m;
  }

  static ServedBench.Throughput best(ServedBench.Result r) {
    return r.throughput().stream()
        .filter(t -> t.client().equals("in-process"))
        .max(Comparator.comparingDouble(t -> t.window().throughput()))
        .orElseThrow();
  }

  private static double served(ServedBench.Result r, String client) {
    return cell(r, client).map(t -> t.window().throughput()).orElse(Double.NaN);
  }

  /**
   * The most {@code client} can reach against the best in-process cell when every request also
   * costs the CPU of its protocol floor on the same cores: {@code c / (c + floor)}, CPU per
   * request.
   */
  static double ceiling(ServedBench.Result r, String client) {
    LoadRunner.Window in = best(r).window();
    double c = in.clientCpuSeconds() / in.nanos().length;
    return cell(r, client + ProtocolFloor.SUFFIX)
        .map(ServedBench.Throughput::window)
        .map(w -> c / (c + (w.clientCpuSeconds() + w.hostCpuSeconds()) / w.nanos().length))
        .orElse(Double.NaN);
  }

  private static java.util.Optional<ServedBench.Throughput> cell(
      ServedBench.Result r, String client) {
    return r.throughput().stream().filter(t -> t.client().equals(client)).findFirst();
  }

  private static double median(double[] sorted) {
    return sorted.length == 0 ? Double.NaN : sorted[sorted.length / 2];
  }
}
