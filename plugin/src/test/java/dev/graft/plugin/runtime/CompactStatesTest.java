package dev.graft.plugin.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.onnx.rws.RwsSignature;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code option.graft.split.compact=true}: weight states as byte deltas on a shared delta stem. */
class CompactStatesTest {
  private static final Path VIT = Fixtures.repoRoot().resolve("fixtures/ofq/ofq-vit-fp32.onnx");

  @TempDir Path tmp;

  private final List<SplitOrtModelRuntime> opened = new ArrayList<>();

  @AfterEach
  void closeAndCheckForLeaks() {
    for (SplitOrtModelRuntime r : opened) {
      SharedBody body = r.currentState().body();
      r.close();
      assertThat(body.isClosed()).as("closing %s frees the body and its delta stems", r).isTrue();
      assertThat(Files.exists(r.weightFolder())).as("and deletes its weight files").isFalse();
    }
  }

  @Test
  void compactVggVariantMatchesTheOfflinePatchedModelWithinFloatRounding() {
    List<FloatTensor> patch = OrtModelRuntimeTest.gaussianNoisePatch();
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"));

    try (SplitOrtModelRuntime.Variant v = runtime.openVariant(new Weights("noise", patch))) {
      assertThat(v.isCompact()).as("an RWS patch of one signature encodes as bytes").isTrue();
      assertClose(
          v.infer(Map.of("input", OrtModelRuntimeTest.batch()), java.util.Set.of())
              .outputs()
              .get(0)
              .data(),
          offline(Fixtures.vggModel("clean").withTensors(patch), OrtModelRuntimeTest.batch()));
    }
  }

  @Test
  void compactVitStatesMatchTheOfflinePatchedModelWithinFloatRounding() {
    OnnxModel vit = OnnxModel.load(VIT);
    List<FloatTensor> patch = rwsShapedPatch(vit, 0.75);
    SplitOrtModelRuntime runtime = open(VIT);
    runtime.swapWeights(new Weights("p", patch));
    FloatTensor x = new FloatTensor("input", new long[] {4, 1, 28, 28}, Fixtures.testImages("", 4));

    assertThat(runtime.currentState().isCompact())
        .as("swapped-in weights are compact too")
        .isTrue();
    assertClose(OrtModelRuntimeTest.logits(runtime, x), offline(vit.withTensors(patch), x));
  }

  @Test
  void variantsOfOneTensorSetShareOneDeltaStemAndHoldAByteAWeight() {
    OnnxModel vit = OnnxModel.load(VIT);
    SplitOrtModelRuntime runtime = open(VIT);
    long before = runtime.weightBytes();
    List<FloatTensor> patch = rwsShapedPatch(vit, 0.5);
    long elements = patch.stream().mapToLong(t -> t.data().length).sum();

    try (SplitOrtModelRuntime.Variant a = runtime.openVariant(new Weights("a", patch));
        SplitOrtModelRuntime.Variant b =
            runtime.openVariant(new Weights("b", rwsShapedPatch(vit, 1.5)))) {
      assertThat(a.isCompact() && b.isCompact()).isTrue();
      long perVariant = (runtime.weightBytes() - before) / 2;
      assertThat(perVariant)
          .as("one byte per weight plus tables of at most 256 floats per tensor")
          .isBetween(elements, elements + patch.size() * 256L * 4);
      assertThat(stateOf(runtime, a).session())
          .as("one delta stem session serves both")
          .isSameAs(stateOf(runtime, b).session());
    }
  }

  @Test
  void weightsThatAreNotAPatchOfFewLevelsGetAnExactStemOfTheirOwn() {
    OnnxModel vit = OnnxModel.load(VIT);
    List<FloatTensor> patch = new ArrayList<>();
    for (WeightLayer l : vit.layers().subList(0, 2)) {
      FloatTensor w = vit.floatTensor(l.weight());
      float[] d = w.data().clone();
      for (int i = 0; i < d.length; i++) {
        d[i] *= 1.01f; // a different delta for nearly every weight
      }
      patch.add(new FloatTensor(w.name(), w.dims(), d));
    }
    SplitOrtModelRuntime runtime = open(VIT);
    FloatTensor x = new FloatTensor("input", new long[] {4, 1, 28, 28}, Fixtures.testImages("", 4));

    try (SplitOrtModelRuntime.Variant v = runtime.openVariant(new Weights("scaled", patch))) {
      assertThat(v.isCompact()).isFalse();
      assertThat(v.infer(Map.of("input", x), java.util.Set.of()).outputs().get(0).data())
          .as("the fallback stem is exact: bit for bit the offline-patched model")
          .containsExactly(offline(vit.withTensors(patch), x));
    }
  }

  @Test
  void givenByteDeltasServeExactlyWhatTheSearchedOnesServe() {
    OnnxModel vgg = Fixtures.vggModel("clean");
    RwsSignature signature = Fixtures.signature("gaussian_noise");
    List<FloatTensor> patch =
        RwsPatch.apply(vgg::floatTensor, List.of(new RwsPatch.Term(signature, 0.8)));
    Map<String, ByteDeltas> deltas = ByteDeltas.of(signature, 0.8).orElseThrow();
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"));

    try (SplitOrtModelRuntime.Variant searched = runtime.openVariant(new Weights("a", patch));
        SplitOrtModelRuntime.Variant given = runtime.openVariant(new Weights("b", patch, deltas))) {
      assertThat(given.isCompact()).isTrue();
      float[] expected =
          searched
              .infer(Map.of("input", OrtModelRuntimeTest.batch()), java.util.Set.of())
              .outputs()
              .get(0)
              .data();
      assertThat(
              given
                  .infer(Map.of("input", OrtModelRuntimeTest.batch()), java.util.Set.of())
                  .outputs()
                  .get(0)
                  .data())
          .as("the same patched weights, so the same bits")
          .containsExactly(expected);
    }
    runtime.swapWeights(new Weights("c", patch, deltas));
    assertThat(runtime.currentState().isCompact()).isTrue();
    assertClose(
        OrtModelRuntimeTest.logits(runtime, OrtModelRuntimeTest.batch()),
        offline(vgg.withTensors(patch), OrtModelRuntimeTest.batch()));
  }

  @Test
  void theBaseStateStaysExact() {
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"));

    assertThat(runtime.currentState().isCompact()).isFalse();
    assertThat(OrtModelRuntimeTest.logits(runtime, OrtModelRuntimeTest.batch()))
        .as("no deltas: the base stem, bit for bit the whole model")
        .containsExactly(offline(Fixtures.vggModel("clean"), OrtModelRuntimeTest.batch()));
  }

  /** One RWS term of 256 levels on the first four layers, computed as {@link RwsPatch} does. */
  private static List<FloatTensor> rwsShapedPatch(OnnxModel model, double alpha) {
    float[] levels = new float[256];
    for (int k = 0; k < levels.length; k++) {
      levels[k] = (float) (0.05 * (k - 127.5) / 127.5);
    }
    List<FloatTensor> out = new ArrayList<>();
    for (WeightLayer l : model.layers().subList(0, 4)) {
      for (String name : l.tensorNames()) {
        FloatTensor base = model.floatTensor(name);
        float[] d = base.data().clone();
        SplittableRandom r = new SplittableRandom(name.hashCode());
        for (int i = 0; i < d.length; i++) {
          d[i] += (float) (alpha * levels[r.nextInt(levels.length)]);
        }
        out.add(new FloatTensor(name, base.dims(), d));
      }
    }
    return out;
  }

  private static void assertClose(float[] actual, float[] expected) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.length; i++) {
      assertThat((double) actual[i])
          .as("logit %d: patched MatMul/Conv weights run unpacked", i)
          .isCloseTo(expected[i], within(1e-5));
    }
  }

  private static SplitState stateOf(SplitOrtModelRuntime runtime, WeightVariant v) {
    SplitState s = runtime.stateOf(v);
    s.release();
    return s;
  }

  private float[] offline(OnnxModel model, FloatTensor x) {
    Path file = tmp.resolve("offline-" + System.nanoTime() + ".onnx");
    model.save(file);
    try (OrtModelRuntime whole =
        OrtModelRuntime.open(
            "offline",
            ModelFile.read(file),
            ModelSettings.parse(Map.of("option.optLevel", "EXTENDED_OPT"), "test"))) {
      return OrtModelRuntimeTest.logits(whole, x);
    }
  }

  private SplitOrtModelRuntime open(Path file) {
    SplitOrtModelRuntime r =
        SplitOrtModelRuntime.open(
            "m",
            ModelFile.read(file),
            ModelSettings.parse(
                Map.of("option.graft.split", "on", "option.graft.split.compact", "true"), "test"),
            tmp.resolve("cache"));
    opened.add(r);
    return r;
  }
}
