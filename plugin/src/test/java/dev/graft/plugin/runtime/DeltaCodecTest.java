package dev.graft.plugin.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DeltaCodecTest {
  private static float[] gaussian(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      w[i] = (float) (0.02 * r.nextGaussian());
    }
    return w;
  }

  /** {@code base + (float) (alpha * level[q])} per element, as RwsPatch adds one signature. */
  private static float[] patched(float[] base, float[] levels, double alpha, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] out = new float[base.length];
    for (int i = 0; i < base.length; i++) {
      out[i] = base[i] + (float) (alpha * levels[r.nextInt(levels.length)]);
    }
    return out;
  }

  private static float[] levels(int n, double scale) {
    float[] l = new float[n];
    for (int k = 0; k < n; k++) {
      l[k] = (float) (scale * (k - (n - 1) / 2.0) / ((n - 1) / 2.0));
    }
    return l;
  }

  private static void assertBitExact(float[] actual, float[] expected) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.length; i++) {
      assertThat(Float.floatToRawIntBits(actual[i]))
          .as("element %d: %s decoded, %s patched", i, actual[i], expected[i])
          .isEqualTo(Float.floatToRawIntBits(expected[i]));
    }
  }

  @Test
  void oneSignatureOf256LevelsEncodesBitExactly() {
    float[] base = gaussian(200_000, 1);
    float[] patched = patched(base, levels(256, 3e-3), 0.75, 2);

    DeltaCodec.Encoded code = DeltaCodec.encode(base, patched).orElseThrow();

    assertThat(code.table().length).as("at most one delta per level").isLessThanOrEqualTo(256);
    assertBitExact(code.decode(base), patched);
  }

  @Test
  void unchangedElementsKeepTheirBitsIncludingNegativeZero() {
    float[] base = {-0.0f, 0.0f, 1.5f, -2.25f, 1e-3f};
    float[] patched = {-0.0f, 0.0f, 1.5f + 0.125f, -2.25f, 1e-3f};

    DeltaCodec.Encoded code = DeltaCodec.encode(base, patched).orElseThrow();

    assertBitExact(code.decode(base), patched);
    assertThat(code.table()).as("one delta and the no-change delta").hasSize(2);
  }

  @Test
  void elementsPatchedToZeroAndSubnormalsEncode() {
    float[] base = {0.5f, -Float.MIN_VALUE, 3 * Float.MIN_NORMAL, 7f};
    float[] patched = {0.0f, Float.MIN_VALUE, Float.MIN_NORMAL / 4, -7f};

    assertBitExact(DeltaCodec.encode(base, patched).orElseThrow().decode(base), patched);
  }

  @Test
  void moreThan256DistinctChangesAreNotEncoded() {
    float[] base = new float[1000];
    float[] patched = new float[1000];
    for (int i = 0; i < base.length; i++) {
      base[i] = 1.0f;
      patched[i] = 1.0f + i * 0.001f;
    }

    assertThat(DeltaCodec.encode(base, patched)).as("1000 different deltas").isEmpty();
  }

  @Test
  void nonFiniteValuesAreNotEncoded() {
    assertThat(DeltaCodec.encode(new float[] {1f}, new float[] {Float.NaN})).isEmpty();
    assertThat(DeltaCodec.encode(new float[] {Float.POSITIVE_INFINITY}, new float[] {1f}))
        .isEmpty();
  }
}
