package dev.graft.plugin.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.graft.plugin.testing.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The "done means" over HTTP: starting from head-task0, post head-task1 then head-task2 to
 * {@code /models/{m}/heads/digits/classes}, and after each step classify the test images of the
 * classes seen so far through {@code /v2/models/{m}/infer}. Accuracy must match the fixture README
 * within half a point and γ within 1e-4, with and without Weight Aligning.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HeadAccuracyOverHttpTest {
  private static final double POINTS = 0.005;
  private static final int TEST_IMAGES = 2000;
  private static final int BATCH = 250;

  @TempDir static Path tmp;

  private HeadServer server;
  private float[] images;
  private int[] truth;

  @BeforeAll
  void start() throws Exception {
    server = HeadServer.start(tmp);
    images = Fixtures.testImages("", TEST_IMAGES);
    truth = Fixtures.testLabels(TEST_IMAGES);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  @Test
  void weightAligningReproducesTheReferenceAccuraciesAndGammas() throws Exception {
    server.register("wa-aligned");

    assertThat(report("step 0, classes 0-3", accuracy("wa-aligned", 1, 4), 0.8950))
        .as("step 0, classes 0-3")
        .isCloseTo(0.8950, within(POINTS));
    JsonObject step1 = addClasses("wa-aligned", 1, "wa");
    assertThat(report("γ step 1", step1.get("gamma").getAsDouble(), WaFixtures.GAMMA_1))
        .as("γ step 1")
        .isCloseTo(WaFixtures.GAMMA_1, within(1e-4));
    assertThat(report("step 1, classes 0-6, WA", accuracy("wa-aligned", 2, 7), 0.8164))
        .as("step 1 with WA")
        .isCloseTo(0.8164, within(POINTS));
    JsonObject step2 = addClasses("wa-aligned", 2, "wa");
    assertThat(report("γ step 2", step2.get("gamma").getAsDouble(), WaFixtures.GAMMA_2))
        .as("γ step 2")
        .isCloseTo(WaFixtures.GAMMA_2, within(1e-4));
    assertThat(report("step 2, classes 0-9, WA", accuracy("wa-aligned", 3, 10), 0.7165))
        .as("step 2 with WA")
        .isCloseTo(0.7165, within(POINTS));
  }

  @Test
  void withoutAlignmentTheNewClassesDrownTheOldOnes() throws Exception {
    server.register("wa-raw");

    JsonObject step1 = addClasses("wa-raw", 1, "none");
    assertThat(step1.get("gamma").getAsDouble())
        .as("γ is measured, not applied")
        .isCloseTo(WaFixtures.GAMMA_1, within(1e-4));
    assertThat(report("step 1, classes 0-6, no WA", accuracy("wa-raw", 2, 7), 0.7429))
        .as("step 1 without WA")
        .isCloseTo(0.7429, within(POINTS));
    JsonObject step2 = addClasses("wa-raw", 2, "none");
    assertThat(step2.get("gamma").getAsDouble())
        .as("γ step 2 (the file's rows, whatever the mode)")
        .isCloseTo(WaFixtures.GAMMA_2, within(1e-4));
    assertThat(report("step 2, classes 0-9, no WA", accuracy("wa-raw", 3, 10), 0.5815))
        .as("step 2 without WA")
        .isCloseTo(0.5815, within(POINTS));
  }

  /** Prints a measured figure next to its reference, so a run shows the numbers. */
  private static double report(String what, double measured, double reference) {
    System.out.printf("WA over HTTP: %-28s %.5f (reference %.5f)%n", what, measured, reference);
    return measured;
  }

  private JsonObject addClasses(String model, int task, String align) throws Exception {
    JsonObject r =
        server.postOk(
            "/models/" + model + "/heads/digits/classes?align=" + align,
            WaFixtures.headBytes(task),
            "application/octet-stream");
    assertThat(r.get("applied").getAsBoolean()).as("align=%s", align).isEqualTo(align.equals("wa"));
    return r;
  }

  /**
   * Top-1 accuracy over the test images of the head's classes, through the v2 endpoint, checking
   * that every response was computed by head version {@code version} with {@code classes} classes.
   */
  private double accuracy(String model, int version, int classes) throws Exception {
    JsonArray labelArray =
        server.getOk("/models/" + model + "/heads/digits").getAsJsonArray("labels");
    List<String> labels = new ArrayList<>();
    labelArray.forEach(e -> labels.add(e.getAsString()));
    assertThat(labels).as("labels of v%d", version).hasSize(classes);
    int[] picked =
        java.util.stream.IntStream.range(0, TEST_IMAGES)
            .filter(i -> labels.contains(Integer.toString(truth[i])))
            .toArray();
    float[] subset = new float[picked.length * 784];
    for (int k = 0; k < picked.length; k++) {
      System.arraycopy(images, picked[k] * 784, subset, k * 784, 784);
    }
    int correct = 0;
    for (int from = 0; from < picked.length; from += BATCH) {
      int n = Math.min(BATCH, picked.length - from);
      HeadServer.Inference r = server.infer(model, subset, from, n, "logits");
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      assertThat(r.weights()).isEqualTo("base;head:digits@v" + version);
      assertThat(r.shape()).as("[N, C]").containsExactly(n, classes);
      for (int row = 0; row < n; row++) {
        float[] logits = Arrays.copyOfRange(r.data(), row * classes, (row + 1) * classes);
        if (labels.get(argmax(logits)).equals(Integer.toString(truth[picked[from + row]]))) {
          correct++;
        }
      }
    }
    return (double) correct / picked.length;
  }

  private static int argmax(float[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }
}
