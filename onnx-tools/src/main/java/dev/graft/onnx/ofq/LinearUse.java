package dev.graft.onnx.ofq;

import dev.graft.onnx.proto.NodeProto;

/**
 * A MatMul or Gemm node whose right operand is a constant weight: {@code output = input · W (+
 * bias)}.
 *
 * @param node the node as it is in the graph
 * @param index the node's position in the graph's node list
 * @param weightOutIn true when the weight is stored {@code [out, in]} (Gemm with {@code transB=1}),
 *     false for {@code [in, out]} (MatMul, Gemm with {@code transB=0})
 * @param bias Gemm's third input, or {@code null}
 */
record LinearUse(NodeProto node, int index, boolean weightOutIn, String bias) {
  /** The node's name (may be empty). */
  String nodeName() {
    return node.getName();
  }

  String input() {
    return node.getInput(0);
  }

  String weight() {
    return node.getInput(1);
  }

  String output() {
    return node.getOutput(0);
  }

  boolean isGemm() {
    return node.getOpType().equals("Gemm");
  }
}
