package dev.graft.plugin.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.plugin.testing.Fixtures;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.IntToLongFunction;
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

    ByteDeltas code = DeltaCodec.encode(base, patched).orElseThrow();

    assertThat(code.table().length).as("at most one delta per level").isLessThanOrEqualTo(256);
    assertBitExact(code.apply(base), patched);
  }

  @Test
  void unchangedElementsKeepTheirBitsIncludingNegativeZero() {
    float[] base = {-0.0f, 0.0f, 1.5f, -2.25f, 1e-3f};
    float[] patched = {-0.0f, 0.0f, 1.5f + 0.125f, -2.25f, 1e-3f};

    ByteDeltas code = DeltaCodec.encode(base, patched).orElseThrow();

    assertBitExact(code.apply(base), patched);
    assertThat(code.table()).as("one delta and the no-change delta").hasSize(2);
  }

  @Test
  void elementsPatchedToZeroAndSubnormalsEncode() {
    float[] base = {0.5f, -Float.MIN_VALUE, 3 * Float.MIN_NORMAL, 7f};
    float[] patched = {0.0f, Float.MIN_VALUE, Float.MIN_NORMAL / 4, -7f};

    assertBitExact(DeltaCodec.encode(base, patched).orElseThrow().apply(base), patched);
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

  // ---- the linear-time encoder against the comparison-sort one it replaced

  private static final List<String> CORRUPTIONS =
      List.of("gaussian_noise", "contrast", "gaussian_blur", "impulse_noise");

  /** Asserts equal tables (bit for bit) and indices, or both empty; returns whether encoded. */
  private static boolean assertSameAsComparisonSort(float[] base, float[] patched, String what) {
    Optional<ByteDeltas> expected = ComparisonSortDeltaCodec.encode(base, patched);
    Optional<ByteDeltas> actual = DeltaCodec.encode(base, patched);
    assertThat(actual.isPresent())
        .as("%s: encoded by the comparison-sort encoder: %s", what, expected.isPresent())
        .isEqualTo(expected.isPresent());
    if (expected.isEmpty()) {
      return false;
    }
    assertThat(bits(actual.get().table()))
        .as("%s: the same deltas in the same order", what)
        .containsExactly(bits(expected.get().table()));
    assertThat(actual.get().index())
        .as("%s: the same index", what)
        .isEqualTo(expected.get().index());
    assertBitExact(actual.get().apply(base), patched);
    return true;
  }

  private static int[] bits(float[] values) {
    int[] out = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Float.floatToRawIntBits(values[i]);
    }
    return out;
  }

  @Test
  void realRwsPatchesOfTheVggEncodeAsTheComparisonSortEncoderDid() {
    OnnxModel vgg = Fixtures.vggModel("clean");
    int encoded = 0;
    for (String c : CORRUPTIONS) {
      for (double alpha : new double[] {0.25, 0.5, 1.0, 1.75, -0.6}) {
        List<FloatTensor> patch =
            RwsPatch.apply(
                vgg::floatTensor, List.of(new RwsPatch.Term(Fixtures.signature(c), alpha)));
        for (FloatTensor t : patch) {
          String what = c + " x " + alpha + ", " + t.name();
          if (assertSameAsComparisonSort(vgg.floatTensor(t.name()).data(), t.data(), what)) {
            encoded++;
          }
        }
      }
    }
    assertThat(encoded).as("one signature's tensors all encode (20 patches)").isGreaterThan(20);
  }

  @Test
  void twoSignaturePatchesOfTheVggEncodeAsTheComparisonSortEncoderDid() {
    OnnxModel vgg = Fixtures.vggModel("clean");
    List<FloatTensor> patch =
        RwsPatch.apply(
            vgg::floatTensor,
            List.of(
                new RwsPatch.Term(Fixtures.signature("gaussian_noise"), 0.7),
                new RwsPatch.Term(Fixtures.signature("contrast"), 0.4)));
    for (FloatTensor t : patch) {
      assertSameAsComparisonSort(
          vgg.floatTensor(t.name()).data(), t.data(), "two terms, " + t.name());
    }
  }

  /**
   * Bases of every magnitude (so some intervals are wide and overlap several deltas), signed zeros,
   * subnormals, elements patched to zero, unchanged elements, and few levels (many equal upper
   * ends).
   */
  @Test
  void adversarialInputsEncodeAsTheComparisonSortEncoderDid() {
    float[] special = {
      0.0f,
      -0.0f,
      Float.MIN_VALUE,
      -Float.MIN_VALUE,
      Float.MIN_NORMAL,
      3 * Float.MIN_VALUE,
      1024f,
      -1024f,
      1e-3f,
      1e30f,
      -7.5f
    };
    int encoded = 0;
    for (long seed = 0; seed < 60; seed++) {
      SplittableRandom r = new SplittableRandom(seed);
      int n = 1 + r.nextInt(5000);
      int levels = 1 + r.nextInt(seed % 3 == 0 ? 400 : 40);
      float[] deltas = new float[levels];
      for (int k = 0; k < levels; k++) {
        deltas[k] =
            switch (r.nextInt(4)) {
              case 0 -> (float) (r.nextGaussian() * 1e-3);
              case 1 -> special[r.nextInt(special.length)];
              case 2 -> Math.scalb((float) r.nextGaussian(), -r.nextInt(140));
              default -> (float) (0.01 * (k - levels / 2));
            };
      }
      float[] base = new float[n];
      float[] patched = new float[n];
      for (int i = 0; i < n; i++) {
        base[i] =
            switch (r.nextInt(4)) {
              case 0 -> special[r.nextInt(special.length)];
              case 1 -> (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
              case 2 -> Math.scalb((float) r.nextGaussian(), -r.nextInt(150));
              default -> (float) (r.nextGaussian() * 0.02);
            };
        patched[i] = r.nextInt(10) == 0 ? base[i] : base[i] + deltas[r.nextInt(levels)];
      }
      for (int z = r.nextInt(20); z > 0; z--) {
        patched[r.nextInt(n)] = 0.0f; // each needs a delta of its own: minus its base
      }
      if (seed % 10 == 9) {
        patched[r.nextInt(n)] = -0.0f; // no float32 sum is -0.0 unless both terms are: not encoded
      }
      if (assertSameAsComparisonSort(base, patched, "seed " + seed)) {
        encoded++;
      }
    }
    assertThat(encoded).as("most of the 60 inputs need at most 256 deltas").isGreaterThan(30);
  }

  @Test
  void anElementThatSeveralDeltasHitTakesTheSmallest() {
    // 1024 + ulp(1024) is reached by every delta in (ulp/2, 3ulp/2): all three below are in it
    float ulp = Math.ulp(1024f);
    float[] base = {0f, 0f, 0f, 1024f};
    float[] patched = {0.6f * ulp, 1.0f * ulp, 1.4f * ulp, 1024f + ulp};

    ByteDeltas code = DeltaCodec.encode(base, patched).orElseThrow();

    assertThat(code.table())
        .as("the three exact deltas")
        .containsExactly(0.6f * ulp, ulp, 1.4f * ulp);
    assertThat(code.index()[3])
        .as("the wide interval takes the first delta in it")
        .isEqualTo((byte) 0);
    assertSameAsComparisonSort(base, patched, "wide interval");
  }

  @Test
  void unchangedElementsLeaveRoomFor255DeltasOnly() {
    float[] base = new float[257];
    float[] patched = new float[257];
    for (int i = 0; i < 256; i++) {
      base[i] = 1.0f;
      patched[i] = 1.0f + (i + 1) * 0.001f;
    }
    base[256] = 2f;
    patched[256] = 2f;

    assertThat(DeltaCodec.encode(base, patched))
        .as("256 deltas and the no-change delta need 257")
        .isEmpty();
    assertThat(DeltaCodec.encode(Arrays.copyOf(base, 256), Arrays.copyOf(patched, 256)))
        .as("256 deltas alone fit")
        .isPresent();
    patched[255] = base[255];
    assertThat(DeltaCodec.encode(base, patched)).as("255 deltas and no-change fit").isPresent();
  }

  // ---- the radix sort against Arrays.sort

  /** {@code (key(k) << 32) | k}, as encode builds them. */
  private static long[] keys(int n, IntToLongFunction upper) {
    long[] keys = new long[n];
    for (int k = 0; k < n; k++) {
      keys[k] = (upper.applyAsLong(k) << 32) | k;
    }
    return keys;
  }

  private static void assertSortsAsArraysSort(long[] keys, int count, String what) {
    long[] expected = keys.clone();
    Arrays.sort(expected, 0, count);
    long[] actual = keys.clone();

    DeltaCodec.sortByUpperEnd(actual, count);

    assertThat(actual)
        .as("%s: %d of %d keys sorted as Arrays.sort does", what, count, keys.length)
        .containsExactly(expected);
  }

  private static long sortableBits(float f) {
    int bits = Float.floatToRawIntBits(f);
    return bits ^ ((bits >> 31) & 0x7fffffff);
  }

  @Test
  void radixSortOrdersKeysAsArraysSortDoes() {
    SplittableRandom r = new SplittableRandom(11);
    // Arrays.sort below 1024 keys, 11-bit digits below 65536, 16-bit digits from there on
    for (int n : new int[] {0, 1, 2, 3, 100, 1024, 2049, 65_536, 70_000}) {
      assertSortsAsArraysSort(keys(n, k -> r.nextInt()), n, "random ints");
      assertSortsAsArraysSort(keys(n, k -> r.nextInt(3) - 1), n, "three values (ties)");
      assertSortsAsArraysSort(keys(n, k -> 42), n, "one value (every pass skipped)");
      assertSortsAsArraysSort(
          keys(n, k -> sortableBits(r.nextBoolean() ? 0.0f : -0.0f)), n, "signed zeros");
      assertSortsAsArraysSort(
          keys(n, k -> sortableBits((r.nextBoolean() ? 1 : -1) * r.nextInt(8) * Float.MIN_VALUE)),
          n,
          "subnormals");
      assertSortsAsArraysSort(
          keys(n, k -> r.nextBoolean() ? Integer.MIN_VALUE : Integer.MAX_VALUE), n, "extremes");
      assertSortsAsArraysSort(
          keys(n, k -> (long) r.nextInt(4) << 22), n, "only the top digit differs");
      assertSortsAsArraysSort(
          keys(n, k -> sortableBits((float) (r.nextGaussian() * 1e-3))), n, "gaussian floats");
    }
  }

  @Test
  void radixSortLeavesKeysPastCountAlone() {
    SplittableRandom r = new SplittableRandom(3);
    long[] keys = keys(70_000, k -> r.nextInt());
    assertSortsAsArraysSort(keys, 3000, "a prefix");
    assertSortsAsArraysSort(keys, 66_000, "a long prefix");
  }
}
