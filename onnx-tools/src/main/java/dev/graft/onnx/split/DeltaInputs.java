package dev.graft.onnx.split;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.build.Protos;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.NodeProto;
import dev.graft.onnx.proto.TensorProto;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites a model so that some of its float32 initializers are patched at run time by two extra
 * graph inputs: {@code W' = W + table[index]}, element by element, where {@code index} (uint8, the
 * shape of {@code W}) picks one of at most 256 float32 values of {@code table} (shape {@code [k]}).
 * Every node that read {@code W} reads {@code W'} instead.
 *
 * <p>One session of the rewritten graph serves every weight variant whose changes have this form: a
 * variant is then one byte per patched weight fed at each run, not a session and a float32 copy.
 * The nodes are {@code Cast(index, to=INT32)}, {@code Gather(table, ·)} and {@code Add(W, ·)}: the
 * addition is one IEEE float32 operation, so {@code W'} has exactly the bits that {@code W +
 * table[index]} has in Java. Feeding {@code index} of zeros and {@code table = [-0.0]} gives {@code
 * W} bit for bit ({@code x + -0.0 == x} for every {@code x}). Because the patched weights are no
 * longer constants, ONNX Runtime runs their MatMul and Conv without pre-packed weights and without
 * the fusions that need constant weights: outputs then match a model holding {@code W'} as an
 * initializer within float rounding, not always bit for bit.
 *
 * <p>Stateless and thread safe.
 */
public final class DeltaInputs {
  private static final String INDEX = ".graft_delta_index";
  private static final String TABLE = ".graft_delta_table";

  private DeltaInputs() {}

  /** The uint8 input that selects each element's delta of {@code tensor}. */
  public static String indexInput(String tensor) {
    return tensor + INDEX;
  }

  /** The float32 input holding the deltas {@code tensor}'s index selects from. */
  public static String tableInput(String tensor) {
    return tensor + TABLE;
  }

  /**
   * Adds the delta inputs for {@code tensors} to {@code model}.
   *
   * @throws GraftException {@code NOT_FOUND} for a name that is not an initializer of the model,
   *     {@code INVALID_ARGUMENT} for one that is not float32 or that a subgraph reads
   */
  public static OnnxModel add(OnnxModel model, Collection<String> tensors) {
    GraphProto graph = model.proto().getGraph();
    Set<String> names = new LinkedHashSet<>(tensors);
    Map<String, List<NodeProto>> patching = new LinkedHashMap<>();
    GraphProto.Builder b = graph.toBuilder();
    for (String name : names) {
      TensorProto t =
          model
              .tensor(name)
              .orElseThrow(
                  () -> GraftException.notFound("%s: no initializer %s", model.source(), name));
      if (t.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
        throw GraftException.invalid(
            "%s: initializer %s is not float32 (data type %d)",
            model.source(), name, t.getDataType());
      }
      Object[] dims = t.getDimsList().stream().map(d -> (Object) d).toArray();
      b.addInput(Protos.tensorInfo(indexInput(name), TensorProto.DataType.UINT8_VALUE, dims));
      b.addInput(
          Protos.tensorInfo(
              tableInput(name), TensorProto.DataType.FLOAT_VALUE, name + INDEX + "_levels"));
      String wide = name + ".graft_delta_index32";
      String delta = name + ".graft_delta";
      List<NodeProto> chain = new ArrayList<>();
      patching.put(name, chain);
      chain.add(
          NodeProto.newBuilder()
              .setOpType("Cast")
              .setName(wide)
              .addInput(indexInput(name))
              .addOutput(wide)
              .addAttribute(Protos.attr("to", (long) TensorProto.DataType.INT32_VALUE))
              .build());
      chain.add(
          NodeProto.newBuilder()
              .setOpType("Gather")
              .setName(delta)
              .addInput(tableInput(name))
              .addInput(wide)
              .addOutput(delta)
              .addAttribute(Protos.attr("axis", 0L))
              .build());
      chain.add(
          NodeProto.newBuilder()
              .setOpType("Add")
              .setName(patched(name))
              .addInput(name)
              .addInput(delta)
              .addOutput(patched(name))
              .build());
    }
    // each patch chain goes right before the first node that reads its tensor, so that a patched
    // weight is computed when it is needed rather than all of them first
    List<NodeProto> nodes = new ArrayList<>();
    for (NodeProto node : graph.getNodeList()) {
      if (node.getAttributeList().stream().anyMatch(a -> a.hasG() || a.getGraphsCount() > 0)) {
        // a subgraph may read an initializer from the outer scope, where no input names it
        throw GraftException.invalid(
            "%s: node %s has a subgraph; the model cannot take delta inputs",
            model.source(), node.getName());
      }
      NodeProto.Builder nb = node.toBuilder();
      for (int k = 0; k < nb.getInputCount(); k++) {
        String in = nb.getInput(k);
        if (names.contains(in)) {
          List<NodeProto> chain = patching.remove(in);
          if (chain != null) {
            nodes.addAll(chain);
          }
          nb.setInput(k, patched(in));
        }
      }
      nodes.add(nb.build());
    }
    patching.values().forEach(nodes::addAll); // tensors no node reads
    b.clearNode().addAllNode(nodes);
    return OnnxModel.of(
        model.proto().toBuilder().setGraph(b).build(), model.baseDir(), model.source());
  }

  private static String patched(String tensor) {
    return tensor + ".graft_patched";
  }
}
