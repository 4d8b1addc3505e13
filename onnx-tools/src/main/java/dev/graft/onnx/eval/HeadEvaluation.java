package dev.graft.onnx.eval;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.head.ClassifierHead;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Top-1 accuracy of a classifier head on backbone features, over the test images whose label the
 * head knows (a head's label is matched to an integer class by its decimal text, as in the
 * fixtures' heads {@code "0"…"9"}).
 *
 * @param accuracy share of the counted images whose top-1 label is the true one
 * @param images number of images counted (those whose class is among the head's labels)
 * @param predictedNewShare share of counted images predicted as one of the classes from row {@code
 *     oldClasses} on
 * @param trueNewShare share of counted images that belong to those classes
 */
public record HeadEvaluation(
    double accuracy, int images, double predictedNewShare, double trueNewShare) {

  /**
   * Evaluates {@code head} on {@code features} ({@code [N][D]}, one row per image) against integer
   * labels.
   *
   * @param oldClasses rows {@code [oldClasses, C)} count as new for the shares (0: all new)
   * @throws GraftException {@code INVALID_ARGUMENT} when the counts differ or no image has a known
   *     class
   */
  public static HeadEvaluation of(
      float[][] features, int[] labels, ClassifierHead head, int oldClasses) {
    if (features.length != labels.length) {
      throw GraftException.invalid("%d feature rows for %d labels", features.length, labels.length);
    }
    Map<Integer, Integer> rowOfClass = rowsByClass(head.labels());
    int d = head.featureDim();
    int counted = 0;
    int correct = 0;
    int predictedNew = 0;
    int trueNew = 0;
    for (int i = 0; i < features.length; i++) {
      Integer truth = rowOfClass.get(labels[i]);
      if (truth == null) {
        continue;
      }
      if (features[i].length != d) {
        throw GraftException.invalid(
            "feature row %d has %d values, the head takes %d", i, features[i].length, d);
      }
      int predicted = OrtClassifier.argmax(head.logits(features[i], 1));
      counted++;
      correct += predicted == truth ? 1 : 0;
      predictedNew += predicted >= oldClasses ? 1 : 0;
      trueNew += truth >= oldClasses ? 1 : 0;
    }
    if (counted == 0) {
      throw GraftException.invalid("no test image belongs to the head's classes %s", head.labels());
    }
    return new HeadEvaluation(
        (double) correct / counted,
        counted,
        (double) predictedNew / counted,
        (double) trueNew / counted);
  }

  private static Map<Integer, Integer> rowsByClass(List<String> headLabels) {
    Map<Integer, Integer> rows = new HashMap<>();
    for (int i = 0; i < headLabels.size(); i++) {
      try {
        rows.put(Integer.parseInt(headLabels.get(i)), i);
      } catch (NumberFormatException e) {
        throw GraftException.invalid(
            "head label '%s' is not an integer class of the test set", headLabels.get(i));
      }
    }
    return rows;
  }
}
