package dev.graft.onnx.head;

/**
 * The Weight Aligning measurement of one step.
 *
 * @param oldClasses rows {@code [0, oldClasses)} are old, the rest are new
 * @param meanOldNorm mean Euclidean norm of the old weight rows
 * @param meanNewNorm mean Euclidean norm of the new weight rows (before any scaling)
 * @param gamma {@code meanOldNorm / meanNewNorm}, reported whether or not it was applied
 * @param applied whether the new rows were multiplied by {@code gamma}
 */
public record Alignment(
    int oldClasses, double meanOldNorm, double meanNewNorm, double gamma, boolean applied) {

  /** The factor the new rows were actually multiplied by: {@code gamma} if applied, else 1. */
  public double appliedFactor() {
    return applied ? gamma : 1.0;
  }
}
