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
import java.util.LinkedHashMap;
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
    Map<String, ByteDeltas> deltas = ByteDeltasTest.scaled(signature, 0.8);
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
  void scalesOfOneSignatureShareTheirIndexTensorsWhichCountOnce() {
    OnnxModel vgg = Fixtures.vggModel("clean");
    RwsSignature signature = Fixtures.signature("gaussian_noise");
    Map<String, DeltaLevels> levels = DeltaLevels.of(signature).orElseThrow();
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"));
    long before = runtime.weightBytes();
    Weights half = scaled(vgg, signature, levels, 0.5);
    Weights twice = scaled(vgg, signature, levels, 2.0);

    try (SplitOrtModelRuntime.Variant a = runtime.openVariant(half);
        SplitOrtModelRuntime.Variant b = runtime.openVariant(twice)) {
      assertThat(a.isCompact() && b.isCompact()).isTrue();
      List<SharedTensor> shared = stateOf(runtime, a).sharedIndexes();
      assertThat(shared).hasSize(levels.size());
      assertThat(stateOf(runtime, b).sharedIndexes())
          .as("the same index tensors, in the same order")
          .usingElementComparator((x, y) -> x == y ? 0 : 1)
          .containsExactlyElementsOf(shared);
      long indexBytes = levels.values().stream().mapToLong(l -> l.index().length).sum();
      long tableBytes = 2L * levels.size() * 256 * Float.BYTES;
      assertThat(runtime.weightBytes() - before)
          .as("one byte per weight once for both scales, and a set of tables for each")
          .isEqualTo(indexBytes + tableBytes);
      assertClose(logits(a), offline(vgg.withTensors(half.overrides()), batch()));
      assertClose(logits(b), offline(vgg.withTensors(twice.overrides()), batch()));
    }
  }

  @Test
  void reusedTablesServeEachStateItsOwnDeltasAndNeverThoseOfAStateStillInUse() {
    OnnxModel vgg = Fixtures.vggModel("clean");
    RwsSignature noise = Fixtures.signature("gaussian_noise");
    RwsSignature contrast = Fixtures.signature("contrast");
    Map<String, DeltaLevels> noiseLevels = DeltaLevels.of(noise).orElseThrow();
    Map<String, DeltaLevels> contrastLevels = DeltaLevels.of(contrast).orElseThrow();
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"));
    Weights held = scaled(vgg, noise, noiseLevels, 0.5);
    float[] heldExpected = offline(vgg.withTensors(held.overrides()), batch());

    try (SplitOrtModelRuntime.Variant pinned = runtime.openVariant(held)) {
      for (double alpha : new double[] {1.0, -0.75, 1.5, 0.25, 2.0, 0.8}) {
        // alternating signatures: tables of different lengths over the same reused buffers
        Weights w =
            alpha > 0.9
                ? scaled(vgg, contrast, contrastLevels, alpha)
                : scaled(vgg, noise, noiseLevels, alpha);
        runtime.swapWeights(w);
        assertThat(runtime.currentState().isCompact()).isTrue();
        assertClose(
            OrtModelRuntimeTest.logits(runtime, batch()),
            offline(vgg.withTensors(w.overrides()), batch()));
      }
      // six swaps later, the pinned variant still reads its own tables
      assertClose(logits(pinned), heldExpected);
    }
  }

  @Test
  void keptIndexesStayWithinTheirBoundAndCloseOnlyWhenNoStateReadsThem() {
    OnnxModel vgg = Fixtures.vggModel("clean");
    RwsSignature signature = Fixtures.signature("gaussian_noise");
    Map<String, DeltaLevels> levels = DeltaLevels.of(signature).orElseThrow();
    long indexBytes = levels.values().stream().mapToLong(l -> l.index().length).sum();
    long tableBytes = (long) levels.size() * 256 * Float.BYTES;
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"));
    long before = runtime.weightBytes();
    Weights first = freshIndexes(scaled(vgg, signature, levels, 0.5));

    SplitOrtModelRuntime.Variant pinned = runtime.openVariant(first);
    List<SharedTensor> pinnedIndexes = stateOf(runtime, pinned).sharedIndexes();
    // every swap brings index arrays never seen before: twice the bound's worth of them
    long swaps = 2 * DeltaStem.KEPT_INDEX_BYTES / indexBytes + 1;
    Weights w = first;
    for (long i = 0; i < swaps; i++) {
      w = freshIndexes(first);
      runtime.swapWeights(w);
    }

    assertThat(runtime.weightBytes() - before)
        .as("kept indexes within the bound, besides the pinned variant's and its tables")
        .isLessThanOrEqualTo(DeltaStem.KEPT_INDEX_BYTES + indexBytes + 2 * tableBytes + indexBytes);
    assertThat(pinnedIndexes)
        .as("let go by the keeper long ago, still read by the pinned variant")
        .noneMatch(SharedTensor::isClosed);
    assertClose(logits(pinned), offline(vgg.withTensors(first.overrides()), batch()));
    pinned.close();
    assertThat(pinnedIndexes)
        .as("closed with the last state reading them")
        .allMatch(SharedTensor::isClosed);
    assertClose(
        OrtModelRuntimeTest.logits(runtime, batch()),
        offline(vgg.withTensors(w.overrides()), batch()));
  }

  @Test
  void theBaseStateStaysExact() {
    SplitOrtModelRuntime runtime = open(Fixtures.vgg("clean"));

    assertThat(runtime.currentState().isCompact()).isFalse();
    assertThat(OrtModelRuntimeTest.logits(runtime, OrtModelRuntimeTest.batch()))
        .as("no deltas: the base stem, bit for bit the whole model")
        .containsExactly(offline(Fixtures.vggModel("clean"), OrtModelRuntimeTest.batch()));
  }

  /** The weights of one signature at {@code alpha}, with byte deltas as a server gives them. */
  private static Weights scaled(
      OnnxModel model, RwsSignature signature, Map<String, DeltaLevels> levels, double alpha) {
    List<FloatTensor> patch =
        RwsPatch.apply(model::floatTensor, List.of(new RwsPatch.Term(signature, alpha)));
    return new Weights("w@" + alpha, patch, DeltaLevels.scaled(levels, alpha));
  }

  /** The same weights with copies of their index arrays, which no runtime has seen. */
  private static Weights freshIndexes(Weights w) {
    Map<String, ByteDeltas> copies = new LinkedHashMap<>();
    w.deltas().forEach((n, d) -> copies.put(n, new ByteDeltas(d.table(), d.index().clone())));
    return new Weights(w.label(), w.overrides(), copies);
  }

  private static float[] logits(SplitOrtModelRuntime.Variant v) {
    return v.infer(Map.of("input", batch()), java.util.Set.of()).outputs().get(0).data();
  }

  private static FloatTensor batch() {
    return OrtModelRuntimeTest.batch();
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
