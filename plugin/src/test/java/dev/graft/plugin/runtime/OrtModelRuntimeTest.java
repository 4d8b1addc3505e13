package dev.graft.plugin.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OrtModelRuntimeTest {
  @TempDir Path tmp;

  private final List<OrtModelRuntime> opened = new ArrayList<>();

  @AfterEach
  void closeAndCheckForLeaks() {
    for (OrtModelRuntime r : opened) {
      WeightState last = r.currentState();
      r.close();
      assertThat(last == null || last.isClosed())
          .as("closing %s with no inference in flight frees its session", r.name())
          .isTrue();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"NO_OPT", "BASIC_OPT", "EXTENDED_OPT", "LAYOUT_OPT", "ALL_OPT"})
  void patchedSessionEqualsOfflinePatchedModelExactly(String optLevel) throws Exception {
    ModelSettings settings = settings(optLevel);
    OrtModelRuntime live = open(Fixtures.vgg("clean"), settings);
    List<FloatTensor> patched = gaussianNoisePatch();
    live.swapWeights(new Weights("gaussian_noise@1.0", patched));

    Path offlineFile = tmp.resolve("offline.onnx");
    Fixtures.vggModel("clean").withTensors(patched).save(offlineFile);
    OrtModelRuntime offline = open(offlineFile, settings);

    FloatTensor x = batch();
    assertThat(logits(live, x))
        .as("online patch at %s must equal the offline-patched model bit for bit", optLevel)
        .containsExactly(logits(offline, x));
    assertThat(logits(live, x))
        .as("the patch must change the outputs at %s (override not ignored)", optLevel)
        .isNotEqualTo(logits(open(Fixtures.vgg("clean"), settings), x));
  }

  @Test
  void swappingBackToBaseRestoresBaseOutputsExactly() {
    OrtModelRuntime runtime = open(Fixtures.vgg("clean"), ModelSettings.defaults());
    FloatTensor x = batch();
    float[] base = logits(runtime, x);
    runtime.swapWeights(new Weights("gaussian_noise@1.0", gaussianNoisePatch()));
    assertThat(logits(runtime, x)).isNotEqualTo(base);

    runtime.swapWeights(Weights.base());

    assertThat(logits(runtime, x)).as("base weights again").containsExactly(base);
    assertThat(runtime.weightsLabel()).isEqualTo("base");
  }

  @Test
  void inferenceReportsTheLabelOfItsWeights() {
    OrtModelRuntime runtime = open(Fixtures.vgg("clean"), ModelSettings.defaults());
    runtime.swapWeights(new Weights("gaussian_noise@0.5", gaussianNoisePatch()));
    InferenceResult r = runtime.infer(Map.of("input", batch()), Set.of());
    assertThat(r.weights()).isEqualTo("gaussian_noise@0.5");
    assertThat(r.outputs())
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.name()).isEqualTo("logits");
              assertThat(t.dims()).containsExactly(3, 10);
            });
  }

  @Test
  void concurrentInferencesDuringSwapsNeverFailAndMatchTheirLabel() throws Exception {
    OrtModelRuntime runtime = open(Fixtures.vgg("clean"), ModelSettings.defaults());
    Weights patched = new Weights("gaussian_noise@1.0", gaussianNoisePatch());
    FloatTensor x = batch();
    float[] baseOut = logits(runtime, x);
    runtime.swapWeights(patched);
    float[] patchedOut = logits(runtime, x);
    Map<String, float[]> expected = Map.of("base", baseOut, patched.label(), patchedOut);

    int threads = 3;
    int perThread = 150;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<List<InferenceResult>>> futures = new ArrayList<>();
    CountDownLatch start = new CountDownLatch(1);
    for (int t = 0; t < threads; t++) {
      futures.add(
          pool.submit(
              () -> {
                start.await();
                List<InferenceResult> results = new ArrayList<>();
                for (int i = 0; i < perThread; i++) {
                  results.add(runtime.infer(Map.of("input", x), Set.of()));
                }
                return results;
              }));
    }
    start.countDown();
    for (int i = 0; i < 40; i++) {
      runtime.swapWeights(i % 2 == 0 ? Weights.base() : patched);
    }
    int checked = 0;
    for (Future<List<InferenceResult>> f : futures) {
      for (InferenceResult r : f.get()) {
        assertThat(r.outputs().get(0).data())
            .as("an inference labelled %s ran entirely on those weights", r.weights())
            .containsExactly(expected.get(r.weights()));
        checked++;
      }
    }
    pool.shutdown();
    assertThat(checked).isEqualTo(threads * perThread);
  }

  @Test
  void unknownOverrideNameIsRefusedAndWeightsStayAsTheyWere() {
    OrtModelRuntime runtime = open(Fixtures.vgg("clean"), ModelSettings.defaults());
    runtime.swapWeights(new Weights("gaussian_noise@1.0", gaussianNoisePatch()));
    WeightState before = runtime.currentState();
    float[] expected = logits(runtime, batch());
    FloatTensor bogus = new FloatTensor("convs.0.weightt", new long[] {1}, new float[] {1});

    assertThatThrownBy(() -> runtime.swapWeights(new Weights("x@1.0", List.of(bogus))))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.FAILED_PRECONDITION))
        .hasMessageContaining("no initializer named convs.0.weightt");

    assertThat(runtime.currentState()).as("the current state was not replaced").isSameAs(before);
    assertThat(logits(runtime, batch())).containsExactly(expected);
  }

  @Test
  void wrongShapeOverrideIsRefused() {
    OrtModelRuntime runtime = open(Fixtures.vgg("clean"), ModelSettings.defaults());
    WeightState before = runtime.currentState();
    FloatTensor wrong = new FloatTensor("fc.bias", new long[] {11}, new float[11]);

    assertThatThrownBy(() -> runtime.swapWeights(new Weights("x@1.0", List.of(wrong))))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("has shape [10], the replacement has [11]");
    assertThat(runtime.currentState()).isSameAs(before);
    assertThat(runtime.weightsLabel()).isEqualTo("base");
  }

  @Test
  void inputsAreValidatedBeforeOnnxRuntimeSeesThem() {
    OrtModelRuntime runtime = open(Fixtures.vgg("clean"), ModelSettings.defaults());
    FloatTensor wrongShape = new FloatTensor("input", new long[] {1, 28, 28}, new float[784]);
    FloatTensor unknown = new FloatTensor("image", new long[] {1, 1, 28, 28}, new float[784]);

    assertThatThrownBy(() -> runtime.infer(Map.of("input", wrongShape), Set.of()))
        .hasMessageContaining("input input has shape [1, 28, 28], the model takes [-1, 1, 28, 28]");
    assertThatThrownBy(() -> runtime.infer(Map.of("image", unknown), Set.of()))
        .hasMessageContaining("input input is missing");
    assertThatThrownBy(() -> runtime.infer(Map.of("input", batch()), Set.of("probabilities")))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.INVALID_ARGUMENT))
        .hasMessageContaining("no output named [probabilities]");
  }

  @Test
  void allOptRunsWithoutNchwcTransformerAndSaysSo() {
    OrtModelRuntime runtime = open(Fixtures.vgg("clean"), settings("ALL_OPT"));
    SessionSettings s = runtime.sessionSettings();
    assertThat(s.effectiveLevel()).isEqualTo("ALL_OPT without NchwcTransformer");
    assertThat(s.note()).contains("NchwcTransformer");
    assertThat(open(Fixtures.vgg("clean"), settings("EXTENDED_OPT")).sessionSettings().note())
        .isEmpty();
  }

  @Test
  void closedRuntimeAnswersUnavailable() {
    OrtModelRuntime runtime = open(Fixtures.vgg("clean"), ModelSettings.defaults());
    runtime.close();
    assertThatThrownBy(() -> runtime.infer(Map.of("input", batch()), Set.of()))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.UNAVAILABLE));
    assertThatThrownBy(() -> runtime.swapWeights(Weights.base()))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.UNAVAILABLE));
  }

  static ModelSettings settings(String optLevel) {
    return ModelSettings.parse(
        Map.of("option.optLevel", optLevel, "option.intraOpNumThreads", "1"), "test");
  }

  static List<FloatTensor> gaussianNoisePatch() {
    OnnxModel clean = Fixtures.vggModel("clean");
    return RwsPatch.apply(
        clean::floatTensor, List.of(new RwsPatch.Term(Fixtures.signature("gaussian_noise"), 1.0)));
  }

  /** Three real noisy test digits. */
  static FloatTensor batch() {
    return new FloatTensor(
        "input", new long[] {3, 1, 28, 28}, Fixtures.testImages("gaussian_noise", 3));
  }

  static float[] logits(ModelRuntime runtime, FloatTensor x) {
    return runtime.infer(Map.of("input", x), Set.of()).outputs().get(0).data();
  }

  private OrtModelRuntime open(Path file, ModelSettings settings) {
    assertThat(Files.isRegularFile(file)).as("fixture %s", file).isTrue();
    OrtModelRuntime r = OrtModelRuntime.open("vgg", ModelFile.read(file), settings);
    opened.add(r);
    return r;
  }
}
