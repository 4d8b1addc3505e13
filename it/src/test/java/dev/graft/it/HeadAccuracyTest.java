package dev.graft.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.JsonObject;
import dev.graft.onnx.eval.Idx;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Issue 6's "done means" against the host process: starting from head-task0, post head-task1 then
 * head-task2 to {@code /models/{m}/heads/digits/classes} and, after each step, classify the test
 * images of the classes seen so far through {@code /v2/models/{m}/infer}. The accuracies must be
 * the fixture README's within half a point and γ within 1e-4, with Weight Aligning and without.
 */
class HeadAccuracyTest extends AbstractServerTest {
  private static final double HALF_A_POINT = 0.005;
  private static final int BATCH = 200;

  private final Idx.Images images = Vgg.images(null);
  private final int[] truth = Vgg.labels();

  @Override
  protected GraftServer.Builder serverBuilder(String name) {
    return GraftServer.builder(name)
        .exampleModel(Wa.MODEL)
        // one folder per model: models served from one folder share its graft.json (and head)
        .folder("wa-aligned", Fixtures.exampleModel(Wa.MODEL))
        .folder("wa-raw", Fixtures.exampleModel(Wa.MODEL))
        .loadModels(Wa.MODEL);
  }

  @Test
  void weightAligningReproducesTheReferenceAccuraciesAndGammas() {
    String model = register("wa-aligned");

    assertAccuracy(model, 0, 1, Wa.ACCURACY_WITH_WA, "WA");
    assertGamma(Wa.addClasses(client, model, 1, "wa"), Wa.GAMMA_1, "step 1, WA");
    assertAccuracy(model, 1, 2, Wa.ACCURACY_WITH_WA, "WA");
    assertGamma(Wa.addClasses(client, model, 2, "wa"), Wa.GAMMA_2, "step 2, WA");
    assertAccuracy(model, 2, 3, Wa.ACCURACY_WITH_WA, "WA");
  }

  @Test
  void withoutAlignmentTheReferenceAccuraciesOfTheRawHeads() {
    String model = register("wa-raw");

    JsonObject step1 = Wa.addClasses(client, model, 1, "none");
    assertThat(step1.get("applied").getAsBoolean()).as("align=none applies nothing").isFalse();
    assertGamma(step1, Wa.GAMMA_1, "step 1, measured only");
    assertAccuracy(model, 1, 2, Wa.ACCURACY_WITHOUT_WA, "no WA");
    assertGamma(Wa.addClasses(client, model, 2, "none"), Wa.GAMMA_2, "step 2, measured only");
    assertAccuracy(model, 2, 3, Wa.ACCURACY_WITHOUT_WA, "no WA");
  }

  private String register(String model) {
    Checks.assertOk(
        client.post("/models?url=" + model + "&model_name=" + model), "register " + model);
    return model;
  }

  private static void assertGamma(JsonObject step, double reference, String what) {
    double gamma = step.get("gamma").getAsDouble();
    System.out.printf(Locale.ROOT, "WA: γ %-24s %.5f (reference %.5f)%n", what, gamma, reference);
    assertThat(gamma).as("γ %s", what).isCloseTo(reference, within(1e-4));
  }

  private void assertAccuracy(
      String model, int step, int version, double[] reference, String mode) {
    double accuracy = accuracy(model, version);
    System.out.printf(
        Locale.ROOT,
        "WA: accuracy step %d, %-6s %.4f (reference %.4f)%n",
        step,
        mode,
        accuracy,
        reference[step]);
    assertThat(accuracy)
        .as("step %d, %s: accuracy over the classes seen so far", step, mode)
        .isCloseTo(reference[step], within(HALF_A_POINT));
  }

  /**
   * Top-1 accuracy over the test images of the head's classes through {@code /v2}; asserts that
   * every answer was computed by head version {@code version}.
   */
  private double accuracy(String model, int version) {
    List<String> labels = Wa.labels(client, model);
    int[] picked =
        IntStream.range(0, truth.length)
            .filter(i -> labels.contains(Integer.toString(truth[i])))
            .toArray();
    int correct = 0;
    for (int from = 0; from < picked.length; from += BATCH) {
      int n = Math.min(BATCH, picked.length - from);
      GraftClient.Inference r = client.infer(model, Batch.select(images, picked, from, n));
      assertThat(r.weights())
          .as("X-Graft-Weights of images %d..%d", from, from + n)
          .isEqualTo("base;head:digits@v" + version);
      assertThat(r.shape()).as("logits [N, C]").containsExactly(n, labels.size());
      for (int row = 0; row < n; row++) {
        if (labels.get(r.argmax(row)).equals(Integer.toString(truth[picked[from + row]]))) {
          correct++;
        }
      }
    }
    return (double) correct / picked.length;
  }
}
