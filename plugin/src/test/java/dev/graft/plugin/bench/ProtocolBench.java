package dev.graft.plugin.bench;

import com.google.protobuf.ByteString;
import dev.graft.onnx.FloatTensor;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.grpc.proto.GRPCInferenceServiceGrpc;
import dev.graft.plugin.grpc.proto.ModelInferRequest;
import dev.graft.plugin.runtime.ModelFile;
import dev.graft.plugin.runtime.OrtModelRuntime;
import dev.graft.plugin.testing.Fixtures;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Throughput and latency of one-image inferences on the fixture VGG over REST JSON, REST binary and
 * gRPC, next to a direct in-process ONNX Runtime call on the same model file and session settings,
 * at concurrency 1, 8 and 32, in one run. The host runs as a separate process started from {@code
 * host/target/graft-host.jar} with {@code plugins/graft-plugin.jar}; the load generator is this
 * JVM. Prints a Markdown table. Not a test: see docs/benchmarks.md.
 *
 * <p>Properties: {@code bench.seconds} (measured time per cell, default 5), {@code bench.warmup}
 * (seconds, default 2), {@code bench.concurrency} (default {@code 1,8,32}), {@code bench.protocols}
 * (default all: {@code direct ORT,REST JSON,REST binary,gRPC}; ratios need {@code direct ORT}).
 */
public final class ProtocolBench {
  private static final Pattern HTTP_LINE = Pattern.compile("Inference API bind to: (http://\\S+)");
  private static final Pattern GRPC_LINE = Pattern.compile("gRPC API bind to: (\\S+):(\\d+)");
  private static final int IMAGES = 64;

  private ProtocolBench() {}

  /** One way of running an inference; thread safe. */
  private interface Call {
    void run(int image) throws Exception;
  }

  private record Cell(
      String protocol, int concurrency, double throughput, double p50, double p99) {}

  public static void main(String[] args) throws Exception {
    double seconds = Double.parseDouble(System.getProperty("bench.seconds", "5"));
    double warmup = Double.parseDouble(System.getProperty("bench.warmup", "2"));
    int[] concurrency =
        Arrays.stream(System.getProperty("bench.concurrency", "1,8,32").split(","))
            .mapToInt(s -> Integer.parseInt(s.trim()))
            .toArray();
    Path root = Fixtures.repoRoot();
    Path work = Files.createTempDirectory("graft-bench");
    Path store = Files.createDirectories(work.resolve("store"));
    Path modelFolder = Fixtures.copyExampleModel(store);
    float[] images = Fixtures.testImages("", IMAGES);

    Process host = startHost(root, work, store);
    Endpoints endpoints = awaitEndpoints(host);
    ExecutorService pool = Executors.newCachedThreadPool();
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress(
                endpoints.grpcHost, endpoints.grpcPort, InsecureChannelCredentials.create())
            .build();
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .executor(pool)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    ModelSettings settings = ModelSettings.readFolder(modelFolder);
    try (OrtModelRuntime direct =
        OrtModelRuntime.open(
            "mnist-vgg", ModelFile.read(modelFolder.resolve("mnist-vgg.onnx")), settings)) {
      Map<String, Call> calls = new java.util.LinkedHashMap<>();
      calls.put("direct ORT", directCall(direct, images));
      calls.put("REST JSON", jsonCall(http, endpoints.http, images));
      calls.put("REST binary", binaryCall(http, endpoints.http, images));
      calls.put("gRPC", grpcCall(channel, images));
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
          measure(calls.get(protocol), c, warmup, pool); // warm-up, discarded
          long[] latencies = measure(calls.get(protocol), c, seconds, pool);
          cells.add(cell(protocol, c, latencies, seconds));
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
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      pool.shutdownNow();
      host.destroy();
      if (!host.waitFor(20, TimeUnit.SECONDS)) {
        host.destroyForcibly();
      }
    }
  }

  private static Call directCall(OrtModelRuntime runtime, float[] images) {
    return i -> {
      float[] x = Arrays.copyOfRange(images, (i % IMAGES) * 784, (i % IMAGES + 1) * 784);
      runtime.infer(
          Map.of("input", new FloatTensor("input", new long[] {1, 1, 28, 28}, x)), Set.of());
    };
  }

  private static Call jsonCall(HttpClient http, URI base, float[] images) {
    List<byte[]> bodies = new ArrayList<>();
    for (int i = 0; i < IMAGES; i++) {
      StringBuilder data = new StringBuilder();
      for (int j = 0; j < 784; j++) {
        data.append(j == 0 ? "" : ",").append(images[i * 784 + j]);
      }
      bodies.add(
          ("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":["
                  + data
                  + "]}]}")
              .getBytes(StandardCharsets.UTF_8));
    }
    URI uri = base.resolve("/v2/models/mnist-vgg/infer");
    return i -> send(http, uri, bodies.get(i % IMAGES), "application/json", null);
  }

  private static Call binaryCall(HttpClient http, URI base, float[] images) {
    byte[] head =
        ("{\"parameters\":{\"binary_data_output\":true},\"inputs\":[{\"name\":\"input\","
                + "\"shape\":[1,1,28,28],\"datatype\":\"FP32\","
                + "\"parameters\":{\"binary_data_size\":3136}}]}")
            .getBytes(StandardCharsets.UTF_8);
    List<byte[]> bodies = new ArrayList<>();
    for (int i = 0; i < IMAGES; i++) {
      ByteBuffer b = ByteBuffer.allocate(head.length + 3136).order(ByteOrder.LITTLE_ENDIAN);
      b.put(head);
      b.asFloatBuffer().put(images, i * 784, 784);
      bodies.add(b.array());
    }
    URI uri = base.resolve("/v2/models/mnist-vgg/infer");
    String length = Integer.toString(head.length);
    return i -> send(http, uri, bodies.get(i % IMAGES), "application/octet-stream", length);
  }

  private static void send(HttpClient http, URI uri, byte[] body, String type, String length)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .header("Content-Type", type)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (length != null) {
      b.header("Inference-Header-Content-Length", length);
    }
    HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw new IllegalStateException(
          "HTTP " + r.statusCode() + ": " + new String(r.body(), StandardCharsets.UTF_8));
    }
  }

  private static Call grpcCall(ManagedChannel channel, float[] images) {
    List<ModelInferRequest> requests = new ArrayList<>();
    for (int i = 0; i < IMAGES; i++) {
      ByteBuffer raw = ByteBuffer.allocate(3136).order(ByteOrder.LITTLE_ENDIAN);
      raw.asFloatBuffer().put(images, i * 784, 784);
      requests.add(
          ModelInferRequest.newBuilder()
              .setModelName("mnist-vgg")
              .addInputs(
                  ModelInferRequest.InferInputTensor.newBuilder()
                      .setName("input")
                      .setDatatype("FP32")
                      .addAllShape(List.of(1L, 1L, 28L, 28L)))
              .addRawInputContents(ByteString.copyFrom(raw.array()))
              .build());
    }
    GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub =
        GRPCInferenceServiceGrpc.newBlockingStub(channel);
    return i -> stub.withDeadlineAfter(30, TimeUnit.SECONDS).modelInfer(requests.get(i % IMAGES));
  }

  /** Runs {@code call} from {@code threads} threads for {@code seconds}; all latencies in ns. */
  private static long[] measure(Call call, int threads, double seconds, ExecutorService pool)
      throws Exception {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    List<Future<long[]>> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int offset = t * 7;
      workers.add(
          pool.submit(
              () -> {
                long[] lat = new long[1024];
                int n = 0;
                while (System.nanoTime() < end) {
                  long start = System.nanoTime();
                  call.run(offset + n);
                  if (n == lat.length) {
                    lat = Arrays.copyOf(lat, n * 2);
                  }
                  lat[n++] = System.nanoTime() - start;
                }
                return Arrays.copyOf(lat, n);
              }));
    }
    List<long[]> parts = new ArrayList<>();
    for (Future<long[]> w : workers) {
      parts.add(w.get((long) seconds + 120, TimeUnit.SECONDS));
    }
    return parts.stream().flatMapToLong(Arrays::stream).sorted().toArray();
  }

  private static Cell cell(String protocol, int concurrency, long[] sorted, double seconds) {
    return new Cell(
        protocol,
        concurrency,
        sorted.length / seconds,
        percentile(sorted, 0.50) / 1e6,
        percentile(sorted, 0.99) / 1e6);
  }

  private static double percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int index = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(index, sorted.length - 1))];
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

  private record Endpoints(URI http, String grpcHost, int grpcPort) {}

  private static Process startHost(Path root, Path work, Path store) throws IOException {
    Path jar = root.resolve("host/target/graft-host.jar");
    Path plugins = root.resolve("plugins");
    if (!Files.isRegularFile(jar) || !Files.isRegularFile(plugins.resolve("graft-plugin.jar"))) {
      throw new IllegalStateException("build first: mvn -B -q install -DskipTests");
    }
    Path config = work.resolve("config.properties");
    Files.writeString(
        config,
        String.join(
            "\n",
            "inference_address=http://127.0.0.1:0",
            "grpc_address=127.0.0.1:0",
            "model_store=" + store.toString().replace("\\", "\\\\"),
            "load_models=ALL",
            "plugin_folder=" + plugins.toString().replace("\\", "\\\\"),
            ""));
    return new ProcessBuilder(
            "java", "-Xmx512m", "-jar", jar.toString(), "--config", config.toString())
        .redirectErrorStream(true)
        .start();
  }

  private static Endpoints awaitEndpoints(Process host) throws Exception {
    CompletableFuture<Endpoints> found = new CompletableFuture<>();
    Thread pump =
        new Thread(
            () -> {
              URI http = null;
              String grpcHost = null;
              int grpcPort = -1;
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(host.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                  Matcher h = HTTP_LINE.matcher(line);
                  Matcher g = GRPC_LINE.matcher(line);
                  if (h.find()) {
                    http = URI.create(h.group(1));
                  } else if (g.find()) {
                    grpcHost = g.group(1);
                    grpcPort = Integer.parseInt(g.group(2));
                  }
                  if (http != null && grpcPort >= 0 && !found.isDone()) {
                    found.complete(new Endpoints(http, grpcHost, grpcPort));
                  }
                }
              } catch (IOException e) {
                found.completeExceptionally(e);
              }
              found.completeExceptionally(new IllegalStateException("host exited"));
            },
            "host-output");
    pump.setDaemon(true);
    pump.start();
    try {
      return found.get(90, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      host.destroyForcibly();
      throw new IllegalStateException("the host did not print its addresses in 90 s", e);
    }
  }
}
