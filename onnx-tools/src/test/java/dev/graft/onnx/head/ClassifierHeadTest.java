package dev.graft.onnx.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.safetensors.SafeTensors;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClassifierHeadTest {

  private static ClassifierHead tiny() {
    return ClassifierHead.ofRows(
        List.of("cat", "dog"), new float[][] {{1, 2, 3}, {4, 5, 6}}, new float[] {0.5f, -1});
  }

  @Test
  void readsFixtureHeadWithLabelsAndShape() {
    ClassifierHead h = WaFixtures.head(1);

    assertThat(h.labels())
        .as("labels of head-task1 in row order")
        .containsExactly("0", "1", "2", "3", "4", "5", "6");
    assertThat(h.featureDim()).as("feature dimension of the WA backbone").isEqualTo(64);
    assertThat(h.bias()).as("the fixture heads have no bias term").containsOnly(0f);
  }

  @Test
  void rowNormsMatchTheReport() {
    double[] norms = WaFixtures.head(1).rowNorms();

    assertThat(norms[0])
        .as("norm of class 0 in wa-report.json")
        .isCloseTo(5.829982757568359, within(1e-5));
    assertThat(norms[6])
        .as("norm of class 6 in wa-report.json")
        .isCloseTo(8.381424903869629, within(1e-5));
  }

  @Test
  void logitsAreFeaturesTimesWeightTransposedPlusBias() {
    float[] logits = tiny().logits(new float[] {1, 0, 1, 0, 1, 0}, 2);

    assertThat(logits).as("[2 rows x 2 classes] row-major").containsExactly(4.5f, 9f, 2.5f, 4f);
  }

  @Test
  void safetensorsRoundTripKeepsEverythingAndAddsMetadata() {
    ClassifierHead h = tiny();
    byte[] bytes = h.toSafeTensors(Map.of("gamma", "0.5"));

    assertThat(ClassifierHead.parse(bytes, "mem")).as("round trip").isEqualTo(h);
    assertThat(SafeTensors.parse(bytes, "mem").metadata())
        .as("metadata written for the fixtures' readers")
        .containsEntry("classes", "cat,dog")
        .containsEntry("feature_dim", "3")
        .containsEntry("gamma", "0.5");
  }

  @Test
  void arraysHandedInOrOutCannotChangeTheHead() {
    float[] w = {1, 2};
    ClassifierHead h = ClassifierHead.of(List.of("a"), 2, w, new float[] {0});
    w[0] = 99;
    h.weight()[1] = 99;

    assertThat(h.row(0)).as("the head keeps its own copy").containsExactly(1f, 2f);
  }

  @Test
  void refusesDuplicateLabels() {
    assertThatThrownBy(
            () -> ClassifierHead.of(List.of("a", "a"), 1, new float[] {1, 2}, new float[2]))
        .as("a label names one row")
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("'a' appears twice");
  }

  @Test
  void refusesNonFiniteWeights() {
    assertThatThrownBy(
            () -> ClassifierHead.of(List.of("a", "b"), 1, new float[] {1, Float.NaN}, new float[2]))
        .as("NaN in the weight of class 1")
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("weight of class 1 is not finite");
    assertThatThrownBy(
            () ->
                ClassifierHead.of(
                    List.of("a"), 1, new float[] {1}, new float[] {Float.POSITIVE_INFINITY}))
        .as("infinite bias")
        .hasMessageContaining("bias of class 0 is not finite");
  }

  @Test
  void refusesCountMismatches() {
    assertThatThrownBy(() -> ClassifierHead.of(List.of("a", "b"), 2, new float[4], new float[3]))
        .as("3 biases for 2 labels")
        .hasMessageContaining("2 labels but 3 biases");
    assertThatThrownBy(() -> ClassifierHead.of(List.of("a", "b"), 2, new float[6], new float[2]))
        .as("6 weights for 2x2")
        .hasMessageContaining("need 4 weights, got 6");
    assertThatThrownBy(
            () ->
                ClassifierHead.ofRows(List.of("a", "b"), new float[][] {{1, 2}, {3}}, new float[2]))
        .as("ragged rows")
        .hasMessageContaining("rows must have equal length");
  }

  @Test
  void refusesEmptyHeadAndBadLabels() {
    assertThatThrownBy(() -> ClassifierHead.of(List.of(), 2, new float[0], new float[0]))
        .as("no class")
        .hasMessageContaining("no classes");
    assertThatThrownBy(() -> ClassifierHead.of(List.of("a,b"), 1, new float[1], new float[1]))
        .as("a comma would split the label in the safetensors metadata")
        .hasMessageContaining("without commas");
  }

  @Test
  void refusesSafetensorsWithoutLabelsOrWithAWrongFeatureDim() {
    FloatTensor w = new FloatTensor("weight", new long[] {1, 2}, new float[] {1, 2});
    FloatTensor b = new FloatTensor("bias", new long[] {1}, new float[] {0});
    byte[] noLabels = SafeTensors.write(List.of(w, b), Map.of());
    byte[] wrongDim = SafeTensors.write(List.of(w, b), Map.of("classes", "a", "feature_dim", "3"));
    byte[] noBias = SafeTensors.write(List.of(w), Map.of("classes", "a"));

    assertThatThrownBy(() -> ClassifierHead.parse(noLabels, "x.safetensors"))
        .as("labels are required")
        .hasMessageContaining("x.safetensors: metadata 'classes'");
    assertThatThrownBy(() -> ClassifierHead.parse(wrongDim, "x.safetensors"))
        .as("declared feature_dim must match the weight")
        .hasMessageContaining("feature_dim=3 but the weight has 2 columns");
    assertThatThrownBy(() -> ClassifierHead.parse(noBias, "x.safetensors"))
        .as("bias is required")
        .hasMessageContaining("'bias' is missing");
  }

  @Test
  void sliceAndAppendRebuildTheHead() {
    ClassifierHead h = WaFixtures.head(2);

    assertThat(h.slice(0, 7).append(h.slice(7, 10))).as("split and rejoin").isEqualTo(h);
    assertThatThrownBy(() -> h.append(h.slice(9, 10)))
        .as("appending a label the head has")
        .hasMessageContaining("'9' appears twice");
  }
}
