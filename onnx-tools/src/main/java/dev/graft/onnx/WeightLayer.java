package dev.graft.onnx;

/**
 * A weight-bearing layer of a graph (Conv, ConvTranspose, Gemm, or MatMul with a constant operand).
 *
 * @param name the layer's name: the weight name without its {@code .weight} suffix when it has one,
 *     else the node name
 * @param opType the ONNX operator
 * @param nodeName the node's name (may be empty)
 * @param weight the initializer (or Constant output) holding the weight
 * @param bias the bias tensor's name, or {@code null} when the layer has none
 */
public record WeightLayer(String name, String opType, String nodeName, String weight, String bias) {

  /** The weight and, when present, the bias name, in that order. */
  public java.util.List<String> tensorNames() {
    return bias == null ? java.util.List.of(weight) : java.util.List.of(weight, bias);
  }
}
