package dev.graft.onnx.ofq;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class StatsQTest {
  private static final int[] CODES = {-2, -1, 0, 1};

  @Test
  void levelIsScaleTimesCodePlusHalfOverTwo() {
    float s = 0.0731f;
    for (int k : CODES) {
      assertThat(StatsQ.level(k, s / 2)).as("k=%d", k).isEqualTo((k + 0.5f) * s / 2f);
    }
  }

  @Test
  void fitRecoversCodesAndScaleOfRandomRowsExactly() {
    Random rnd = new Random(7);
    for (int trial = 0; trial < 2000; trial++) {
      float s = (float) Math.abs(rnd.nextGaussian() * 0.05 + 0.02) + 1e-6f;
      int n = 16 + rnd.nextInt(100);
      byte[] truth = new byte[n];
      float[] row = new float[n];
      for (int i = 0; i < n; i++) {
        truth[i] = (byte) CODES[rnd.nextInt(4)];
        row[i] = (truth[i] + 0.5f) * s / 2f; // how PyTorch's fake-quant computes the levels
      }
      truth[0] = 0; // StatsQ rows always hold both magnitudes
      row[0] = 0.5f * s / 2f;
      truth[1] = 1;
      row[1] = 1.5f * s / 2f;
      byte[] codes = new byte[n];

      StatsQ.RowFit fit = StatsQ.fit(new StatsQ.Row(row, 0, 1, n), codes, 0);

      assertThat(fit.fits()).as("trial %d: s=%s", trial, s).isTrue();
      assertThat(2 * fit.half()).as("trial %d: recovered s", trial).isEqualTo(s);
      assertThat(codes).as("trial %d: codes", trial).isEqualTo(truth);
    }
  }

  @Test
  void columnOfAnInOutMatrixIsReadWithItsStride() {
    // [in=16, out=2]: column 1 holds the levels of s = 0.5, column 0 is noise
    float[] w = new float[32];
    byte[] truth = new byte[16];
    for (int i = 0; i < 16; i++) {
      truth[i] = (byte) CODES[i % 4];
      w[i * 2 + 1] = StatsQ.level(truth[i], 0.25f);
      w[i * 2] = i * 0.01f;
    }
    byte[] codes = new byte[16];

    assertThat(StatsQ.fit(new StatsQ.Row(w, 1, 2, 16), codes, 0).half()).isEqualTo(0.25f);
    assertThat(codes).isEqualTo(truth);
    assertThat(StatsQ.fit(new StatsQ.Row(w, 0, 2, 16), codes, 0).status())
        .isEqualTo(StatsQ.Status.TOO_MANY_LEVELS);
  }

  @Test
  void fiveDistinctValuesAreNotTwoBit() {
    float[] row = {0.1f, -0.1f, 0.3f, -0.3f, 0.2f};

    StatsQ.RowFit fit = StatsQ.fit(new StatsQ.Row(row, 0, 1, 5), new byte[5], 0);

    assertThat(fit.status()).isEqualTo(StatsQ.Status.TOO_MANY_LEVELS);
    assertThat(fit.levels()).isEqualTo(5);
  }

  @Test
  void fourValuesOffTheLevelsAreRejected() {
    float[] row = {0.1f, -0.1f, 0.25f, -0.3f}; // 0.25 is not 3 × 0.1 (nor anything else)

    StatsQ.RowFit fit = StatsQ.fit(new StatsQ.Row(row, 0, 1, 4), new byte[4], 0);

    assertThat(fit.status()).isEqualTo(StatsQ.Status.OFF_LEVELS);
  }

  @Test
  void nanIsNotFinite() {
    float[] row = {0.1f, Float.NaN};

    assertThat(StatsQ.fit(new StatsQ.Row(row, 0, 1, 2), new byte[2], 0).status())
        .isEqualTo(StatsQ.Status.NOT_FINITE);
  }

  @Test
  void singleMagnitudeRowStillReconstructsExactly() {
    float[] row = {0.3f, -0.3f, 0.3f, 0.3f};
    byte[] codes = new byte[4];

    StatsQ.RowFit fit = StatsQ.fit(new StatsQ.Row(row, 0, 1, 4), codes, 0);

    assertThat(fit.fits()).isTrue();
    for (int i = 0; i < 4; i++) {
      assertThat(StatsQ.level(codes[i], fit.half())).as("value %d", i).isEqualTo(row[i]);
    }
  }

  @Test
  void allZeroRowHasScaleZero() {
    byte[] codes = {9, 9, 9};

    StatsQ.RowFit fit = StatsQ.fit(new StatsQ.Row(new float[3], 0, 1, 3), codes, 0);

    assertThat(fit.half()).isZero();
    assertThat(codes).containsOnly(0);
  }

  @Test
  void requantizeIsStatsQWithRoundHalfToEven() {
    float[] row = {0.4f, -0.4f, 0.1f, -0.1f}; // mean|w| = 0.25, s = 0.5, h = 0.25
    byte[] codes = new byte[4];

    float half = StatsQ.requantize(new StatsQ.Row(row, 0, 1, 4), codes, 0);

    assertThat(half).isEqualTo(0.25f);
    // w/h − 0.5 = 1.1, −2.1, −0.1, −0.9 → 1, −2, 0, −1
    assertThat(codes).containsExactly(1, -2, 0, -1);
  }
}
