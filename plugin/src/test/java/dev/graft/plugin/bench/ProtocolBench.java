package dev.graft.plugin.bench;

import dev.graft.onnx.FloatTensor;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.ModelFile;
import dev.graft.plugin.runtime.OrtModelRuntime;
import dev.graft.plugin.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Throughput and latency of one-image inferences on the fixture VGG over REST JSON, REST binary and
 * gRPC, next to a direct in-process ONNX Runtime call on the same model file and session settings,
 * at concurrency 1, 8 and 32, in one run. The host runs as a separate process ({@link ServedHost});
 * the load generator is this JVM. Prints a Markdown table. Not a test: see docs/benchmarks.md. The
 * suite's served figures ({@code bench/run}, {@link ServedBench}) use a fairer in-process baseline;
 * this one calls ONNX Runtime from every caller at once.
 *
 * <p>Properties: {@code bench.seconds} (measured time per cell, default 5), {@code bench.warmup}
 * (seconds, default 2), {@code bench.concurrency} (default {@code 1,8,32}), {@code bench.protocols}
 * (default all: {@code direct ORT,REST JSON,REST binary,gRPC}; ratios need {@code direct ORT}),
 * {@code bench.grpc.channels} (default 4).
 */
public final class ProtocolBench {
  private static final int IMAGES = 64;

  private ProtocolBench() {}

  private record Cell(
      String protocol, int concurrency, double throughput, double p50, double p99) {}

  public static void main(String[] args) throws Exception {
    double seconds = Double.parseDouble(System.getProperty("bench.seconds", "5"));
    double warmup = Double.parseDouble(System.getProperty("bench.warmup", "2"));
    int channels = Integer.parseInt(System.getProperty("bench.grpc.channels", "4"));
    int[] concurrency =
        Arrays.stream(System.getProperty("bench.concurrency", "1,8,32").split(","))
            .mapToInt(s -> Integer.parseInt(s.trim()))
            .toArray();
    Path root = Fixtures.repoRoot();
    Path work = Files.createTempDirectory("graft-bench");
    Path store = Files.createDirectories(work.resolve("store"));
    Path modelFolder = Fixtures.copyExampleModel(store);
    List<FloatTensor> images = images();
    ExecutorService pool = Executors.newCachedThreadPool();
    ModelSettings settings = ModelSettings.readFolder(modelFolder);
    try (ServedHost host = ServedHost.start(root, work, store, Map.of());
        OrtModelRuntime direct =
            OrtModelRuntime.open(
                "mnist-vgg", ModelFile.read(modelFolder.resolve("mnist-vgg.onnx")), settings);
        RestBinaryLoad binary = new RestBinaryLoad(host.http(), "mnist-vgg", null);
        KeepAliveHttp json = new KeepAliveHttp(host.http());
        GrpcLoad grpc =
            new GrpcLoad(host.grpcHost(), host.grpcPort(), channels, "mnist-vgg", null)) {
      Map<String, LoadRunner.Call> calls = new LinkedHashMap<>();
      calls.put("direct ORT", i -> direct.infer(Map.of("input", images.get(i % IMAGES)), Set.of()));
      calls.put("REST JSON", jsonCall(json, images));
      calls.put("REST binary", i -> binary.infer(images.get(i % IMAGES)));
      calls.put("gRPC", i -> grpc.infer(images.get(i % IMAGES)));
      double loadBefore = loadAverage();
      List<Cell> cells = new ArrayList<>();
      List<String> protocols =
          Arrays.stream(
                  System.getProperty("bench.protocols", String.join(",", calls.keySet()))
                      .split(","))
              .map(String::trim)
              .toList();
      // concurrency-major, protocols interleaved: load that drifts during the run (other processes
      // on the machine) then affects every protocol of a row alike
      for (int c : concurrency) {
        for (String protocol : protocols) {
          LoadRunner.run(calls.get(protocol), c, warmup, pool, null); // warm-up, discarded
          LoadRunner.Window w = LoadRunner.run(calls.get(protocol), c, seconds, pool, null);
          if (w.failures() > 0) {
            throw new IllegalStateException(
                protocol + ": " + w.failures() + " failed, first: " + w.firstFailure());
          }
          cells.add(
              new Cell(protocol, c, w.throughput(), w.percentileMs(0.50), w.percentileMs(0.99)));
          System.err.printf(Locale.ROOT, "%s x%d done%n", protocol, c);
        }
      }
      print(cells, settings, seconds);
      System.out.printf(
          Locale.ROOT,
          "%nSystem load average (1 min): %.1f before, %.1f after%n",
          loadBefore,
          loadAverage());
    } finally {
      pool.shutdownNow();
    }
  }

  private static List<FloatTensor> images() {
    float[] pixels = Fixtures.testImages("", IMAGES);
    List<FloatTensor> out = new ArrayList<>();
    for (int i = 0; i < IMAGES; i++) {
      out.add(
          new FloatTensor(
              "input",
              new long[] {1, 1, 28, 28},
              Arrays.copyOfRange(pixels, i * 784, (i + 1) * 784)));
    }
    return out;
  }

  private static LoadRunner.Call jsonCall(KeepAliveHttp http, List<FloatTensor> images) {
    List<byte[]> bodies = new ArrayList<>();
    for (FloatTensor image : images) {
      StringBuilder data = new StringBuilder();
      for (float v : image.data()) {
        data.append(data.length() == 0 ? "" : ",").append(v);
      }
      bodies.add(
          ("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":["
                  + data
                  + "]}]}")
              .getBytes(StandardCharsets.UTF_8));
    }
    return i -> {
      KeepAliveHttp.Response r =
          http.post(
              "/v2/models/mnist-vgg/infer",
              Map.of("Content-Type", "application/json"),
              bodies.get(i % IMAGES));
      if (r.status() != 200) {
        throw new IllegalStateException(
            "HTTP " + r.status() + ": " + new String(r.body(), StandardCharsets.UTF_8));
      }
    };
  }

  private static double loadAverage() {
    return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  private static void print(List<Cell> cells, ModelSettings s, double seconds) {
    System.out.printf(
        Locale.ROOT,
        "Fixture VGG (mnist-vgg, batch 1), ORT intra=%d inter=%d %s; %d cores; %.0f s per cell%n%n",
        s.intraOpThreads(),
        s.interOpThreads(),
        s.optLevel(),
        Runtime.getRuntime().availableProcessors(),
        seconds);
    System.out.println(
        "| protocol | concurrency | req/s | p50 ms | p99 ms | req/s vs direct | p50 vs direct |");
    System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (Cell c : cells) {
      Cell d =
          cells.stream()
              .filter(x -> x.protocol.equals("direct ORT") && x.concurrency == c.concurrency)
              .findFirst()
              .orElse(new Cell("none", c.concurrency, Double.NaN, Double.NaN, Double.NaN));
      System.out.printf(
          Locale.ROOT,
          "| %s | %d | %.0f | %.3f | %.3f | %.2f | %.2f |%n",
          c.protocol,
          c.concurrency,
          c.throughput,
          c.p50,
          c.p99,
          c.throughput / d.throughput,
          c.p50 / d.p50);
    }
  }
}
