package dev.graft.plugin.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SplitOrtModelRuntimeTest {
  @TempDir Path tmp;

  private final List<SplitOrtModelRuntime> opened = new ArrayList<>();

  @AfterEach
  void closeAndCheckForLeaks() {
    for (SplitOrtModelRuntime r : opened) {
      SplitState last = r.currentState();
      SharedBody body = last == null ? null : last.body();
      r.close();
      assertThat(last == null || last.isClosed())
          .as("closing %s with no inference in flight frees its current state", r.name())
          .isTrue();
      assertThat(body == null || body.isClosed()).as("and the shared body").isTrue();
      assertThat(Files.exists(r.weightFolder())).as("and deletes its weight files").isFalse();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"EXTENDED_OPT", "ALL_OPT"})
  void patchedStemEqualsTheOfflinePatchedWholeModelExactly(String optLevel) {
    SplitOrtModelRuntime split = open(Fixtures.vgg("clean"), settings(optLevel, "on"));
    split.swapWeights(new Weights("gaussian_noise@1.0", OrtModelRuntimeTest.gaussianNoisePatch()));

    Path offlineFile = tmp.resolve("offline.onnx");
    Fixtures.vggModel("clean")
        .withTensors(OrtModelRuntimeTest.gaussianNoisePatch())
        .save(offlineFile);
    try (OrtModelRuntime whole =
        OrtModelRuntime.open("offline", ModelFile.read(offlineFile), settings(optLevel, "off"))) {
      FloatTensor x = OrtModelRuntimeTest.batch();
      assertThat(split.currentState().isSplit()).as("served by a stem and the body").isTrue();
      assertThat(OrtModelRuntimeTest.logits(split, x))
          .as("stem + shared body at %s = whole offline-patched model, bit for bit", optLevel)
          .containsExactly(OrtModelRuntimeTest.logits(whole, x));
    }
  }

  @Test
  void patchedVitStemsEqualTheOfflinePatchedWholeModelExactly() {
    Path fixture = Fixtures.repoRoot().resolve("fixtures/ofq/ofq-vit-fp32.onnx");
    OnnxModel vit = OnnxModel.load(fixture);
    List<FloatTensor> patch = vitPatch(vit);
    SplitOrtModelRuntime split = open(fixture, settings("EXTENDED_OPT", "on"));
    split.swapWeights(new Weights("p", patch));
    Path offlineFile = tmp.resolve("vit-offline.onnx");
    vit.withTensors(patch).save(offlineFile);
    FloatTensor x = new FloatTensor("input", new long[] {4, 1, 28, 28}, Fixtures.testImages("", 4));

    try (OrtModelRuntime whole =
        OrtModelRuntime.open(
            "offline", ModelFile.read(offlineFile), settings("EXTENDED_OPT", "off"))) {
      assertThat(split.layout().stemLayers()).hasSize(5);
      assertThat(OrtModelRuntimeTest.logits(split, x))
          .as("MatMul layers in a stem over mapped weights = the whole model, bit for bit")
          .containsExactly(OrtModelRuntimeTest.logits(whole, x));
    }
  }

  @Test
  void leanVitStemsMatchTheWholeModelWithinFloatRounding() {
    Path fixture = Fixtures.repoRoot().resolve("fixtures/ofq/ofq-vit-fp32.onnx");
    OnnxModel vit = OnnxModel.load(fixture);
    List<FloatTensor> patch = vitPatch(vit);
    SplitOrtModelRuntime lean =
        open(fixture, settings("EXTENDED_OPT", "on", "option.graft.split.prepack", "false"));
    lean.swapWeights(new Weights("p", patch));
    Path offlineFile = tmp.resolve("vit-offline.onnx");
    vit.withTensors(patch).save(offlineFile);
    FloatTensor x = new FloatTensor("input", new long[] {4, 1, 28, 28}, Fixtures.testImages("", 4));

    try (OrtModelRuntime whole =
        OrtModelRuntime.open(
            "offline", ModelFile.read(offlineFile), settings("EXTENDED_OPT", "off"))) {
      float[] expected = OrtModelRuntimeTest.logits(whole, x);
      float[] actual = OrtModelRuntimeTest.logits(lean, x);
      for (int i = 0; i < expected.length; i++) {
        assertThat((double) actual[i])
            .as("logit %d of stems that read mapped, unpacked weights", i)
            .isCloseTo(expected[i], org.assertj.core.api.Assertions.within(1e-5));
      }
    }
  }

  @Test
  void everyStateSharesOneBodyAndAPatchBuildsOnlyAStem() {
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"), settings("EXTENDED_OPT", "on"));
    SplitState base = runtime.currentState();
    SharedBody body = base.body();

    runtime.swapWeights(
        new Weights("gaussian_noise@1.0", OrtModelRuntimeTest.gaussianNoisePatch()));

    SplitState patched = runtime.currentState();
    assertThat(patched).isNotSameAs(base);
    assertThat(patched.body()).as("the patched state runs the same body session").isSameAs(body);
    assertThat(base.isClosed()).as("the retired base stem is closed").isTrue();
    assertThat(body.isClosed()).as("the body lives on").isFalse();
    assertThat(patched.session().getNumInputs()).isEqualTo(1);
    assertThat(runtime.layout().cut()).containsExactly("/Relu_3_output_0");
    assertThat(runtime.layout().stemLayers())
        .containsExactly("convs.0", "convs.1", "convs.2", "convs.3");
  }

  @Test
  void layoutIsMeasuredAndReportedUnderAuto() {
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"), settings("EXTENDED_OPT", "auto"));
    SplitLayout layout = runtime.layout();

    assertThat(layout.stemBuildMs()).as("stem build time measured").isPositive();
    assertThat(layout.wholeBuildMs()).as("whole build time measured").isPositive();
    assertThat(layout.split())
        .as("the choice follows the measurement: %s", layout.reason())
        .isEqualTo(layout.stemBuildMs() <= 0.5 * layout.wholeBuildMs());
    assertThat(layout.reason()).startsWith("auto: a stem builds in");
    @SuppressWarnings("unchecked")
    Map<String, Object> reported = (Map<String, Object>) runtime.describe().get("layout");
    assertThat(reported)
        .containsEntry("mode", "auto")
        .containsEntry("split", layout.split())
        .containsKeys("cut", "stemBuildMs", "wholeBuildMs", "reason", "mappedBytes");
    assertThat(runtime.describe()).containsEntry("optimization", "EXTENDED_OPT");
  }

  @Test
  void offKeepsWholeSessionsOverMappedWeights() {
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"), settings("EXTENDED_OPT", "off"));

    assertThat(runtime.layout().split()).isFalse();
    assertThat(runtime.layout().reason()).isEqualTo("option.graft.split=off");
    assertThat(runtime.layout().mappedBytes())
        .as("conv weights of at least 4 KiB are mapped")
        .isGreaterThan(500_000);
    assertThat(runtime.currentState().isSplit()).isFalse();
    float[] base = OrtModelRuntimeTest.logits(runtime, OrtModelRuntimeTest.batch());
    runtime.swapWeights(
        new Weights("gaussian_noise@1.0", OrtModelRuntimeTest.gaussianNoisePatch()));
    assertThat(OrtModelRuntimeTest.logits(runtime, OrtModelRuntimeTest.batch()))
        .as("a mapped Conv weight replaced through addExternalInitializers takes effect")
        .isNotEqualTo(base);
  }

  @Test
  void patchReachingPastTheStemMovesTheCutOnceAndStaysExact() {
    SplitOrtModelRuntime runtime =
        open(
            Fixtures.vgg("clean"),
            settings("EXTENDED_OPT", "on", "option.graft.split.after", "convs.0"));
    SharedBody first = runtime.currentState().body();
    OnnxModel clean = Fixtures.vggModel("clean");
    List<FloatTensor> deeper = List.of(scaled(clean.floatTensor("convs.5.weight"), 0.9f));

    runtime.swapWeights(new Weights("deep", deeper));

    assertThat(runtime.currentState().body()).as("a new body").isNotSameAs(first);
    assertThat(first.isClosed()).as("the old body went with its last state").isTrue();
    assertThat(runtime.layout().replans()).isEqualTo(1);
    assertThat(runtime.layout().stemLayers()).contains("convs.0", "convs.5").doesNotContain("fc");
    assertThat(OrtModelRuntimeTest.logits(runtime, OrtModelRuntimeTest.batch()))
        .containsExactly(offline(clean.withTensors(deeper)));
  }

  @Test
  void patchOfTheClassifierGetsAWholeSessionAndStaysExact() {
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"), settings("EXTENDED_OPT", "on"));
    OnnxModel clean = Fixtures.vggModel("clean");
    List<FloatTensor> head = List.of(scaled(clean.floatTensor("fc.weight"), 1.5f));

    runtime.swapWeights(new Weights("head", head));

    assertThat(runtime.currentState().isSplit())
        .as("no cut follows the classifier: a whole session serves it")
        .isFalse();
    assertThat(OrtModelRuntimeTest.logits(runtime, OrtModelRuntimeTest.batch()))
        .containsExactly(offline(clean.withTensors(head)));
    runtime.swapWeights(Weights.base());
    assertThat(runtime.currentState().isSplit()).as("back on the shared body").isTrue();
  }

  @Test
  void variantsServeTheirOwnWeightsWhileTheCurrentWeightsStay() {
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"), settings("EXTENDED_OPT", "on"));
    FloatTensor x = OrtModelRuntimeTest.batch();
    float[] base = OrtModelRuntimeTest.logits(runtime, x);
    List<FloatTensor> patch = OrtModelRuntimeTest.gaussianNoisePatch();

    SplitOrtModelRuntime.Variant v = runtime.openVariant(new Weights("noise@1.0", patch));
    InferenceResult r = v.infer(Map.of("input", x), Set.of());
    assertThat(r.weights()).isEqualTo("noise@1.0");
    assertThat(r.outputs().get(0).data())
        .containsExactly(offline(Fixtures.vggModel("clean").withTensors(patch)));
    assertThat(v.isSplit()).isTrue();
    assertThat(OrtModelRuntimeTest.logits(runtime, x))
        .as("current unchanged")
        .containsExactly(base);

    v.close();
    v.close();
    assertThatThrownBy(() -> v.infer(Map.of("input", x), Set.of()))
        .as("a closed variant (closing twice is harmless)")
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.UNAVAILABLE));
  }

  @Test
  void exactStemsStayBitExactWhileTheirReplacementBuffersAreReused() {
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"), settings("EXTENDED_OPT", "on"));
    OnnxModel clean = Fixtures.vggModel("clean");
    List<FloatTensor> noise = OrtModelRuntimeTest.gaussianNoisePatch();
    List<FloatTensor> contrast =
        RwsPatch.apply(
            clean::floatTensor, List.of(new RwsPatch.Term(Fixtures.signature("contrast"), 0.5)));
    float[] noiseExpected = offline(clean.withTensors(noise));
    float[] contrastExpected = offline(clean.withTensors(contrast));

    try (SplitOrtModelRuntime.Variant pinned = runtime.openVariant(new Weights("pinned", noise))) {
      for (int i = 0; i < 6; i++) {
        // from the third swap on, a new stem's tensors reuse the buffers of the one before last
        boolean even = i % 2 == 0;
        runtime.swapWeights(new Weights("w" + i, even ? contrast : noise));
        assertThat(OrtModelRuntimeTest.logits(runtime, OrtModelRuntimeTest.batch()))
            .as("swap %d", i)
            .containsExactly(even ? contrastExpected : noiseExpected);
      }
      assertThat(pinned.infer(Map.of("input", OrtModelRuntimeTest.batch()), Set.of()).outputs())
          .first()
          .satisfies(
              t ->
                  assertThat(t.data())
                      .as("a variant still open keeps its own buffers")
                      .containsExactly(noiseExpected));
    }
  }

  @Test
  void typedRequestsRunOnPerRequestStemsAndCloseWithTheRuntime() {
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"), settings("EXTENDED_OPT", "on"));
    FloatTensor x = OrtModelRuntimeTest.batch();
    List<FloatTensor> patch = OrtModelRuntimeTest.gaussianNoisePatch();
    WeightVariant variant = runtime.openVariant(new Weights("noise@1.0", patch));

    TensorResult onVariant = runtime.run(List.of(Tensor.of(x)), Set.of(), variant);
    TensorResult onCurrent = runtime.run(List.of(Tensor.of(x)), Set.of(), null);

    assertThat(onVariant.weights()).isEqualTo("noise@1.0");
    assertThat(onVariant.outputs().get(0).toFloatTensor().data())
        .as("a per-request stem computes the offline-patched model")
        .containsExactly(offline(Fixtures.vggModel("clean").withTensors(patch)));
    assertThat(onCurrent.weights()).isEqualTo("base");
    assertThat(runtime.openVariants()).isEqualTo(1);
    try (WeightVariant pinned = runtime.acquireCurrent()) {
      assertThat(pinned.label()).isEqualTo("base");
    }

    runtime.close();
    assertThat(runtime.openVariants()).as("closing the runtime closes its variants").isZero();
    assertThat(variant.tryAcquire()).isFalse();
  }

  @Test
  void refusedOverrideLeavesTheStateAsItWas() {
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"), settings("EXTENDED_OPT", "on"));
    SplitState before = runtime.currentState();
    FloatTensor bogus = new FloatTensor("convs.0.weightt", new long[] {1}, new float[] {1});

    assertThatThrownBy(() -> runtime.swapWeights(new Weights("x@1.0", List.of(bogus))))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.FAILED_PRECONDITION))
        .hasMessageContaining("no initializer named convs.0.weightt");
    assertThat(runtime.currentState()).isSameAs(before);
  }

  @Test
  void splitOnIsRefusedForAModelThatCannotBeCut() {
    Map<String, String> raw = new HashMap<>();
    raw.put("option.graft.split", "on");
    raw.put("option.graft.split.cut", "logits");
    ModelSettings s = ModelSettings.parse(raw, "test");

    assertThatThrownBy(() -> open(Fixtures.vgg("clean"), s))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.INVALID_ARGUMENT))
        .hasMessageContaining("option.graft.split=on, but the model cannot be split")
        .hasMessageContaining("is a graph output");
    try (Stream<Path> left = Files.list(tmp.resolve("cache"))) {
      assertThat(left).as("a failed load leaves no weight files").isEmpty();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void closedRuntimeAnswersUnavailable() {
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"), settings("EXTENDED_OPT", "on"));
    runtime.close();
    assertThatThrownBy(() -> runtime.infer(Map.of("input", OrtModelRuntimeTest.batch()), Set.of()))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.UNAVAILABLE));
    assertThatThrownBy(() -> runtime.swapWeights(Weights.base()))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.UNAVAILABLE));
  }

  static ModelSettings settings(String optLevel, String split, String... more) {
    Map<String, String> raw = new HashMap<>();
    raw.put("option.optLevel", optLevel);
    raw.put("option.intraOpNumThreads", "1");
    raw.put("option.graft.split", split);
    for (int i = 0; i + 1 < more.length; i += 2) {
      raw.put(more[i], more[i + 1]);
    }
    return ModelSettings.parse(raw, "test");
  }

  /** The first four weight layers of a ViT, weights and biases rescaled. */
  private static List<FloatTensor> vitPatch(OnnxModel vit) {
    List<FloatTensor> patch = new ArrayList<>();
    for (WeightLayer l : vit.layers().subList(0, 4)) {
      patch.add(scaled(vit.floatTensor(l.weight()), 1.01f));
      patch.add(scaled(vit.floatTensor(l.bias()), 0.9f));
    }
    return patch;
  }

  private static FloatTensor scaled(FloatTensor t, float factor) {
    float[] d = t.data().clone();
    for (int i = 0; i < d.length; i++) {
      d[i] *= factor;
    }
    return new FloatTensor(t.name(), t.dims(), d);
  }

  /** Logits of a whole-model session of {@code model}, at the settings every test here uses. */
  private float[] offline(OnnxModel model) {
    Path file = tmp.resolve("offline-" + System.nanoTime() + ".onnx");
    model.save(file);
    try (OrtModelRuntime whole =
        OrtModelRuntime.open("offline", ModelFile.read(file), settings("EXTENDED_OPT", "off"))) {
      return OrtModelRuntimeTest.logits(whole, OrtModelRuntimeTest.batch());
    }
  }

  private SplitOrtModelRuntime open(Path file, ModelSettings settings) {
    SplitOrtModelRuntime r =
        SplitOrtModelRuntime.open("vgg", ModelFile.read(file), settings, tmp.resolve("cache"));
    opened.add(r);
    return r;
  }
}
