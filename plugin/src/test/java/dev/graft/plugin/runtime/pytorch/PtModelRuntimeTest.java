package dev.graft.plugin.runtime.pytorch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.rws.ModelWeights;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.plugin.runtime.InferenceResult;
import dev.graft.plugin.runtime.TensorSpec;
import dev.graft.plugin.runtime.Weights;
import dev.graft.plugin.testing.Fixtures;
import dev.graft.plugin.testing.TorchFixtures;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PtModelRuntimeTest {
  private PtModelRuntime runtime;
  private ModelWeights base;

  @BeforeEach
  void open() {
    base = TorchFixtures.weights("clean");
    runtime = (PtModelRuntime) TorchFixtures.open("vgg-pt", "clean");
  }

  @AfterEach
  void close() {
    runtime.close();
  }

  static FloatTensor images(String corruption, int n) {
    return new FloatTensor("input", new long[] {n, 1, 28, 28}, Fixtures.testImages(corruption, n));
  }

  static float[] logits(PtModelRuntime r, FloatTensor x) {
    return r.infer(Map.of("input", x), Set.of()).outputs().get(0).data();
  }

  Weights patched(String corruption, double alpha) {
    List<RwsPatch.Term> terms = List.of(new RwsPatch.Term(Fixtures.signature(corruption), alpha));
    return new Weights(corruption + "@" + alpha, RwsPatch.apply(base::floatTensor, terms));
  }

  @Test
  void describesTheConfiguredInputAndTheMeasuredOutput() {
    assertThat(runtime.inputs())
        .containsExactly(new TensorSpec("input", "FP32", new long[] {-1, 1, 28, 28}));
    assertThat(runtime.outputs())
        .as("output shape measured by the warm-up run, batch size left free")
        .containsExactly(new TensorSpec("logits", "FP32", new long[] {-1, 10}));
  }

  @Test
  void attachWritesTheParametersAndDetachRestoresThemBitForBit() {
    FloatTensor x = images("gaussian_noise", 16);
    float[] before = logits(runtime, x);
    float[] conv0 = runtime.parameterValues("convs.0.weight");
    Weights noise = patched("gaussian_noise", 1.0);

    runtime.swapWeights(noise);

    assertThat(runtime.parameterValues("convs.0.weight"))
        .as("the live parameter holds base + delta as RwsPatch computed it")
        .containsExactly(noise.overrides().get(0).data());
    assertThat(logits(runtime, x)).as("patched outputs").isNotEqualTo(before);
    assertThat(runtime.weightsLabel()).isEqualTo("gaussian_noise@1.0");

    runtime.swapWeights(Weights.base());

    for (FloatTensor t : noise.overrides()) {
      assertThat(runtime.parameterValues(t.name()))
          .as("parameter %s after detach", t.name())
          .containsExactly(base.floatTensor(t.name()).data());
    }
    assertThat(runtime.parameterValues("convs.0.weight")).containsExactly(conv0);
    assertThat(logits(runtime, x)).as("outputs after detach").containsExactly(before);
    assertThat(runtime.weightsLabel()).isEqualTo("base");
  }

  @Test
  void swappingBetweenPatchesRestoresTensorsTheNewPatchNoLongerTouches() {
    Weights keep4 = patched("gaussian_noise", 1.0);
    Weights firstLayer =
        new Weights("conv0-only", List.of(keep4.overrides().get(0), keep4.overrides().get(1)));
    runtime.swapWeights(keep4);

    runtime.swapWeights(firstLayer);

    assertThat(runtime.parameterValues("convs.0.weight"))
        .containsExactly(keep4.overrides().get(0).data());
    assertThat(runtime.parameterValues("convs.3.weight"))
        .as("convs.3 is not in the new weights: back to base")
        .containsExactly(base.floatTensor("convs.3.weight").data());
  }

  @Test
  void refusedSwapLeavesWeightsAndLabelUnchanged() {
    runtime.swapWeights(patched("gaussian_blur", 0.5));
    float[] conv0 = runtime.parameterValues("convs.0.weight");
    FloatTensor wrongShape = new FloatTensor("convs.0.weight", new long[] {16, 9}, new float[144]);
    FloatTensor unknown = new FloatTensor("convs.9.weight", new long[] {1}, new float[1]);

    assertThatThrownBy(() -> runtime.swapWeights(new Weights("bad", List.of(wrongShape))))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.FAILED_PRECONDITION))
        .hasMessageContaining("convs.0.weight has shape [16, 1, 3, 3]");
    assertThatThrownBy(() -> runtime.swapWeights(new Weights("bad", List.of(unknown))))
        .hasMessageContaining("no parameter named convs.9.weight");

    assertThat(runtime.weightsLabel()).isEqualTo("gaussian_blur@0.5");
    assertThat(runtime.parameterValues("convs.0.weight")).containsExactly(conv0);
  }

  @Test
  void badInputsAreInvalidArguments() {
    FloatTensor wrong = new FloatTensor("input", new long[] {1, 1, 27, 28}, new float[27 * 28]);

    assertThatThrownBy(() -> runtime.infer(Map.of("input", wrong), Set.of()))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.INVALID_ARGUMENT))
        .hasMessageContaining("has shape [1, 1, 27, 28], the model takes [-1, 1, 28, 28]");
    assertThatThrownBy(() -> runtime.infer(Map.of(), Set.of()))
        .hasMessageContaining("input input is missing");
    assertThatThrownBy(() -> runtime.infer(Map.of("input", images("", 1)), Set.of("probs")))
        .hasMessageContaining("no output named [probs]");
  }

  @Test
  void inferencesAndSwapsLeaveNoNativeArraysBehind() {
    FloatTensor x = images("gaussian_noise", 8);
    Weights noise = patched("gaussian_noise", 1.0);
    logits(runtime, x);
    int before = runtime.liveArrays();
    assertThat(before)
        .as("arrays the model holds (its 18 parameters at least)")
        .isGreaterThanOrEqualTo(18);

    for (int i = 0; i < 10; i++) {
      runtime.swapWeights(i % 2 == 0 ? noise : Weights.base());
      logits(runtime, x);
    }

    assertThat(runtime.liveArrays())
        .as("native arrays of the model after 10 swaps and inferences (each closes its own)")
        .isEqualTo(before);
  }

  @Test
  void closedRuntimeRefusesWithUnavailable() {
    runtime.close();
    runtime.close();

    assertThatThrownBy(() -> logits(runtime, images("", 1)))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.UNAVAILABLE));
    assertThatThrownBy(() -> runtime.swapWeights(Weights.base()))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.UNAVAILABLE));
  }

  @Test
  void resultsCarryTheLabelOfTheWeightsTheyRanOn() {
    FloatTensor x = images("", 4);
    InferenceResult r = runtime.infer(Map.of("input", x), Set.of("logits"));

    assertThat(r.weights()).isEqualTo("base");
    assertThat(r.outputs()).extracting(FloatTensor::name).containsExactly("logits");
    assertThat(r.outputs().get(0).dims()).containsExactly(4, 10);
  }
}
