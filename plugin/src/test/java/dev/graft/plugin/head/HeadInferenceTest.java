package dev.graft.plugin.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.head.AlignMode;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.plugin.model.ModelLoader;
import dev.graft.plugin.model.ServedModel;
import dev.graft.plugin.runtime.InferenceResult;
import dev.graft.plugin.runtime.TensorSpec;
import dev.graft.plugin.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model with a head, on the real WA backbone in ONNX Runtime. */
class HeadInferenceTest {
  private static final int N = 3;

  @TempDir Path tmp;

  private ServedModel model;
  private ModelHead head;

  @BeforeEach
  void load() {
    model = new ModelLoader().load("mnist-wa", WaFixtures.exampleModelFolder(), "mnist-wa");
    head = model.head().orElseThrow();
  }

  @AfterEach
  void close() {
    model.close();
  }

  private static Map<String, FloatTensor> images() {
    return Map.of(
        "input", new FloatTensor("input", new long[] {N, 1, 28, 28}, Fixtures.testImages("", N)));
  }

  private float[] features() {
    return model.runtime().infer(images(), Set.of("features")).outputs().get(0).data();
  }

  @Test
  void theLogitsComeFirstAmongTheOutputs() {
    assertThat(model.outputs())
        .extracting(TensorSpec::name)
        .as("the head's logits, then the backbone's outputs")
        .containsExactly("logits", "features");
  }

  @Test
  void logitsAreTheHeadAppliedToTheBackboneFeatures() {
    InferenceResult r = model.infer(images(), Set.of("logits"));

    assertThat(r.outputs()).extracting(FloatTensor::name).containsExactly("logits");
    FloatTensor logits = r.outputs().get(0);
    assertThat(logits.dims()).as("[N, C] with the head's 4 classes").containsExactly(N, 4);
    assertThat(logits.data())
        .as("the head's own arithmetic on the backbone's features")
        .containsExactly(WaFixtures.head(0).logits(features(), N));
    assertThat(r.weights()).isEqualTo("base;head:digits@v1");
    assertThat(r.labels()).containsExactly("0", "1", "2", "3");
  }

  @Test
  void withoutRequestedOutputsEveryOutputIsReturned() {
    InferenceResult r = model.infer(images(), Set.of());

    assertThat(r.outputs()).extracting(FloatTensor::name).containsExactly("logits", "features");
  }

  @Test
  void onlyTheFeaturesCanBeAskedFor() {
    InferenceResult r = model.infer(images(), Set.of("features"));

    assertThat(r.outputs()).extracting(FloatTensor::name).containsExactly("features");
    assertThat(r.outputs().get(0).data()).containsExactly(features());
  }

  @Test
  void anUnknownOutputIsRefusedNamingTheRealOnes() {
    assertThatThrownBy(() -> model.infer(images(), Set.of("probabilities")))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("no output named [probabilities]")
        .hasMessageContaining("[logits, features]");
  }

  @Test
  void aNewHeadVersionIsUsedWithoutTouchingTheBackboneSession() {
    float[] features = features();

    head.addClasses(WaFixtures.head(1), AlignMode.WA);
    InferenceResult r = model.infer(images(), Set.of("logits"));

    assertThat(r.outputs().get(0).dims()).containsExactly(N, 7);
    assertThat(r.outputs().get(0).data())
        .as("v2 on the unchanged features")
        .containsExactly(head.current().classifier().logits(features, N));
    assertThat(r.weights()).isEqualTo("base;head:digits@v2");
    assertThat(model.runtime().weightsLabel())
        .as("the backbone's weights are untouched")
        .isEqualTo("base");
  }

  @Test
  void aFeatureOutputThatIsNotThereIsRefusedAtLoad() throws IOException {
    Path folder = WaFixtures.copyExampleModel(tmp, "wa");
    replaceInProperties(folder, "graft.head.features=features", "graft.head.features=embedding");

    assertThatThrownBy(() -> new ModelLoader().load("wa", folder, "wa"))
        .as("embedding is not an output of wa-backbone.onnx")
        .hasMessageContaining("graft.head.features=embedding is not an output of the backbone");
  }

  @Test
  void aHeadOfAnotherWidthIsRefusedAtLoad() throws IOException {
    Path folder = WaFixtures.copyExampleModel(tmp, "wa");
    ClassifierHead narrow =
        ClassifierHead.ofRows(List.of("a"), new float[][] {{1f, 2f, 3f}}, new float[1]);
    Files.write(folder.resolve("head-task0.safetensors"), narrow.toSafeTensors(Map.of()));

    assertThatThrownBy(() -> new ModelLoader().load("wa", folder, "wa"))
        .as("3 weights per row for 64 features")
        .hasMessageContaining("but head digits takes [N, 3]");
  }

  @Test
  void aLogitsNameTakenByTheBackboneIsRefusedAtLoad() throws IOException {
    Path folder = WaFixtures.copyExampleModel(tmp, "wa");
    replaceInProperties(folder, "graft.head.output=logits", "graft.head.output=features");

    assertThatThrownBy(() -> new ModelLoader().load("wa", folder, "wa"))
        .hasMessageContaining("already has an output named features");
  }

  @Test
  void aMissingInitialHeadIsRefusedAtLoad() throws IOException {
    Path folder = WaFixtures.copyExampleModel(tmp, "wa");
    Files.delete(folder.resolve("head-task0.safetensors"));

    assertThatThrownBy(() -> new ModelLoader().load("wa", folder, "wa"))
        .hasMessageContaining("graft.head.init=head-task0.safetensors is not a file");
  }

  private static void replaceInProperties(Path folder, String from, String to) throws IOException {
    Path p = folder.resolve("serving.properties");
    String text = Files.readString(p);
    assertThat(text).as("the example declares %s", from).contains(from);
    Files.writeString(p, text.replace(from, to));
  }
}
