package dev.graft.onnx.eval;

/**
 * How two classifiers' logits on the same images compare.
 *
 * @param images number of images
 * @param agreement share of images whose top-1 class is the same
 * @param maxDiff largest absolute logit difference
 * @param meanDiff mean absolute logit difference
 * @param accuracyA top-1 accuracy of the first, NaN without labels
 * @param accuracyB top-1 accuracy of the second, NaN without labels
 */
public record Comparison(
    int images,
    double agreement,
    double maxDiff,
    double meanDiff,
    double accuracyA,
    double accuracyB) {

  /**
   * Compares logits row by row.
   *
   * @param labels true classes, or {@code null}
   */
  public static Comparison of(float[][] a, float[][] b, int[] labels) {
    if (a.length != b.length) {
      throw new IllegalArgumentException(a.length + " rows of logits against " + b.length);
    }
    int same = 0;
    double max = 0;
    double sum = 0;
    long count = 0;
    for (int i = 0; i < a.length; i++) {
      if (OrtClassifier.argmax(a[i]) == OrtClassifier.argmax(b[i])) {
        same++;
      }
      for (int j = 0; j < a[i].length; j++) {
        double d = Math.abs((double) a[i][j] - b[i][j]);
        max = Math.max(max, d);
        sum += d;
        count++;
      }
    }
    double accA = labels == null ? Double.NaN : OrtClassifier.accuracy(a, labels);
    double accB = labels == null ? Double.NaN : OrtClassifier.accuracy(b, labels);
    return new Comparison(
        a.length,
        a.length == 0 ? 1 : (double) same / a.length,
        max,
        count == 0 ? 0 : sum / count,
        accA,
        accB);
  }

  /** Images whose top-1 class differs. */
  public int disagreements() {
    return (int) Math.round(images * (1 - agreement));
  }
}
