package dev.graft.onnx.build;

import dev.graft.onnx.proto.AttributeProto;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.ModelProto;
import dev.graft.onnx.proto.NodeProto;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.onnx.proto.ValueInfoProto;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Makes a model file smaller without changing what it computes or any initializer: {@code Constant}
 * nodes holding a tensor become initializers of the same name (what ONNX Runtime does at load
 * anyway), and intermediate values (outputs of nodes that are not graph outputs) get short names.
 * Node names, graph inputs and outputs, and initializers keep theirs. Exporters' value names such
 * as {@code /blocks.0/attn/Add_2_output_0} are a tenth of a small model's file.
 *
 * <p>Values are not renamed in graphs with subgraphs (If, Loop, Scan), whose bodies may refer to
 * outer values by name; names containing {@code keep} are never renamed.
 */
public final class Compaction {
  private Compaction() {}

  /**
   * What compaction did.
   *
   * @param model the compacted model
   * @param constantsMoved {@code Constant} nodes turned into initializers
   * @param valuesRenamed intermediate values given short names
   * @param bytesSaved serialized size before minus after
   */
  public record Result(ModelProto model, int constantsMoved, int valuesRenamed, long bytesSaved) {}

  public static Result compact(ModelProto model, String keep) {
    GraphProto g = model.getGraph();
    GraphProto.Builder out = g.toBuilder().clearNode();
    int moved = 0;
    for (NodeProto n : g.getNodeList()) {
      TensorProto value = constantValue(n);
      if (value != null) {
        out.addInitializer(value.toBuilder().setName(n.getOutput(0)));
        moved++;
      } else {
        out.addNode(n);
      }
    }
    int renamed = hasSubgraph(g) ? 0 : renameValues(out, keep);
    ModelProto compacted = model.toBuilder().setGraph(out).build();
    return new Result(
        compacted,
        moved,
        renamed,
        (long) model.getSerializedSize() - compacted.getSerializedSize());
  }

  private static int renameValues(GraphProto.Builder g, String keep) {
    Set<String> fixed = new HashSet<>();
    g.getInputList().forEach(v -> fixed.add(v.getName()));
    g.getOutputList().forEach(v -> fixed.add(v.getName()));
    g.getInitializerList().forEach(t -> fixed.add(t.getName()));
    Set<String> taken = new HashSet<>(fixed);
    for (NodeProto n : g.getNodeList()) {
      taken.addAll(n.getOutputList());
      taken.addAll(n.getInputList());
    }
    Map<String, String> names = new HashMap<>();
    int next = 0;
    for (NodeProto n : g.getNodeList()) {
      for (String o : n.getOutputList()) {
        if (o.isEmpty() || fixed.contains(o) || o.contains(keep) || names.containsKey(o)) {
          continue;
        }
        String r;
        do {
          r = Integer.toString(next++, 36);
        } while (taken.contains(r));
        names.put(o, r);
      }
    }
    for (int i = 0; i < g.getNodeCount(); i++) {
      NodeProto.Builder n = g.getNode(i).toBuilder();
      for (int j = 0; j < n.getInputCount(); j++) {
        n.setInput(j, names.getOrDefault(n.getInput(j), n.getInput(j)));
      }
      for (int j = 0; j < n.getOutputCount(); j++) {
        n.setOutput(j, names.getOrDefault(n.getOutput(j), n.getOutput(j)));
      }
      g.setNode(i, n);
    }
    for (int i = g.getValueInfoCount() - 1; i >= 0; i--) {
      ValueInfoProto v = g.getValueInfo(i);
      String r = names.get(v.getName());
      if (r != null) {
        g.setValueInfo(i, v.toBuilder().setName(r));
      }
    }
    return names.size();
  }

  private static TensorProto constantValue(NodeProto n) {
    if (!n.getOpType().equals("Constant")
        || !(n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx"))
        || n.getOutputCount() != 1
        || n.getAttributeCount() != 1) {
      return null;
    }
    AttributeProto a = n.getAttribute(0);
    return a.getName().equals("value") && a.hasT() ? a.getT() : null;
  }

  private static boolean hasSubgraph(GraphProto g) {
    for (NodeProto n : g.getNodeList()) {
      for (AttributeProto a : n.getAttributeList()) {
        if (a.hasG() || a.getGraphsCount() > 0) {
          return true;
        }
      }
    }
    return false;
  }
}
