package dev.graft.onnx.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class WeightAlignerTest {

  @Test
  void gammaOfStepOneMatchesTheReference() {
    Alignment a = WeightAligner.measure(WaFixtures.head(1), 4);

    assertThat(a.gamma()).as("γ of step 1 in the fixture README").isCloseTo(0.75817, within(1e-4));
  }

  @Test
  void gammaOfStepTwoMatchesTheReference() {
    Alignment a = WeightAligner.measure(WaFixtures.head(2), 7);

    assertThat(a.gamma()).as("γ of step 2 in the fixture README").isCloseTo(0.70734, within(1e-4));
  }

  @Test
  void alignScalesOnlyNewRowsAndLeavesBiasAlone() {
    ClassifierHead h =
        ClassifierHead.ofRows(
            List.of("a", "b", "c"), new float[][] {{3, 4}, {0, 1}, {0, 6}}, new float[] {1, 2, 3});

    WeightAligner.Aligned aligned = WeightAligner.align(h, 2);

    // mean old norm (5 + 1) / 2 = 3, new norm 6: γ = 0.5
    assertThat(aligned.alignment().gamma()).as("γ = 3 / 6").isEqualTo(0.5);
    assertThat(aligned.head().row(0)).as("old row untouched").containsExactly(3f, 4f);
    assertThat(aligned.head().row(2)).as("new row scaled by γ").containsExactly(0f, 3f);
    assertThat(aligned.head().bias()).as("bias untouched").containsExactly(1f, 2f, 3f);
    assertThat(aligned.alignment().applied()).as("WA applied").isTrue();
  }

  @Test
  void alignedNewRowsHaveTheOldMeanNorm() {
    WeightAligner.Aligned aligned = WeightAligner.align(WaFixtures.head(1), 4);
    double[] norms = aligned.head().rowNorms();
    double meanNew = (norms[4] + norms[5] + norms[6]) / 3;

    assertThat(meanNew)
        .as("after WA the new rows' mean norm equals the old rows'")
        .isCloseTo(aligned.alignment().meanOldNorm(), within(1e-5));
  }

  @Test
  void noneModeMeasuresButKeepsTheHead() {
    ClassifierHead h = WaFixtures.head(1);

    WeightAligner.Aligned none = WeightAligner.apply(h, 4, AlignMode.NONE);

    assertThat(none.head()).as("align=none keeps the rows").isSameAs(h);
    assertThat(none.alignment().applied()).as("not applied").isFalse();
    assertThat(none.alignment().gamma()).as("γ still reported").isCloseTo(0.75817, within(1e-4));
  }

  @Test
  void refusesWithoutOldOrNewRows() {
    ClassifierHead h = WaFixtures.head(1);

    assertThatThrownBy(() -> WeightAligner.measure(h, 0))
        .as("no old row")
        .hasMessageContaining("0 old of 7");
    assertThatThrownBy(() -> WeightAligner.measure(h, 7))
        .as("no new row")
        .hasMessageContaining("7 old of 7");
  }

  @Test
  void refusesAllZeroNewRows() {
    ClassifierHead h =
        ClassifierHead.ofRows(List.of("a", "b"), new float[][] {{1}, {0}}, new float[2]);

    assertThatThrownBy(() -> WeightAligner.align(h, 1))
        .as("γ would be infinite")
        .hasMessageContaining("all zero");
  }

  @Test
  void parsesAlignModes() {
    assertThat(AlignMode.parse(null)).as("default").isEqualTo(AlignMode.WA);
    assertThat(AlignMode.parse("None")).as("case-insensitive").isEqualTo(AlignMode.NONE);
    assertThatThrownBy(() -> AlignMode.parse("bic")).as("unknown").hasMessageContaining("'bic'");
  }
}
