package dev.graft.plugin.head;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.onnx.head.AlignMode;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.onnx.head.IncrementalStep;
import dev.graft.plugin.testing.Fixtures;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inference keeps running while a head changes: classes are added and rolled back over HTTP while
 * other clients call {@code /v2/models/{m}/infer} and {@code /predictions/{m}}. No request may
 * fail, and every response must be computed by exactly the head version its {@code X-Graft-Weights}
 * names: as many logit columns as that version has classes, and exactly that version's logits.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HeadSwapUnderLoadTest {
  private static final String MODEL = "wa-load";
  private static final int BATCH = 8;
  private static final int ROUNDS = 8;
  private static final Pattern TAG = Pattern.compile("base;head:digits@v(\\d+)");

  @TempDir static Path tmp;

  private HeadServer server;

  @BeforeAll
  void start() throws Exception {
    server = HeadServer.start(tmp);
    server.register(MODEL);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  /** What a v2 reader saw: the version in the header and the classes in the body. */
  private record Seen(int version, int classes) {}

  /** What a predictions reader saw: the version in the header and the top-k labels. */
  private record Predicted(int version, List<String> top) {}

  @Test
  void inferenceWhileClassesAreAddedNeverFailsAndNeverMixesVersions() throws Exception {
    float[] images = Fixtures.testImages("", BATCH);
    Map<Integer, float[]> expected = expectedLogitsByClassCount(images);
    Map<Integer, Integer> classesOfVersion = new ConcurrentHashMap<>(Map.of(1, 4));
    ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Predicted> predicted = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    AtomicBoolean done = new AtomicBoolean();
    byte[] png = png(Fixtures.testImageBytes(0));

    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<Integer>> readers = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        readers.add(
            pool.submit(
                () -> {
                  int n = 0;
                  while (!done.get() || n == 0) {
                    check(
                        server.infer(MODEL, images, 0, BATCH, "logits"), expected, seen, failures);
                    n++;
                  }
                  return n;
                }));
      }
      readers.add(
          pool.submit(
              () -> {
                int n = 0;
                while (!done.get() || n == 0) {
                  predicted(
                      server.post("/predictions/" + MODEL, png, "image/png"), predicted, failures);
                  n++;
                }
                return n;
              }));
      try {
        for (int round = 0; round < ROUNDS; round++) {
          for (int task = 1; task <= 2; task++) {
            JsonObject v = add(task);
            classesOfVersion.put(v.get("version").getAsInt(), v.get("classes").getAsInt());
          }
          for (int back = 0; back < 2; back++) {
            server.postOk("/models/" + MODEL + "/heads/digits/rollback", new byte[0], "text/plain");
          }
        }
      } finally {
        done.set(true);
      }
      int requests = 0;
      for (Future<Integer> r : readers) {
        requests += r.get(120, TimeUnit.SECONDS);
      }

      System.out.printf(
          "WA under load: %d inference requests during %d head changes, %d failed or mixed%n",
          requests, ROUNDS * 4, failures.size());
      assertThat(failures).as("failed or mixed responses out of %d", requests).isEmpty();
      assertThat(seen)
          .as("every header's version has the class count that version was created with")
          .allSatisfy(
              s ->
                  assertThat(s.classes())
                      .as("classes of v%d", s.version())
                      .isEqualTo(classesOfVersion.get(s.version())));
      assertThat(predicted)
          .as("/predictions answered with the top-5 labels of the version in its header")
          .allSatisfy(
              p ->
                  assertThat(p.top())
                      .as("v%d", p.version())
                      .isEqualTo(topLabels(expected.get(classesOfVersion.get(p.version())))));
      assertThat(seen.stream().map(Seen::classes).distinct().count())
          .as(
              "the readers overlapped head changes (saw 4, 7 and 10 classes) in %d requests",
              requests)
          .isEqualTo(3);
    } finally {
      pool.shutdownNow();
    }
  }

  private JsonObject add(int task) throws Exception {
    return server.postOk(
        "/models/" + MODEL + "/heads/digits/classes",
        WaFixtures.headBytes(task),
        "application/octet-stream");
  }

  /** The logits each head state gives this batch: the server's own features, the offline steps. */
  private Map<Integer, float[]> expectedLogitsByClassCount(float[] images) throws Exception {
    HeadServer.Inference features = server.infer(MODEL, images, 0, BATCH, "features");
    assertThat(features.shape()).containsExactly(BATCH, 64);
    ClassifierHead v1 = WaFixtures.head(0);
    ClassifierHead v2 = IncrementalStep.apply(v1, WaFixtures.head(1), AlignMode.WA).head();
    ClassifierHead v3 = IncrementalStep.apply(v2, WaFixtures.head(2), AlignMode.WA).head();
    return Map.of(
        4, v1.logits(features.data(), BATCH),
        7, v2.logits(features.data(), BATCH),
        10, v3.logits(features.data(), BATCH));
  }

  private static void check(
      HeadServer.Inference r,
      Map<Integer, float[]> expected,
      ConcurrentLinkedQueue<Seen> seen,
      ConcurrentLinkedQueue<String> failures) {
    Matcher m = r.weights() == null ? null : TAG.matcher(r.weights());
    if (r.status() != 200 || m == null || !m.matches()) {
      failures.add("status " + r.status() + ", weights " + r.weights() + ": " + r.body());
      return;
    }
    int classes = r.shape().length == 2 ? (int) r.shape()[1] : -1;
    float[] want = expected.get(classes);
    if (r.shape()[0] != BATCH || want == null || r.data().length != BATCH * classes) {
      failures.add(r.weights() + ": shape " + Arrays.toString(r.shape()));
    } else if (!Arrays.equals(r.data(), want)) {
      failures.add(r.weights() + ": logits of no single head version with " + classes + " classes");
    }
    seen.add(new Seen(Integer.parseInt(m.group(1)), classes));
  }

  private static void predicted(
      HttpResponse<String> r,
      ConcurrentLinkedQueue<Predicted> predicted,
      ConcurrentLinkedQueue<String> failures) {
    String weights = r.headers().firstValue("X-Graft-Weights").orElse("");
    Matcher m = TAG.matcher(weights);
    if (r.statusCode() != 200 || !m.matches()) {
      failures.add(
          "predictions: status " + r.statusCode() + ", weights " + weights + ": " + r.body());
      return;
    }
    List<String> top = new ArrayList<>();
    for (JsonElement e : JsonParser.parseString(r.body()).getAsJsonArray()) {
      top.add(e.getAsJsonObject().get("className").getAsString());
    }
    predicted.add(new Predicted(Integer.parseInt(m.group(1)), top));
  }

  /** The top-5 labels of the first image's row of logits (the heads' labels are "0".."C-1"). */
  private static List<String> topLabels(float[] batchLogits) {
    int classes = batchLogits.length / BATCH;
    List<Integer> order = new ArrayList<>();
    for (int c = 0; c < classes; c++) {
      order.add(c);
    }
    order.sort((a, b) -> Float.compare(batchLogits[b], batchLogits[a]));
    return order.subList(0, Math.min(5, classes)).stream().map(String::valueOf).toList();
  }

  private static byte[] png(byte[] pixels) throws Exception {
    BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    img.getRaster().setDataElements(0, 0, 28, 28, pixels);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }
}
