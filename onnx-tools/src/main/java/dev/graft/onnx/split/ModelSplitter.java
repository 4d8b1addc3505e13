package dev.graft.onnx.split;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.ModelProto;
import dev.graft.onnx.proto.NodeProto;
import dev.graft.onnx.proto.SparseTensorProto;
import dev.graft.onnx.proto.TensorAnnotation;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.onnx.proto.ValueInfoProto;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Extracts the stem and body subgraphs of a model at a {@link GraphCut}.
 *
 * <p>The stem is every node needed to compute the cut tensors from the graph inputs; the body is
 * every node needed to compute the graph outputs from the cut tensors and the graph inputs. Each
 * part keeps exactly the initializers it reads (one read by both is copied into both), its Constant
 * nodes, the value_info of its inner tensors and the model's opsets and metadata. Cut tensors
 * become typed stem outputs and body inputs: their types come from the model's value_info when it
 * has them, else from ONNX Runtime's shape inference on the stem ({@link CutTypes}).
 *
 * <p>Stateless and thread safe.
 */
public final class ModelSplitter {
  private ModelSplitter() {}

  /**
   * Splits {@code model} at {@code cut}.
   *
   * @throws GraftException {@code NOT_FOUND} for a cut tensor no node produces, {@code
   *     INVALID_ARGUMENT} for a cut that is a graph input, a constant or a graph output, leaves the
   *     body empty, or does not separate the graph (the body would recompute a weight layer)
   */
  public static ModelSplit split(OnnxModel model, GraphCut cut) {
    GraphIndex idx = new GraphIndex(model.proto().getGraph());
    String src = model.source();
    for (String t : cut.tensors()) {
      if (idx.inputs.contains(t)) {
        throw GraftException.invalid("%s: cut tensor %s is a graph input", src, t);
      }
      if (idx.constants.contains(t)) {
        throw GraftException.invalid(
            "%s: cut tensor %s is constant; both parts compute constants themselves", src, t);
      }
      if (!idx.producer.containsKey(t)) {
        throw GraftException.notFound("%s: no node produces a tensor named '%s'", src, t);
      }
      if (idx.outputs.contains(t)) {
        throw GraftException.invalid(
            "%s: cut tensor %s is a graph output; cut before the node that computes it", src, t);
      }
    }
    Set<String> cutSet = new LinkedHashSet<>(cut.tensors());
    BitSet stemNodes = idx.backwardSlice(cut.tensors(), Set.of());
    BitSet bodyNodes = idx.backwardSlice(idx.outputs, cutSet);
    int duplicated = checkSeparates(model, idx, stemNodes, bodyNodes);
    if (!readsAny(idx, bodyNodes, cutSet)) {
      throw GraftException.invalid(
          "%s: the outputs do not depend on the cut %s; the body would not read it", src, cut);
    }

    Map<String, ValueInfoProto> types = knownTypes(idx.graph);
    Set<String> stemReads = idx.externalReads(stemNodes);
    Set<String> bodyReads = idx.externalReads(bodyNodes);
    List<ValueInfoProto> cutInfos = new ArrayList<>();
    for (String t : cut.tensors()) {
      cutInfos.add(types.getOrDefault(t, ValueInfoProto.newBuilder().setName(t).build()));
    }
    ModelProto stem = part(model.proto(), idx, stemNodes, stemReads, List.of(), cutInfos, "stem");
    if (cutInfos.stream().anyMatch(v -> !v.hasType())) {
      Map<String, ValueInfoProto> inferred = CutTypes.infer(stem, model.source());
      cutInfos.replaceAll(v -> v.hasType() ? v : inferred.get(v.getName()));
      stem = part(model.proto(), idx, stemNodes, stemReads, List.of(), cutInfos, "stem");
    }
    List<ValueInfoProto> bodyOutputs = idx.graph.getOutputList();
    ModelProto body = part(model.proto(), idx, bodyNodes, bodyReads, cutInfos, bodyOutputs, "body");

    List<String> passThrough = new ArrayList<>();
    for (String in : idx.inputs) {
      if (bodyReads.contains(in)) {
        passThrough.add(in);
      }
    }
    Set<String> constantNames = model.tensors().keySet();
    return new ModelSplit(
        cut,
        OnnxModel.of(stem, model.baseDir(), src + " (stem before " + cut + ")"),
        OnnxModel.of(body, model.baseDir(), src + " (body from " + cut + ")"),
        passThrough,
        constantsOf(idx, stemNodes, stemReads, constantNames),
        constantsOf(idx, bodyNodes, bodyReads, constantNames),
        duplicated);
  }

  /**
   * Nodes in both slices compute from graph inputs without crossing the cut. Cheap ones (shape
   * arithmetic, constants) are duplicated; a weight layer is not: the cut does not separate.
   *
   * @return how many non-constant nodes both parts compute
   */
  private static int checkSeparates(OnnxModel model, GraphIndex idx, BitSet stem, BitSet body) {
    BitSet both = (BitSet) stem.clone();
    both.and(body);
    Set<String> weights = new HashSet<>();
    for (WeightLayer l : model.layers()) {
      weights.add(l.weight());
    }
    int duplicated = 0;
    for (int i = both.nextSetBit(0); i >= 0; i = both.nextSetBit(i + 1)) {
      NodeProto n = idx.nodes.get(i);
      for (String in : idx.reads.get(i)) {
        if (weights.contains(in)) {
          throw GraftException.invalid(
              "%s: the cut does not separate the graph: node %s (%s, weight %s) feeds both the cut"
                  + " and, by another path, the outputs",
              model.source(), n.getName(), n.getOpType(), in);
        }
      }
      if (!idx.constants.containsAll(n.getOutputList())) {
        duplicated++;
      }
    }
    return duplicated;
  }

  private static boolean readsAny(GraphIndex idx, BitSet nodes, Set<String> names) {
    for (int i = nodes.nextSetBit(0); i >= 0; i = nodes.nextSetBit(i + 1)) {
      for (String in : idx.reads.get(i)) {
        if (names.contains(in)) {
          return true;
        }
      }
    }
    return false;
  }

  /** One part: the given nodes in topological order, what they read, and the given interface. */
  private static ModelProto part(
      ModelProto model,
      GraphIndex idx,
      BitSet nodes,
      Set<String> reads,
      List<ValueInfoProto> extraInputs,
      List<ValueInfoProto> outputs,
      String role) {
    GraphProto g = idx.graph;
    GraphProto.Builder b =
        g.toBuilder()
            .clearNode()
            .clearInitializer()
            .clearSparseInitializer()
            .clearInput()
            .clearOutput()
            .clearValueInfo()
            .clearQuantizationAnnotation()
            .setName(g.getName().isEmpty() ? role : g.getName() + "_" + role);
    Set<String> present = new HashSet<>(reads);
    for (int i = nodes.nextSetBit(0); i >= 0; i = nodes.nextSetBit(i + 1)) {
      b.addNode(idx.nodes.get(i));
      present.addAll(idx.nodes.get(i).getOutputList());
    }
    b.addAllInput(extraInputs);
    for (ValueInfoProto in : g.getInputList()) {
      if (reads.contains(in.getName())) {
        b.addInput(in); // graph inputs, and initializers declared as inputs by older exporters
      }
    }
    for (TensorProto t : g.getInitializerList()) {
      if (reads.contains(t.getName())) {
        b.addInitializer(t);
      }
    }
    for (SparseTensorProto t : g.getSparseInitializerList()) {
      if (reads.contains(t.getValues().getName())) {
        b.addSparseInitializer(t);
      }
    }
    b.addAllOutput(outputs);
    Set<String> interfaceNames = new HashSet<>();
    extraInputs.forEach(v -> interfaceNames.add(v.getName()));
    outputs.forEach(v -> interfaceNames.add(v.getName()));
    for (ValueInfoProto v : g.getValueInfoList()) {
      if (present.contains(v.getName()) && !interfaceNames.contains(v.getName())) {
        b.addValueInfo(v);
      }
    }
    for (TensorAnnotation a : g.getQuantizationAnnotationList()) {
      if (present.contains(a.getTensorName())) {
        b.addQuantizationAnnotation(a);
      }
    }
    return model.toBuilder().setGraph(b).build();
  }

  /** Types the model already declares: value_info, graph inputs and outputs. */
  private static Map<String, ValueInfoProto> knownTypes(GraphProto g) {
    Map<String, ValueInfoProto> types = new HashMap<>();
    for (List<ValueInfoProto> list :
        List.of(g.getValueInfoList(), g.getInputList(), g.getOutputList())) {
      for (ValueInfoProto v : list) {
        if (v.hasType() && v.getType().hasTensorType()) {
          types.putIfAbsent(v.getName(), v);
        }
      }
    }
    return types;
  }

  private static Set<String> constantsOf(
      GraphIndex idx, BitSet nodes, Set<String> reads, Set<String> constantNames) {
    Set<String> names = new LinkedHashSet<>();
    for (String r : reads) {
      if (constantNames.contains(r)) {
        names.add(r);
      }
    }
    for (int i = nodes.nextSetBit(0); i >= 0; i = nodes.nextSetBit(i + 1)) {
      for (String out : idx.nodes.get(i).getOutputList()) {
        if (constantNames.contains(out)) {
          names.add(out);
        }
      }
    }
    return names;
  }
}
