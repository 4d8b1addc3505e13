package dev.graft.plugin.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.onnx.rws.RwsSignature;
import dev.graft.plugin.testing.Fixtures;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ByteDeltasTest {
  private static final List<String> CORRUPTIONS =
      List.of("gaussian_noise", "contrast", "gaussian_blur", "impulse_noise");

  private static void assertBitExact(float[] actual, float[] expected, String what) {
    assertThat(actual).as(what).hasSameSizeAs(expected);
    for (int i = 0; i < expected.length; i++) {
      assertThat(Float.floatToRawIntBits(actual[i]))
          .as(
              "%s, element %d: %s from byte deltas, %s from RwsPatch",
              what, i, actual[i], expected[i])
          .isEqualTo(Float.floatToRawIntBits(expected[i]));
    }
  }

  /** One signature's byte deltas at {@code alpha}, as a server gives them. */
  static Map<String, ByteDeltas> scaled(RwsSignature signature, double alpha) {
    return DeltaLevels.scaled(DeltaLevels.of(signature).orElseThrow(), alpha);
  }

  @Test
  void oneSignaturesByteDeltasGiveExactlyWhatRwsPatchAdds() {
    OnnxModel vgg = Fixtures.vggModel("clean");
    for (String c : CORRUPTIONS) {
      RwsSignature signature = Fixtures.signature(c);
      for (double alpha : new double[] {0.25, 0.5, 1.0, 1.75, -0.6, 0.0}) {
        Map<String, ByteDeltas> deltas = scaled(signature, alpha);
        List<FloatTensor> patch =
            RwsPatch.apply(vgg::floatTensor, List.of(new RwsPatch.Term(signature, alpha)));
        assertThat(deltas.keySet())
            .containsExactlyElementsOf(patch.stream().map(FloatTensor::name).toList());
        for (FloatTensor t : patch) {
          ByteDeltas d = deltas.get(t.name());
          assertThat(d.table().length).isLessThanOrEqualTo(256);
          assertBitExact(
              d.apply(vgg.floatTensor(t.name()).data()),
              t.data(),
              c + " x " + alpha + ", " + t.name());
        }
      }
    }
  }

  @Test
  void everyScaleOfALevelsSharesItsIndexAndScalesOnlyTheTable() {
    float[] delta = {0.5f, -0.25f, 0.5f, 0.0f, -0.25f, -0.0f};
    DeltaLevels levels = DeltaLevels.of(delta).orElseThrow();
    assertThat(levels.levels()).containsExactly(0.5f, -0.25f, 0.0f, -0.0f);
    assertThat(levels.index()).containsExactly(0, 1, 0, 2, 1, 3);
    for (double alpha : new double[] {0.3, -1.7}) {
      ByteDeltas d = levels.scaled(alpha);
      assertThat(d.index()).isSameAs(levels.index());
      ByteDeltas fromFreshLevels = DeltaLevels.of(delta).orElseThrow().scaled(alpha);
      assertThat(d.table()).containsExactly(fromFreshLevels.table());
      assertBitExact(
          d.apply(new float[delta.length]),
          new float[] {
            (float) (alpha * 0.5f),
            (float) (alpha * -0.25f),
            (float) (alpha * 0.5f),
            0.0f,
            (float) (alpha * -0.25f),
            0.0f
          },
          "alpha " + alpha);
    }
  }

  @Test
  void moreThan256DistinctDeltasAreNotByteDeltas() {
    float[] delta = new float[1000];
    for (int i = 0; i < delta.length; i++) {
      delta[i] = i % 257 * 1e-4f;
    }
    assertThat(DeltaLevels.of(delta)).isEmpty();
    float[] fits = new float[1000];
    for (int i = 0; i < fits.length; i++) {
      fits[i] = i % 256 * 1e-4f;
    }
    ByteDeltas d = DeltaLevels.of(fits).orElseThrow().scaled(2.0);
    assertThat(d.table()).hasSize(256);
    assertThat(d.apply(new float[1000])[513]).isEqualTo((float) (2.0 * fits[513]));
  }

  @Test
  void zerosOfBothSignsAreDistinctDeltasAndAddAsRwsPatchAddsThem() {
    // RwsPatch accumulates from +0.0 in double: a -0.0 delta adds +0.0, which turns a -0.0 weight
    // into +0.0; the byte deltas must do exactly the same
    float[] base = {-0.0f, -0.0f, 1.5f, -2.0f};
    float[] delta = {-0.0f, 0.0f, 0.25f, -0.0f};
    ByteDeltas d = DeltaLevels.of(delta).orElseThrow().scaled(1.0);
    float[] expected = new float[base.length];
    for (int i = 0; i < base.length; i++) {
      expected[i] = base[i] + (float) (0.0 + 1.0 * delta[i]);
    }
    assertBitExact(d.apply(base), expected, "signed zeros");
    assertThat(Float.floatToRawIntBits(d.apply(base)[0])).isEqualTo(Float.floatToRawIntBits(0.0f));
  }
}
