package dev.graft.plugin.head.bench;

import dev.graft.onnx.head.AlignMode;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.plugin.GraftRequestHandler;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.head.ModelHead;
import dev.graft.plugin.testing.TestServer;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Prints how long adding classes to a live head takes next to reloading the backbone, over real
 * HTTP against the plugin's handler on a loopback port.
 *
 * <p>The model is a generated 78 MB feature extractor with a 768-wide {@code features} output (see
 * {@link FeatureBackbone}) and a head of 1,000 classes. Each measurement posts 1,000 new classes ×
 * 768 features ({@code POST /models/{m}/heads/{h}/classes}, WA on) as safetensors and as JSON, and
 * times the call and the call plus the first inference served by the new head version; the head is
 * rolled back (untimed) between repeats. The reload is {@code DELETE /models/{m}} then {@code POST
 * /models}, timed alone and with the first inference. Prints a Markdown table of medians.
 *
 * <p>System properties: {@code bench.classes} (1000), {@code bench.features} (768), {@code
 * bench.blocks} (4), {@code bench.repeats} (5).
 */
public final class AddClassesBench {
  private static final String MODEL = "bench";
  private static final String FOLDER = "bench-backbone";

  private final HttpClient client = HttpClient.newHttpClient();
  private final TestServer server;
  private final float[] image = new float[784];

  private AddClassesBench(TestServer server) {
    this.server = server;
    Arrays.fill(image, 0.5f);
  }

  public static void main(String[] args) throws Exception {
    int classes = Integer.getInteger("bench.classes", 1000);
    int width = Integer.getInteger("bench.features", 768);
    int blocks = Integer.getInteger("bench.blocks", 4);
    int repeats = Integer.getInteger("bench.repeats", 5);
    Path tmp = Files.createTempDirectory("graft-head-bench");
    try {
      Path store = Files.createDirectories(tmp.resolve("store"));
      long modelBytes = writeModel(store.resolve(FOLDER), width, blocks, classes);
      GraftConfig config =
          GraftConfig.of(
              Map.of(
                  "model_store",
                  store.toString(),
                  "load_models",
                  MODEL + "=" + FOLDER,
                  "graft.executor.threads",
                  "2"),
              tmp);
      try (GraftRequestHandler handler = new GraftRequestHandler(config);
          TestServer server = new TestServer(handler, 256 * 1024 * 1024)) {
        ClassifierHead rows = randomHead("n", classes, width, 7);
        byte[] safetensors = rows.toSafeTensors(Map.of());
        byte[] json = json(rows);
        AddClassesBench bench = new AddClassesBench(server);
        for (int w = 0; w < 3; w++) { // warm-up: JIT, connections, ONNX Runtime's first runs
          bench.addClasses(safetensors, "application/octet-stream");
          bench.addClasses(json, "application/json");
        }
        bench.reload();

        List<String> table = new ArrayList<>();
        table.add("| operation | median ms | min ms | max ms |");
        table.add("| --- | --- | --- | --- |");
        for (String[] body : new String[][] {{"safetensors"}, {"JSON"}}) {
          boolean st = body[0].equals("safetensors");
          long[] call = new long[repeats];
          long[] served = new long[repeats];
          for (int r = 0; r < repeats; r++) {
            long[] t =
                bench.addClasses(
                    st ? safetensors : json, st ? "application/octet-stream" : "application/json");
            call[r] = t[0];
            served[r] = t[1];
          }
          String size =
              String.format("%.1f MB %s", (st ? safetensors : json).length / 1e6, body[0]);
          table.add(row("add " + classes + " classes × " + width + " (" + size + "), call", call));
          table.add(row("  … until the first inference on the new head", served));
        }
        ModelHead head = handler.registry().get(MODEL).head().orElseThrow();
        long[] inProcess = new long[repeats];
        for (int r = 0; r < repeats; r++) {
          long t0 = System.nanoTime();
          head.addClasses(ClassifierHead.parse(safetensors, "bench"), AlignMode.WA);
          inProcess[r] = System.nanoTime() - t0;
          head.rollback();
        }
        table.add(row("  same, in process: parse safetensors + WA step + publish", inProcess));
        long[] reload = new long[repeats];
        long[] reloadServed = new long[repeats];
        for (int r = 0; r < repeats; r++) {
          long[] t = bench.reload();
          reload[r] = t[0];
          reloadServed[r] = t[1];
        }
        table.add(row("backbone reload (DELETE + POST /models)", reload));
        table.add(row("  … until the first inference", reloadServed));
        System.out.printf(
            "Backbone: %d blocks, features %d, %.1f MB; head %d classes; %d repeats; %d cores%n%n",
            blocks,
            width,
            modelBytes / 1e6,
            classes,
            repeats,
            Runtime.getRuntime().availableProcessors());
        table.forEach(System.out::println);
      }
    } finally {
      deleteTree(tmp);
    }
  }

  /** Adds the rows, waits for an inference on the new version, rolls back; times in ns. */
  private long[] addClasses(byte[] body, String type) throws Exception {
    String head = "/models/" + MODEL + "/heads/bench";
    long t0 = System.nanoTime();
    HttpResponse<String> r = post(head + "/classes", body, type);
    long t1 = System.nanoTime();
    check(r, "add classes");
    String tag = "head:bench@v" + versionOf(r.body());
    while (!inferWeights().endsWith(tag)) {
      Thread.onSpinWait();
    }
    long t2 = System.nanoTime();
    check(post(head + "/rollback", new byte[0], "text/plain"), "rollback");
    return new long[] {t1 - t0, t2 - t0};
  }

  /** Unregisters and registers the model again; times in ns. */
  private long[] reload() throws Exception {
    long t0 = System.nanoTime();
    check(send(HttpRequest.newBuilder(server.uri("/models/" + MODEL)).DELETE()), "unregister");
    check(
        post("/models?url=" + FOLDER + "&model_name=" + MODEL, new byte[0], "text/plain"), "load");
    long t1 = System.nanoTime();
    inferWeights();
    long t2 = System.nanoTime();
    return new long[] {t1 - t0, t2 - t0};
  }

  private String inferWeights() throws Exception {
    StringBuilder json =
        new StringBuilder(
            "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[");
    for (int i = 0; i < image.length; i++) {
      json.append(i == 0 ? "" : ",").append(image[i]);
    }
    json.append("]}],\"outputs\":[{\"name\":\"logits\"}]}");
    HttpResponse<String> r =
        post(
            "/v2/models/" + MODEL + "/infer",
            json.toString().getBytes(StandardCharsets.UTF_8),
            "application/json");
    check(r, "infer");
    return r.headers().firstValue("X-Graft-Weights").orElseThrow();
  }

  private static int versionOf(String addResponse) {
    int at = addResponse.indexOf("\"version\":");
    int end = addResponse.indexOf(',', at);
    return Integer.parseInt(addResponse.substring(at + "\"version\":".length(), end).trim());
  }

  private HttpResponse<String> post(String path, byte[] body, String type) throws Exception {
    return send(
        HttpRequest.newBuilder(server.uri(path))
            .header("Content-Type", type)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return client.send(
        b.version(HttpClient.Version.HTTP_1_1).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void check(HttpResponse<String> r, String what) {
    if (r.statusCode() != 200) {
      throw new IllegalStateException(what + ": " + r.statusCode() + " " + r.body());
    }
  }

  private static long writeModel(Path folder, int width, int blocks, int classes)
      throws IOException {
    Files.createDirectories(folder);
    byte[] onnx = FeatureBackbone.generate(width, blocks, 42);
    Files.write(folder.resolve("backbone.onnx"), onnx);
    Files.write(
        folder.resolve("head.safetensors"),
        randomHead("c", classes, width, 3).toSafeTensors(Map.of()));
    Files.writeString(
        folder.resolve("serving.properties"),
        String.join(
            "\n",
            "engine=OnnxRuntime",
            "graft.head.name=bench",
            "graft.head.features=features",
            "graft.head.init=head.safetensors",
            "option.intraOpNumThreads=1",
            "option.interOpNumThreads=1",
            ""));
    return onnx.length;
  }

  private static ClassifierHead randomHead(String prefix, int classes, int width, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[][] rows = new float[classes][width];
    List<String> labels = new ArrayList<>();
    for (int c = 0; c < classes; c++) {
      labels.add(prefix + c);
      for (int d = 0; d < width; d++) {
        rows[c][d] = (float) ((random.nextDouble() - 0.5) * 0.1);
      }
    }
    return ClassifierHead.ofRows(labels, rows, new float[classes]);
  }

  private static byte[] json(ClassifierHead h) {
    StringBuilder sb = new StringBuilder("{\"labels\":[");
    for (int c = 0; c < h.classes(); c++) {
      sb.append(c == 0 ? "\"" : ",\"").append(h.labels().get(c)).append('"');
    }
    sb.append("],\"weight\":[");
    for (int c = 0; c < h.classes(); c++) {
      float[] row = h.row(c);
      sb.append(c == 0 ? "[" : ",[");
      for (int d = 0; d < row.length; d++) {
        sb.append(d == 0 ? "" : ",").append(row[d]);
      }
      sb.append(']');
    }
    return sb.append("]}").toString().getBytes(StandardCharsets.UTF_8);
  }

  private static String row(String what, long[] nanos) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    return String.format(
        "| %s | %.1f | %.1f | %.1f |",
        what, sorted[sorted.length / 2] / 1e6, sorted[0] / 1e6, sorted[sorted.length - 1] / 1e6);
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
