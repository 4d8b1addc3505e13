package dev.graft.it.bench;

import dev.graft.it.Batch;
import dev.graft.it.Checks;
import dev.graft.it.Fixtures;
import dev.graft.it.GraftClient;
import dev.graft.it.GraftServer;
import dev.graft.it.Poll;
import dev.graft.onnx.head.AlignMode;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.onnx.head.IncrementalStep;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * How long adding classes to a live head takes, next to reloading the backbone, over HTTP against
 * the host started as a separate process (as the end-to-end tests do).
 *
 * <p>The model is a generated 78 MB feature extractor with a 768-wide {@code features} output (see
 * {@link FeatureBackboneGenerator}) and a head of 1,000 classes. <b>add</b> = from sending {@code
 * POST /models/{m}/heads/{h}/classes} with 1,000 new classes × 768 features (Weight Aligning on),
 * as safetensors or as JSON, to the answer ("call") and to the first {@code /v2} response whose
 * {@code X-Graft-Weights} names the new head version; the head is rolled back, untimed, between
 * repeats. <b>reload</b> = from sending {@code DELETE /models/{m}} to the first successful response
 * after {@code POST /models} registered it again. Also timed in this JVM: parsing the safetensors
 * rows and the Weight Aligning step (onnx-tools, the code the server runs). Each measurement is
 * repeated {@code -Dbench.repeats} times (default 5) after warm-ups; the table shows medians.
 *
 * <p>{@code -Dbench.classes} (1000), {@code -Dbench.features} (768), {@code -Dbench.blocks} (4).
 * Run from the repository root after a build that produced the host and plugin jars:
 *
 * <pre>
 * mvn -B -q install -DskipTests
 * mvn -B -q -pl it test-compile exec:java -Dexec.mainClass=dev.graft.it.bench.HeadAddClassesBench
 * </pre>
 */
public final class HeadAddClassesBench {
  private static final String MODEL = "bench";
  private static final String FOLDER = "bench-backbone";
  private static final String HEAD = "/models/" + MODEL + "/heads/bench";
  private static final Duration FIRST_RESPONSE_TIMEOUT = Duration.ofSeconds(120);

  private final GraftClient client;
  private final Batch input;

  private HeadAddClassesBench(GraftClient client) {
    this.client = client;
    float[] pixels = new float[784];
    Arrays.fill(pixels, 0.5f);
    this.input = new Batch(pixels, new long[] {1, 1, 28, 28});
  }

  public static void main(String[] args) {
    int classes = Integer.getInteger("bench.classes", 1000);
    int width = Integer.getInteger("bench.features", 768);
    int blocks = Integer.getInteger("bench.blocks", 4);
    int repeats = Integer.getInteger("bench.repeats", 5);
    Path work = Fixtures.scratch("bench-");
    try {
      System.err.println("generating the backbone and the heads...");
      Path folder = work.resolve(FOLDER);
      long modelBytes = writeModel(folder, width, blocks, classes);
      ClassifierHead rows = randomHead("n", classes, width, 7);
      byte[] safetensors = rows.toSafeTensors(Map.of());
      byte[] json = json(rows);

      System.err.println("starting the host...");
      List<String> table = new ArrayList<>();
      try (GraftServer server =
          GraftServer.builder("HeadAddClassesBench")
              .folder(FOLDER, folder)
              .jvmOption("-Xmx1g")
              .loadModels(MODEL + "=" + FOLDER)
              .start()) {
        HeadAddClassesBench bench = new HeadAddClassesBench(server.client());
        for (int w = 0; w < 3; w++) { // warm-up: JIT on both sides, connections, first runs
          bench.add(safetensors, "application/octet-stream");
          bench.add(json, "application/json");
          localStep(safetensors, classes, width);
        }
        System.err.println("measuring x" + repeats + "...");
        double[][] st =
            bench.repeat(repeats, () -> bench.add(safetensors, "application/octet-stream"));
        double[][] js = bench.repeat(repeats, () -> bench.add(json, "application/json"));
        double[][] reload = bench.repeat(repeats, bench::reload);
        double[][] local = bench.repeat(repeats, () -> localStep(safetensors, classes, width));
        String add = String.format(Locale.ROOT, "add %,d classes × %d", classes, width);
        table.add(row(add + ", safetensors body " + mb(safetensors), st));
        table.add(row(add + ", JSON body " + mb(json), js));
        table.add(
            String.format(
                Locale.ROOT,
                "| same, in one JVM: parse the safetensors rows + WA step | %.1f | — | — |",
                median(local[0])));
        table.add(row("backbone reload: DELETE + POST /models", reload));
      }
      System.out.printf(
          Locale.ROOT,
          "Add classes vs backbone reload, median of %d (ms), host + plugin over HTTP on %d cores%n"
              + "backbone: %,d parameters (%.1f MB), features %d; head: %,d classes%n%n",
          repeats,
          Runtime.getRuntime().availableProcessors(),
          FeatureBackboneGenerator.parameters(width, blocks),
          modelBytes / 1e6,
          width,
          classes);
      System.out.println(
          "| operation | call | → first response on the new weights | all runs, → first response"
              + " |");
      System.out.println("| --- | ---: | ---: | --- |");
      table.forEach(System.out::println);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      Fixtures.deleteTree(work);
    }
  }

  /** One timed operation: the call and the first response after it, in ns. */
  private interface Timed {
    long[] run();
  }

  private double[][] repeat(int repeats, Timed op) {
    double[][] ms = new double[2][repeats];
    for (int i = 0; i < repeats; i++) {
      long[] t = op.run();
      ms[0][i] = t[0] / 1e6;
      ms[1][i] = t[1] / 1e6;
    }
    return ms;
  }

  /** Adds the rows, waits for a response on the new version, rolls back (untimed). */
  private long[] add(byte[] body, String type) {
    long t0 = System.nanoTime();
    GraftClient.Response r = client.post(HEAD + "/classes", type, body);
    long t1 = System.nanoTime();
    String tag = "head:bench@v" + Checks.assertOk(r, "add").jsonObject().get("version").getAsInt();
    firstResponse(tag);
    long t2 = System.nanoTime();
    Checks.assertOk(client.post(HEAD + "/rollback"), "rollback");
    return new long[] {t1 - t0, t2 - t0};
  }

  private long[] reload() {
    long t0 = System.nanoTime();
    Checks.assertOk(client.delete("/models/" + MODEL), "unregister");
    Checks.assertOk(client.post("/models?url=" + FOLDER + "&model_name=" + MODEL), "register");
    long t1 = System.nanoTime();
    firstResponse("head:bench@v1");
    long t2 = System.nanoTime();
    return new long[] {t1 - t0, t2 - t0};
  }

  /** What the server does with a safetensors body, in this JVM: parse, then the WA step. */
  private static long[] localStep(byte[] safetensors, int classes, int width) {
    ClassifierHead current = randomHead("c", classes, width, 3);
    long t0 = System.nanoTime();
    IncrementalStep.apply(current, ClassifierHead.parse(safetensors, "bench"), AlignMode.WA);
    return new long[] {System.nanoTime() - t0, 0};
  }

  /** Polls inference until a 200 response whose weights end with {@code tag}. */
  private void firstResponse(String tag) {
    Poll.until(
        MODEL + " serving " + tag,
        FIRST_RESPONSE_TIMEOUT,
        () -> {
          GraftClient.Response r = client.inferRaw(MODEL, input);
          return r.status() == 200 && r.weights() != null && r.weights().endsWith(tag) ? r : null;
        });
  }

  private static long writeModel(Path folder, int width, int blocks, int classes)
      throws IOException {
    Files.createDirectories(folder);
    byte[] onnx = FeatureBackboneGenerator.generate(width, blocks, 42);
    Files.write(folder.resolve(FOLDER + ".onnx"), onnx);
    Files.write(
        folder.resolve("head.safetensors"),
        randomHead("c", classes, width, 3).toSafeTensors(Map.of()));
    Files.writeString(
        folder.resolve("serving.properties"),
        String.join(
            "\n",
            "# generated by HeadAddClassesBench: a 768-feature backbone with random weights",
            "engine=OnnxRuntime",
            "graft.head.name=bench",
            "graft.head.features=features",
            "graft.head.init=head.safetensors",
            "option.intraOpNumThreads=2",
            "option.interOpNumThreads=1",
            "option.optLevel=EXTENDED_OPT",
            ""),
        StandardCharsets.UTF_8);
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

  private static String mb(byte[] bytes) {
    return String.format(Locale.ROOT, "(%.1f MB)", bytes.length / 1e6);
  }

  private static String row(String what, double[][] ms) {
    return String.format(
        Locale.ROOT,
        "| %s | %.1f | %.1f | %s |",
        what,
        median(ms[0]),
        median(ms[1]),
        Arrays.toString(Arrays.stream(ms[1]).map(v -> Math.round(v)).toArray()));
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }
}
