package dev.graft.onnx.ofq;

/**
 * What packing does with one MatMul/Gemm weight, and why.
 *
 * @param layer the layer name
 * @param tensor the weight's tensor name
 * @param op the operator using it ({@code MatMul}, {@code Gemm})
 * @param shape the weight's shape as stored, e.g. {@code [96, 288]}
 * @param action pack it, leave it as it is, or refuse the whole model because of it
 * @param reason a sentence for the user (empty for a clean pack)
 * @param rows output rows
 * @param fitRows rows found exactly on StatsQ levels
 * @param requantizedRows rows re-quantised post-training ({@code --allow-requantize})
 */
public record LayerVerdict(
    String layer,
    String tensor,
    String op,
    String shape,
    Action action,
    String reason,
    int rows,
    int fitRows,
    int requantizedRows) {

  /** What happens to the weight. */
  public enum Action {
    PACK,
    SKIP,
    REFUSE
  }
}
