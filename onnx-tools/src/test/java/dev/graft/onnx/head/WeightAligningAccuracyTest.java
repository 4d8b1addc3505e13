package dev.graft.onnx.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.HeadEvaluation;
import dev.graft.onnx.eval.Idx;
import dev.graft.onnx.eval.OrtClassifier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reproduces the fixture README's accuracies: the WA backbone runs in ONNX Runtime, the heads in
 * Java, and each step goes through {@link IncrementalStep} from the previous step's head, as the
 * server does.
 */
class WeightAligningAccuracyTest {
  /** Half a percentage point, the tolerance of the issue. */
  private static final double TOLERANCE = 0.005;

  private static float[][] features;
  private static int[] labels;

  @BeforeAll
  static void computeFeatures() {
    Idx.Images images = Idx.readImages(WaFixtures.testImages());
    labels = Idx.readLabels(WaFixtures.testLabels());
    try (OrtClassifier backbone =
        new OrtClassifier(OnnxModel.load(WaFixtures.wa("wa-backbone.onnx")))) {
      features = backbone.logits(images, 500);
    }
  }

  private static double accuracy(ClassifierHead head) {
    return HeadEvaluation.of(features, labels, head, 0).accuracy();
  }

  private static ClassifierHead step(ClassifierHead current, int task, AlignMode mode) {
    return IncrementalStep.apply(current, WaFixtures.head(task), mode).head();
  }

  @Test
  void backboneProducesSixtyFourFeatures() {
    assertThat(features[0]).as("features [N,64] of wa-backbone.onnx").hasSize(64);
  }

  @Test
  void stepZeroAccuracy() {
    assertThat(accuracy(WaFixtures.head(0)))
        .as("head-task0 on the test images of classes 0-3")
        .isCloseTo(0.8950, within(TOLERANCE));
  }

  @Test
  void stepOneWithoutAlignment() {
    ClassifierHead raw = step(WaFixtures.head(0), 1, AlignMode.NONE);

    assertThat(accuracy(raw)).as("step 1, classes 0-6, no WA").isCloseTo(0.7429, within(TOLERANCE));
  }

  @Test
  void stepOneWithAlignment() {
    ClassifierHead wa = step(WaFixtures.head(0), 1, AlignMode.WA);

    assertThat(accuracy(wa)).as("step 1, classes 0-6, WA").isCloseTo(0.8164, within(TOLERANCE));
  }

  @Test
  void stepTwoWithoutAlignment() {
    ClassifierHead raw = step(step(WaFixtures.head(0), 1, AlignMode.NONE), 2, AlignMode.NONE);

    assertThat(accuracy(raw)).as("step 2, classes 0-9, no WA").isCloseTo(0.5815, within(TOLERANCE));
  }

  @Test
  void stepTwoWithAlignment() {
    ClassifierHead wa = step(step(WaFixtures.head(0), 1, AlignMode.WA), 2, AlignMode.WA);

    assertThat(accuracy(wa)).as("step 2, classes 0-9, WA").isCloseTo(0.7165, within(TOLERANCE));
  }

  @Test
  void alignmentShrinksThePredictedShareOfNewClasses() {
    HeadEvaluation raw = HeadEvaluation.of(features, labels, WaFixtures.head(1), 4);
    HeadEvaluation wa =
        HeadEvaluation.of(features, labels, step(WaFixtures.head(0), 1, AlignMode.WA), 4);

    assertThat(raw.predictedNewShare())
        .as("raw step 1 over-predicts new")
        .isCloseTo(0.629, within(TOLERANCE));
    assertThat(wa.predictedNewShare())
        .as("WA step 1 share of new")
        .isCloseTo(0.494, within(TOLERANCE));
    assertThat(wa.trueNewShare()).as("true share of new classes").isCloseTo(0.429, within(0.001));
  }
}
