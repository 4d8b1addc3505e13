package dev.graft.plugin.patch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.onnx.rws.RwsSignature;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.ModelFile;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.OrtModelRuntime;
import dev.graft.plugin.runtime.Weights;
import dev.graft.plugin.testing.Fixtures;
import dev.graft.plugin.testing.GraphlessRuntime;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelAdaptersTest {
  @TempDir Path tmp;

  private ModelRuntime runtime;
  private ModelAdapters adapters;
  private float[] baseLogits;

  @BeforeEach
  void open() {
    ModelFile file = ModelFile.read(Fixtures.vgg("clean"));
    runtime = openRuntime("vgg", file);
    adapters = new ModelAdapters("vgg", file.model(), runtime);
    baseLogits = logits(runtime);
  }

  @AfterEach
  void close() {
    runtime.close();
  }

  @Test
  void attachingGivesTheOfflineApplyOutputsExactly() {
    adapters.register("gaussian_noise", loaded("gaussian_noise"), 0.75, true, false);

    assertThat(logits(runtime))
        .as("online = model patched offline with RwsPatch.apply, saved and reloaded")
        .containsExactly(offlineLogits(List.of(term("gaussian_noise", 0.75))));
    assertThat(runtime.weightsLabel()).isEqualTo("gaussian_noise@0.75");
  }

  @Test
  void composedAdaptersAreSummedInNameOrderAndLabelledSo() {
    adapters.register("noise", loaded("gaussian_noise"), 1.0, true, false);
    adapters.register("blur", loaded("gaussian_blur"), 0.5, true, false);

    assertThat(adapters.snapshot().weights()).isEqualTo("blur@0.5+noise@1.0");
    assertThat(runtime.weightsLabel()).isEqualTo("blur@0.5+noise@1.0");
    assertThat(logits(runtime))
        .containsExactly(
            offlineLogits(List.of(term("gaussian_blur", 0.5), term("gaussian_noise", 1.0))));
  }

  @Test
  void detachingEverythingRestoresTheBaseBitForBit() {
    adapters.register("noise", loaded("gaussian_noise"), 1.0, true, false);
    adapters.register("blur", loaded("gaussian_blur"), 1.0, true, false);
    assertThat(logits(runtime)).isNotEqualTo(baseLogits);

    adapters.update("noise", OptionalDouble.empty(), Optional.of(false));
    adapters.remove("blur");

    assertThat(logits(runtime)).containsExactly(baseLogits);
    assertThat(adapters.snapshot().weights()).isEqualTo("base");
    assertThat(adapters.get("noise").attached()).isFalse();
  }

  @Test
  void registeringDetachedDoesNotChangeTheWeights() {
    adapters.register("noise", loaded("gaussian_noise"), 1.0, false, false);
    assertThat(runtime.weightsLabel()).isEqualTo("base");
    assertThat(logits(runtime)).containsExactly(baseLogits);

    Adapter a = adapters.update("noise", OptionalDouble.of(0.5), Optional.of(true));

    assertThat(a.alpha()).isEqualTo(0.5);
    assertThat(runtime.weightsLabel()).isEqualTo("noise@0.5");
  }

  @Test
  void duplicateNameIsRefusedAndNothingChanges() {
    adapters.register("noise", loaded("gaussian_noise"), 1.0, true, false);
    float[] before = logits(runtime);

    assertCode(
        () -> adapters.register("noise", loaded("gaussian_blur"), 1.0, true, false),
        GraftException.Code.ALREADY_EXISTS);

    assertThat(adapters.get("noise").signature().corruption()).isEqualTo("gaussian_noise");
    assertThat(logits(runtime)).containsExactly(before);
  }

  @Test
  void signatureOfOtherBaseWeightsNeedsTransfer() {
    ModelFile v2 = ModelFile.read(Fixtures.vgg("clean-v2"));
    try (OrtModelRuntime updated = OrtModelRuntime.open("vgg2", v2, ModelSettings.defaults())) {
      ModelAdapters onUpdated = new ModelAdapters("vgg2", v2.model(), updated);
      float[] before = logits(updated);

      assertCode(
          () -> onUpdated.register("noise", loaded("gaussian_noise"), 1.0, true, false),
          GraftException.Code.FAILED_PRECONDITION);
      assertThat(onUpdated.snapshot().adapters()).isEmpty();
      assertThat(logits(updated)).containsExactly(before);

      onUpdated.register("noise", loaded("gaussian_noise"), 1.0, true, true);
      assertThat(onUpdated.get("noise").transfer()).isTrue();
      assertThat(updated.weightsLabel()).isEqualTo("noise@1.0");
    }
  }

  @Test
  void signatureOfAnotherArchitectureIsRefusedEvenWithTransfer() {
    Path wa = Fixtures.repoRoot().resolve("fixtures/wa/wa-backbone.onnx");
    ModelFile file = ModelFile.read(wa);
    try (OrtModelRuntime other = OrtModelRuntime.open("wa", file, ModelSettings.defaults())) {
      ModelAdapters onOther = new ModelAdapters("wa", file.model(), other);
      assertThatThrownBy(() -> onOther.register("noise", loaded("gaussian_noise"), 1.0, true, true))
          .isInstanceOfSatisfying(
              GraftException.class,
              e -> assertThat(e.code()).isEqualTo(GraftException.Code.FAILED_PRECONDITION))
          .hasMessageContaining("different architectures");
      assertThat(onOther.snapshot().adapters()).isEmpty();
    }
  }

  @Test
  void nonFiniteAlphaIsRefused() {
    adapters.register("noise", loaded("gaussian_noise"), 1.0, true, false);
    for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY}) {
      assertCode(
          () -> adapters.register("blur", loaded("gaussian_blur"), bad, true, false),
          GraftException.Code.INVALID_ARGUMENT);
      assertCode(
          () -> adapters.update("noise", OptionalDouble.of(bad), Optional.empty()),
          GraftException.Code.INVALID_ARGUMENT);
    }
    assertThat(adapters.snapshot().weights()).isEqualTo("noise@1.0");
  }

  @Test
  void badNamesAreRefused() {
    for (String bad : new String[] {"", "a+b", "a@1", "../x", "a b"}) {
      assertCode(
          () -> adapters.register(bad, loaded("gaussian_noise"), 1.0, true, false),
          GraftException.Code.INVALID_ARGUMENT);
    }
  }

  @Test
  void corruptOrTruncatedSignatureBytesAreRefused() {
    byte[] good = Fixtures.signature("gaussian_noise").toByteArray();
    byte[] truncated = Arrays.copyOf(good, good.length - 40);
    byte[] corrupt = good.clone();
    corrupt[good.length / 2] ^= 0x55;

    assertCode(() -> SignatureSource.fromBody(truncated), GraftException.Code.INVALID_ARGUMENT);
    assertCode(() -> SignatureSource.fromBody(corrupt), GraftException.Code.INVALID_ARGUMENT);
    assertCode(
        () -> SignatureSource.fromBody("not an rws".getBytes()),
        GraftException.Code.INVALID_ARGUMENT);
  }

  @Test
  void unknownAdapterIsNotFound() {
    assertCode(() -> adapters.get("nope"), GraftException.Code.NOT_FOUND);
    assertCode(() -> adapters.remove("nope"), GraftException.Code.NOT_FOUND);
    assertCode(
        () -> adapters.update("nope", OptionalDouble.of(1), Optional.empty()),
        GraftException.Code.NOT_FOUND);
  }

  @Test
  void aFailedSwapLeavesTheAdapterSetUnchanged() {
    FailingRuntime failing = new FailingRuntime();
    ModelAdapters onFailing = new ModelAdapters("vgg", Fixtures.vggModel("clean"), failing);

    assertCode(
        () -> onFailing.register("noise", loaded("gaussian_noise"), 1.0, true, false),
        GraftException.Code.INTERNAL);

    assertThat(onFailing.snapshot().adapters()).as("not recorded").isEmpty();
    assertThat(onFailing.snapshot().weights()).isEqualTo("base");
  }

  @Test
  void gaussianNoiseAdapterRecoversTheReferenceAccuracy() {
    int n = 2000;
    float[] images = Fixtures.testImages("gaussian_noise", n);
    int[] labels = Fixtures.testLabels(n);
    double clean = accuracy(images, labels);

    adapters.register("gaussian_noise", loaded("gaussian_noise"), 1.0, true, false);
    double patched = accuracy(images, labels);

    // fixtures/README.md: clean model 0.4600, keep4 256 levels 0.9285 (PyTorch)
    assertThat(clean).as("clean model on gaussian noise").isBetween(0.45, 0.47);
    assertThat(patched).as("patched model on gaussian noise").isBetween(0.92, 0.937);
  }

  /** The runtime under test; subclasses run this suite against other runtimes. */
  ModelRuntime openRuntime(String name, ModelFile file) {
    return OrtModelRuntime.open(name, file, ModelSettings.defaults());
  }

  private double accuracy(float[] images, int[] labels) {
    FloatTensor x = new FloatTensor("input", new long[] {labels.length, 1, 28, 28}, images);
    float[] out = runtime.infer(Map.of("input", x), Set.of()).outputs().get(0).data();
    int correct = 0;
    for (int i = 0; i < labels.length; i++) {
      int best = 0;
      for (int c = 1; c < 10; c++) {
        if (out[i * 10 + c] > out[i * 10 + best]) {
          best = c;
        }
      }
      correct += best == labels[i] ? 1 : 0;
    }
    return (double) correct / labels.length;
  }

  private float[] offlineLogits(List<RwsPatch.Term> terms) {
    OnnxModel clean = Fixtures.vggModel("clean");
    Path file = tmp.resolve("offline-" + System.nanoTime() + ".onnx");
    clean.withTensors(RwsPatch.apply(clean::floatTensor, terms)).save(file);
    try (OrtModelRuntime offline =
        OrtModelRuntime.open("offline", ModelFile.read(file), ModelSettings.defaults())) {
      return logits(offline);
    }
  }

  private static RwsPatch.Term term(String corruption, double alpha) {
    return new RwsPatch.Term(Fixtures.signature(corruption), alpha);
  }

  private static SignatureSource.Loaded loaded(String corruption) {
    RwsSignature s = Fixtures.signature(corruption);
    return SignatureSource.fromBody(s.toByteArray());
  }

  private static float[] logits(ModelRuntime runtime) {
    FloatTensor x =
        new FloatTensor(
            "input", new long[] {4, 1, 28, 28}, Fixtures.testImages("gaussian_blur", 4));
    return runtime.infer(Map.of("input", x), Set.of()).outputs().get(0).data();
  }

  private static void assertCode(Runnable call, GraftException.Code code) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(GraftException.class, e -> assertThat(e.code()).isEqualTo(code));
  }

  /** A runtime whose swaps always fail, as when ONNX Runtime cannot build the session. */
  private static final class FailingRuntime extends GraphlessRuntime {
    FailingRuntime() {
      super("failing");
    }

    @Override
    public void swapWeights(Weights weights) {
      throw new GraftException(GraftException.Code.INTERNAL, "simulated session build failure");
    }
  }
}
