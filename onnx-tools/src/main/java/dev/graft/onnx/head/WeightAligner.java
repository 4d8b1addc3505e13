package dev.graft.onnx.head;

import dev.graft.onnx.GraftException;

/**
 * Weight Aligning (Zhao et al., CVPR 2020) on a classifier head whose first rows are the old
 * classes and whose last rows are the classes of the current step: γ = mean‖W_old rows‖ /
 * mean‖W_new rows‖, W_new ← γ·W_new; the bias is untouched. Norms and γ are computed in double.
 * Stateless.
 */
public final class WeightAligner {
  private WeightAligner() {}

  /** A head after a step, with the measurement that produced it. */
  public record Aligned(ClassifierHead head, Alignment alignment) {}

  /**
   * Measures γ for a head whose first {@code oldClasses} rows are old.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} when there is no old or no new row, or when the
   *     new rows are all zero (γ would be infinite)
   */
  public static Alignment measure(ClassifierHead head, int oldClasses) {
    if (oldClasses < 1 || oldClasses >= head.classes()) {
      throw GraftException.invalid(
          "weight aligning needs at least one old and one new class: %d old of %d classes",
          oldClasses, head.classes());
    }
    double[] norms = head.rowNorms();
    double oldSum = 0;
    for (int i = 0; i < oldClasses; i++) {
      oldSum += norms[i];
    }
    double newSum = 0;
    for (int i = oldClasses; i < norms.length; i++) {
      newSum += norms[i];
    }
    double meanOld = oldSum / oldClasses;
    double meanNew = newSum / (norms.length - oldClasses);
    if (meanNew == 0) {
      throw GraftException.invalid(
          "the new classes' weight rows are all zero: weight aligning cannot scale them");
    }
    return new Alignment(oldClasses, meanOld, meanNew, meanOld / meanNew, false);
  }

  /** Scales the new rows of {@code head} (rows from {@code oldClasses} on) by γ. */
  public static Aligned align(ClassifierHead head, int oldClasses) {
    Alignment a = measure(head, oldClasses);
    Alignment applied =
        new Alignment(a.oldClasses(), a.meanOldNorm(), a.meanNewNorm(), a.gamma(), true);
    return new Aligned(head.scaleRowsFrom(oldClasses, a.gamma()), applied);
  }

  /**
   * {@link #align} for {@link AlignMode#WA}; for {@link AlignMode#NONE} the head unchanged, γ
   * measured.
   */
  public static Aligned apply(ClassifierHead head, int oldClasses, AlignMode mode) {
    return mode == AlignMode.WA
        ? align(head, oldClasses)
        : new Aligned(head, measure(head, oldClasses));
  }
}
