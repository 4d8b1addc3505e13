package dev.graft.plugin.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.testing.Fixtures;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Per-request weight variants of the ONNX runtime: exactness, ownership, release. */
class WeightVariantTest {
  private final OrtModelRuntime runtime = open();

  @AfterEach
  void close() {
    runtime.close();
    assertThat(runtime.openVariants()).as("closing the runtime closes its variants").isZero();
  }

  @Test
  void aVariantComputesWhatTheSameWeightsComputeOnceSwappedIn() {
    Weights noise = new Weights("gaussian_noise@1.0", OrtModelRuntimeTest.gaussianNoisePatch());
    List<Tensor> x = List.of(Tensor.of(OrtModelRuntimeTest.batch()));
    float[] base = logits(runtime.run(x, Set.of(), null));

    try (WeightVariant variant = runtime.openVariant(noise)) {
      TensorResult onVariant = runtime.run(x, Set.of(), variant);
      assertThat(onVariant.weights()).isEqualTo("gaussian_noise@1.0");
      assertThat(runtime.weightsLabel()).as("the live weights do not change").isEqualTo("base");
      assertThat(logits(runtime.run(x, Set.of(), null))).containsExactly(base);

      runtime.swapWeights(noise);
      assertThat(logits(onVariant))
          .as("bit for bit the swapped-in weights")
          .containsExactly(logits(runtime.run(x, Set.of(), null)))
          .isNotEqualTo(base);
    }
  }

  @Test
  void aClosedVariantStaysUsableUntilItsLastReferenceGoes() {
    WeightVariant variant = runtime.openVariant(Weights.base());
    assertThat(variant.tryAcquire()).isTrue(); // a request in flight
    variant.close();
    variant.close(); // idempotent
    List<Tensor> x = List.of(Tensor.of(OrtModelRuntimeTest.batch()));
    assertThat(runtime.run(x, Set.of(), variant).weights())
        .as("the in-flight reference keeps the session")
        .isEqualTo("base");
    variant.release();
    GraftException e =
        catchThrowableOfType(GraftException.class, () -> runtime.run(x, Set.of(), variant));
    assertThat(e.code())
        .as("freed once the last reference is gone")
        .isEqualTo(GraftException.Code.UNAVAILABLE);
  }

  @Test
  void aVariantOfAnotherModelIsRefused() {
    OrtModelRuntime other = open();
    try (WeightVariant foreign = other.openVariant(Weights.base())) {
      List<Tensor> x = List.of(Tensor.of(OrtModelRuntimeTest.batch()));
      GraftException e =
          catchThrowableOfType(GraftException.class, () -> runtime.run(x, Set.of(), foreign));
      assertThat(e.code()).isEqualTo(GraftException.Code.FAILED_PRECONDITION);
    } finally {
      other.close();
    }
  }

  @Test
  void weightBytesCountEveryOpenVariant() {
    long live = runtime.weightBytes();
    WeightVariant variant = runtime.openVariant(Weights.base());
    long withVariant = runtime.weightBytes();
    variant.close();
    assertThat(withVariant).as("a variant holds its own copy of the weights").isGreaterThan(live);
    assertThat(runtime.weightBytes()).isEqualTo(live);
  }

  private static OrtModelRuntime open() {
    return OrtModelRuntime.open(
        "vgg", ModelFile.read(Fixtures.vgg("clean")), ModelSettings.defaults());
  }

  private static float[] logits(TensorResult r) {
    FloatTensor t = r.outputs().get(0).toFloatTensor();
    return t.data();
  }
}
