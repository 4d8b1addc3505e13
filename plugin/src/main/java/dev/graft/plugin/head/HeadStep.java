package dev.graft.plugin.head;

import dev.graft.onnx.head.AlignMode;
import dev.graft.onnx.head.Alignment;
import dev.graft.onnx.head.IncrementalStep;
import java.util.List;

/**
 * How a head version was made from its parent: one class-incremental step. Immutable.
 *
 * @param input whether the request carried the full retrained head or only the new rows
 * @param mode the requested alignment
 * @param oldLabels the parent's labels (rows {@code [0, oldLabels.size())})
 * @param newLabels the labels the step added, in row order
 * @param alignment γ, the mean norms, and whether γ was applied
 * @param normsBefore every row's weight norm before alignment
 * @param normsAfter every row's weight norm in the new version
 */
public record HeadStep(
    IncrementalStep.Input input,
    AlignMode mode,
    List<String> oldLabels,
    List<String> newLabels,
    Alignment alignment,
    List<Double> normsBefore,
    List<Double> normsAfter) {

  public HeadStep {
    oldLabels = List.copyOf(oldLabels);
    newLabels = List.copyOf(newLabels);
    normsBefore = List.copyOf(normsBefore);
    normsAfter = List.copyOf(normsAfter);
  }

  /** The step recorded from the outcome of {@link IncrementalStep#apply}. */
  static HeadStep of(IncrementalStep.Result result, AlignMode mode) {
    List<String> labels = result.head().labels();
    return new HeadStep(
        result.input(),
        mode,
        labels.subList(0, result.oldClasses()),
        result.newLabels(),
        result.alignment(),
        result.normsBefore(),
        result.normsAfter());
  }
}
