package dev.graft.onnx.head;

import dev.graft.onnx.GraftException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One class-incremental step: the current head plus a step's input gives the next head.
 *
 * <p>The input is either
 *
 * <ul>
 *   <li>a <b>full head</b> ({@link Input#FULL_HEAD}): the step's retrained head, whose first labels
 *       are exactly the current head's labels in the same order, followed by the new classes. Its
 *       old rows replace the current ones (they were retrained in the step, starting from the
 *       current head), or
 *   <li><b>only new rows</b> ({@link Input#NEW_ROWS}): labels none of which the current head has;
 *       they are appended to the current head's rows.
 * </ul>
 *
 * Rows {@code [0, current.classes())} of the combined head are old, the rest new; {@link
 * WeightAligner} then scales the new rows (or only measures γ, for {@link AlignMode#NONE}). The
 * aligned result is the current head of the next step. Stateless; the inputs are never modified.
 */
public final class IncrementalStep {
  private IncrementalStep() {}

  /** What the step's input held. */
  public enum Input {
    FULL_HEAD,
    NEW_ROWS
  }

  /**
   * The outcome of a step.
   *
   * @param head the next head
   * @param input how the input was read
   * @param oldClasses number of old rows (the current head's classes)
   * @param newClasses number of rows the step added
   * @param alignment γ and whether it was applied
   * @param normsBefore row norms of the combined head before alignment
   * @param normsAfter row norms of {@code head}
   */
  public record Result(
      ClassifierHead head,
      Input input,
      int oldClasses,
      int newClasses,
      Alignment alignment,
      List<Double> normsBefore,
      List<Double> normsAfter) {

    public Result {
      normsBefore = List.copyOf(normsBefore);
      normsAfter = List.copyOf(normsAfter);
    }

    /** The labels the step added, in row order. */
    public List<String> newLabels() {
      return head.labels().subList(oldClasses, head.classes());
    }
  }

  /**
   * Applies a step.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} for another feature dimension, a full head
   *     whose old labels are not the current labels in order, no new class, or new rows that are
   *     all zero under {@link AlignMode#WA}; {@code ALREADY_EXISTS} when a new-rows input repeats a
   *     label the head already has
   */
  public static Result apply(ClassifierHead current, ClassifierHead incoming, AlignMode mode) {
    if (incoming.featureDim() != current.featureDim()) {
      throw GraftException.invalid(
          "the rows have %d features but the head takes %d",
          incoming.featureDim(), current.featureDim());
    }
    Input input = classify(current.labels(), incoming.labels());
    ClassifierHead combined = input == Input.FULL_HEAD ? incoming : current.append(incoming);
    int old = current.classes();
    WeightAligner.Aligned aligned = WeightAligner.apply(combined, old, mode);
    return new Result(
        aligned.head(),
        input,
        old,
        combined.classes() - old,
        aligned.alignment(),
        boxed(combined.rowNorms()),
        boxed(aligned.head().rowNorms()));
  }

  private static Input classify(List<String> current, List<String> incoming) {
    int k = current.size();
    if (incoming.size() > k && incoming.subList(0, k).equals(current)) {
      return Input.FULL_HEAD;
    }
    Set<String> have = new HashSet<>(current);
    List<String> present = incoming.stream().filter(have::contains).toList();
    if (present.isEmpty()) {
      return Input.NEW_ROWS;
    }
    if (present.size() == incoming.size() && incoming.size() == k) {
      throw GraftException.invalid(
          "no new class: the input has exactly the head's labels %s", current);
    }
    if (incoming.size() > k && new HashSet<>(incoming.subList(0, k)).equals(have)) {
      throw GraftException.invalid(
          "a full head must list the head's labels first in the same order %s; got %s",
          current, incoming.subList(0, k));
    }
    throw new GraftException(
        GraftException.Code.ALREADY_EXISTS,
        String.format(
            "label%s %s already in the head %s (send only new rows, or the full head with the"
                + " head's labels first in order)",
            present.size() == 1 ? "" : "s", present, current));
  }

  private static List<Double> boxed(double[] values) {
    return Arrays.stream(values).boxed().toList();
  }
}
