package dev.graft.plugin.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.head.AlignMode;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.onnx.head.IncrementalStep;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class ModelHeadTest {
  private static ModelHead head(int history) {
    return ModelHead.of(
        "m",
        new HeadSettings("digits", "features", "head-task0.safetensors", "logits", history),
        WaFixtures.head(0));
  }

  private static ModelHead head() {
    return head(32);
  }

  @Test
  void theInitialHeadIsVersionOne() {
    HeadVersion v = head().current();

    assertThat(v.version()).as("first version").isEqualTo(1);
    assertThat(v.parent()).as("no parent").isZero();
    assertThat(v.step()).as("no step made it").isEmpty();
    assertThat(v.tag()).isEqualTo("head:digits@v1");
  }

  @Test
  void addingClassesPublishesTheAlignedHeadAsTheNextVersion() {
    ModelHead head = head();

    HeadVersion v = head.addClasses(WaFixtures.head(1), AlignMode.WA);

    assertThat(head.current()).as("the new version is current").isSameAs(v);
    assertThat(v.version()).isEqualTo(2);
    assertThat(v.parent()).isEqualTo(1);
    assertThat(v.classifier())
        .as("the same head the offline library computes")
        .isEqualTo(
            IncrementalStep.apply(WaFixtures.head(0), WaFixtures.head(1), AlignMode.WA).head());
    HeadStep step = v.step().orElseThrow();
    assertThat(step.alignment().gamma())
        .as("γ of step 1")
        .isCloseTo(WaFixtures.GAMMA_1, within(1e-4));
    assertThat(step.oldLabels()).containsExactly("0", "1", "2", "3");
    assertThat(step.newLabels()).containsExactly("4", "5", "6");
    assertThat(step.input()).isEqualTo(IncrementalStep.Input.FULL_HEAD);
  }

  @Test
  void alignNoneKeepsTheRowsButReportsGamma() {
    HeadVersion v = head().addClasses(WaFixtures.head(1), AlignMode.NONE);

    assertThat(v.classifier()).as("rows as sent").isEqualTo(WaFixtures.head(1));
    assertThat(v.step().orElseThrow().alignment().applied()).isFalse();
    assertThat(v.step().orElseThrow().alignment().gamma())
        .as("γ is measured even when not applied")
        .isCloseTo(WaFixtures.GAMMA_1, within(1e-4));
  }

  @Test
  void refusedChangesLeaveTheHeadAsItWas() {
    ModelHead head = head();
    HeadVersion before = head.current();
    ClassifierHead otherDim =
        ClassifierHead.ofRows(List.of("x"), new float[][] {{1f, 2f}}, new float[1]);
    ClassifierHead zeroRows =
        ClassifierHead.ofRows(List.of("x"), new float[][] {new float[64]}, new float[1]);

    for (ClassifierHead bad : List.of(otherDim, zeroRows, WaFixtures.head(0))) {
      assertThatThrownBy(() -> head.addClasses(bad, AlignMode.WA))
          .as("refused: %s", bad)
          .isInstanceOf(GraftException.class);
    }

    assertThat(head.current()).as("still the initial version").isSameAs(before);
    assertThat(head.history()).as("nothing recorded").containsExactly(before);
  }

  @Test
  void aLabelAlreadyPresentIsAConflict() {
    ModelHead head = head();
    ClassifierHead rows = WaFixtures.head(1).slice(3, 7); // "3" is in the head already

    assertThatThrownBy(() -> head.addClasses(rows, AlignMode.WA))
        .as("label 3 exists")
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.ALREADY_EXISTS));
    assertThat(head.current().version()).isEqualTo(1);
  }

  @Test
  void newRowsAloneAreAppended() {
    ModelHead head = head();
    ClassifierHead rows = WaFixtures.head(1).slice(4, 7);

    HeadVersion v = head.addClasses(rows, AlignMode.NONE);

    assertThat(v.classifier().labels()).containsExactly("0", "1", "2", "3", "4", "5", "6");
    assertThat(v.classifier().slice(0, 4)).as("old rows kept").isEqualTo(WaFixtures.head(0));
    assertThat(v.step().orElseThrow().input()).isEqualTo(IncrementalStep.Input.NEW_ROWS);
  }

  @Test
  void rollbackMakesTheParentCurrentAgainWithItsNumber() {
    ModelHead head = head();
    HeadVersion v1 = head.current();
    HeadVersion v2 = head.addClasses(WaFixtures.head(1), AlignMode.WA);

    ModelHead.Rollback r = head.rollback();

    assertThat(r.from()).isSameAs(v2);
    assertThat(r.to()).as("the very same snapshot").isSameAs(v1);
    assertThat(head.current()).isSameAs(v1);
  }

  @Test
  void rollbackAtTheInitialVersionIsRefused() {
    ModelHead head = head();

    assertThatThrownBy(head::rollback)
        .as("v1 has no parent")
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.FAILED_PRECONDITION))
        .hasMessageContaining("nothing to roll back to");
  }

  @Test
  void versionNumbersAreNeverReused() {
    ModelHead head = head();
    head.addClasses(WaFixtures.head(1), AlignMode.WA);
    head.rollback();

    HeadVersion again = head.addClasses(WaFixtures.head(1), AlignMode.NONE);

    assertThat(again.version())
        .as("v2 named other weights: the next change is v3, so a tag names one set of weights")
        .isEqualTo(3);
    assertThat(again.parent()).isEqualTo(1);
  }

  @Test
  void historyKeepsTheLastVersions() {
    ModelHead head = head(2);
    HeadVersion v2 = head.addClasses(WaFixtures.head(1), AlignMode.WA);
    HeadVersion v3 = head.addClasses(WaFixtures.head(2), AlignMode.WA);

    assertThat(head.history()).as("history=2 keeps two").containsExactly(v2, v3);
    assertThat(head.rollback().to()).isSameAs(v2);
    assertThatThrownBy(head::rollback)
        .as("v1 was evicted")
        .hasMessageContaining("v1, the parent of v2, is no longer kept");
  }

  @Test
  void evictionDropsAbandonedBranchesBeforeTheCurrentLineage() {
    ModelHead head = head(3);
    HeadVersion v1 = head.current();
    ClassifierHead newRows = WaFixtures.head(1).slice(4, 7);
    for (int i = 0; i < 2; i++) { // v2 and v3: branches off v1, abandoned by rollbacks
      head.addClasses(newRows, AlignMode.WA);
      head.rollback();
    }
    HeadVersion v4 = head.addClasses(WaFixtures.head(1), AlignMode.WA);

    HeadVersion v5 = head.addClasses(WaFixtures.head(2), AlignMode.WA);

    assertThat(head.history())
        .as("v2 and v3 go first: v5 descends from v4 and v1")
        .containsExactly(v1, v4, v5);
    assertThat(head.rollback().to()).isSameAs(v4);
    assertThat(head.rollback().to()).as("two steps back, as history=3 allows").isSameAs(v1);
  }

  @Test
  void lineageListsTheStepsThatMadeAVersion() {
    ModelHead head = head();
    head.addClasses(WaFixtures.head(1), AlignMode.WA);
    HeadVersion v3 = head.addClasses(WaFixtures.head(2), AlignMode.WA);

    List<HeadVersion> lineage = head.lineage(v3);

    assertThat(lineage).extracting(HeadVersion::version).containsExactly(1, 2, 3);
    assertThat(lineage.get(2).step().orElseThrow().alignment().gamma())
        .as("γ of step 2, from the aligned step-1 head")
        .isCloseTo(WaFixtures.GAMMA_2, within(1e-4));
  }

  @Test
  void theJournalRecordsTheHistoryBeforeItGoesLive() {
    ModelHead head = head();
    List<String> seen = new ArrayList<>();
    head.useJournal(
        new ModelHead.Journal() {
          @Override
          public <T> T change(Function<Consumer<HeadHistory>, T> change) {
            return change.apply(
                next ->
                    seen.add(
                        "recorded v"
                            + next.current().version()
                            + " while v"
                            + head.current().version()
                            + " is live"));
          }
        });

    head.addClasses(WaFixtures.head(1), AlignMode.WA);
    head.rollback();

    assertThat(seen)
        .containsExactly("recorded v2 while v1 is live", "recorded v1 while v2 is live");
  }

  @Test
  void aJournalThatCannotRecordLeavesTheHeadAsItWas() {
    ModelHead head = head();
    head.addClasses(WaFixtures.head(1), AlignMode.WA);
    HeadHistory before = head.state();
    head.useJournal(
        new ModelHead.Journal() {
          @Override
          public <T> T change(Function<Consumer<HeadHistory>, T> change) {
            return change.apply(
                next -> {
                  throw new GraftException(GraftException.Code.INTERNAL, "disk full");
                });
          }
        });

    assertThatThrownBy(() -> head.addClasses(WaFixtures.head(2), AlignMode.WA))
        .hasMessageContaining("disk full");
    assertThatThrownBy(head::rollback).hasMessageContaining("disk full");

    assertThat(head.state()).as("same versions, same current, same last number").isSameAs(before);
  }
}
