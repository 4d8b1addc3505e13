package dev.graft.onnx.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.graft.onnx.GraftException;
import java.util.List;
import org.junit.jupiter.api.Test;

class IncrementalStepTest {

  @Test
  void fullHeadReplacesOldRowsWithTheRetrainedOnes() {
    ClassifierHead task0 = WaFixtures.head(0);
    ClassifierHead task1 = WaFixtures.head(1);

    IncrementalStep.Result r = IncrementalStep.apply(task0, task1, AlignMode.WA);

    assertThat(r.input())
        .as("labels 0-3 first, in order")
        .isEqualTo(IncrementalStep.Input.FULL_HEAD);
    assertThat(r.head().slice(0, 4))
        .as("old rows as retrained in step 1")
        .isEqualTo(task1.slice(0, 4));
    assertThat(r.alignment().gamma()).as("γ of step 1").isCloseTo(0.75817, within(1e-4));
    assertThat(r.newLabels()).as("new classes").containsExactly("4", "5", "6");
    assertThat(r.normsBefore().get(6))
        .as("norm of class 6 before WA")
        .isCloseTo(8.3814, within(1e-4));
    assertThat(r.normsAfter().get(6))
        .as("norm of class 6 after WA")
        .isCloseTo(8.3814 * 0.75817, within(1e-3));
  }

  @Test
  void stepTwoOnTheAlignedHeadUsesTheFilesOldRows() {
    ClassifierHead aligned1 =
        IncrementalStep.apply(WaFixtures.head(0), WaFixtures.head(1), AlignMode.WA).head();

    IncrementalStep.Result r = IncrementalStep.apply(aligned1, WaFixtures.head(2), AlignMode.WA);

    assertThat(r.oldClasses()).as("classes 0-6 are old in step 2").isEqualTo(7);
    assertThat(r.alignment().gamma()).as("γ of step 2").isCloseTo(0.70734, within(1e-4));
  }

  @Test
  void newRowsAreAppendedToTheCurrentHead() {
    ClassifierHead current = WaFixtures.head(1);
    ClassifierHead newRows = WaFixtures.head(2).slice(7, 10);

    IncrementalStep.Result r = IncrementalStep.apply(current, newRows, AlignMode.NONE);

    assertThat(r.input()).as("labels 7-9 are all new").isEqualTo(IncrementalStep.Input.NEW_ROWS);
    assertThat(r.head().slice(0, 7)).as("current rows kept").isEqualTo(current);
    assertThat(r.head().slice(7, 10)).as("new rows appended, unscaled").isEqualTo(newRows);
    assertThat(r.alignment().applied()).as("align=none").isFalse();
  }

  @Test
  void refusesAnotherFeatureDimension() {
    ClassifierHead other =
        ClassifierHead.ofRows(List.of("x"), new float[][] {{1, 2}}, new float[1]);

    assertThatThrownBy(() -> IncrementalStep.apply(WaFixtures.head(0), other, AlignMode.WA))
        .as("2 features for a 64-feature head")
        .hasMessageContaining("2 features but the head takes 64");
  }

  @Test
  void refusesALabelAlreadyPresent() {
    ClassifierHead rows = WaFixtures.head(1).slice(3, 7); // labels 3..6, "3" already present

    assertThatThrownBy(() -> IncrementalStep.apply(WaFixtures.head(0), rows, AlignMode.WA))
        .as("label 3 is in the head")
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.ALREADY_EXISTS))
        .hasMessageContaining("[3] already in the head");
  }

  @Test
  void refusesAFullHeadWithOldLabelsReordered() {
    ClassifierHead t1 = WaFixtures.head(1);
    ClassifierHead reordered = t1.slice(1, 2).append(t1.slice(0, 1)).append(t1.slice(2, 7));

    assertThatThrownBy(() -> IncrementalStep.apply(WaFixtures.head(0), reordered, AlignMode.WA))
        .as("old rows must keep their order")
        .hasMessageContaining("same order");
  }

  @Test
  void refusesAStepWithoutNewClasses() {
    assertThatThrownBy(
            () -> IncrementalStep.apply(WaFixtures.head(0), WaFixtures.head(0), AlignMode.WA))
        .as("same labels")
        .hasMessageContaining("no new class");
  }
}
