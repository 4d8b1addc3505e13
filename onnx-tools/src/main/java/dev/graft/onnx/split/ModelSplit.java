package dev.graft.onnx.split;

import dev.graft.onnx.OnnxModel;
import java.util.List;
import java.util.Set;

/**
 * A model cut in two: the stem computes the cut tensors from the graph inputs; the body computes
 * the original outputs from the cut tensors (and from the graph inputs it reads directly). Running
 * the stem, then the body on its outputs, gives the original model's outputs. Immutable.
 *
 * @param cut the tensors that cross, in the stem's output order
 * @param stem a model whose inputs are the graph inputs it needs and whose outputs are the cut
 *     tensors, typed
 * @param body a model whose inputs are the cut tensors, then the {@code passThrough} inputs, and
 *     whose outputs are the original outputs
 * @param passThrough graph inputs the body reads directly, in graph order
 * @param stemTensors constant tensors (initializers and Constant node outputs) the stem reads
 * @param bodyTensors constant tensors the body reads; those also in {@code stemTensors} are copied
 *     into both models
 * @param duplicatedNodes nodes that both parts compute (constant folding chains, shape arithmetic
 *     on graph inputs); no weight layer is ever duplicated
 */
public record ModelSplit(
    GraphCut cut,
    OnnxModel stem,
    OnnxModel body,
    List<String> passThrough,
    Set<String> stemTensors,
    Set<String> bodyTensors,
    int duplicatedNodes) {

  public ModelSplit {
    passThrough = List.copyOf(passThrough);
    stemTensors = Set.copyOf(stemTensors);
    bodyTensors = Set.copyOf(bodyTensors);
  }

  /** Whether a constant tensor is read by the stem only: replacing it needs a new stem only. */
  public boolean stemOnly(String tensor) {
    return stemTensors.contains(tensor) && !bodyTensors.contains(tensor);
  }
}
