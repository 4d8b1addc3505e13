package dev.graft.onnx.split;

import dev.graft.onnx.internal.LayerFinder;
import dev.graft.onnx.proto.AttributeProto;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.NodeProto;
import dev.graft.onnx.proto.SparseTensorProto;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.onnx.proto.ValueInfoProto;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The dataflow of a main graph, indexed for slicing: nodes in topological order, who produces and
 * who reads each tensor (including names read implicitly by a node's subgraphs), and which tensors
 * are constant. Immutable once built; not shared outside this package.
 */
final class GraphIndex {
  final GraphProto graph;
  final List<NodeProto> nodes;

  /** Tensor name to the position (in {@link #nodes}) of the node that produces it. */
  final Map<String, Integer> producer = new HashMap<>();

  /** Position to the names the node reads, explicit inputs and subgraph references. */
  final List<Set<String>> reads = new ArrayList<>();

  /** Tensor name to the positions of the nodes that read it. */
  final Map<String, List<Integer>> consumers = new HashMap<>();

  /** Initializer and sparse initializer names. */
  final Set<String> initializers = new HashSet<>();

  /** Graph inputs that are not initializers, in graph order. */
  final Set<String> inputs = new LinkedHashSet<>();

  /** Graph outputs, in graph order. */
  final Set<String> outputs = new LinkedHashSet<>();

  /**
   * Tensors whose value does not depend on any graph input: initializers, and outputs of nodes that
   * read only such tensors (Constant nodes included). Either side of a split can compute them
   * itself, so they never need to cross a cut.
   */
  final Set<String> constants = new HashSet<>();

  GraphIndex(GraphProto graph) {
    this.graph = graph;
    this.nodes = LayerFinder.topologicalOrder(graph);
    for (TensorProto t : graph.getInitializerList()) {
      initializers.add(t.getName());
    }
    for (SparseTensorProto t : graph.getSparseInitializerList()) {
      initializers.add(t.getValues().getName());
    }
    for (ValueInfoProto v : graph.getInputList()) {
      if (!initializers.contains(v.getName())) {
        inputs.add(v.getName());
      }
    }
    for (ValueInfoProto v : graph.getOutputList()) {
      outputs.add(v.getName());
    }
    constants.addAll(initializers);
    for (int i = 0; i < nodes.size(); i++) {
      NodeProto n = nodes.get(i);
      Set<String> read = new LinkedHashSet<>();
      for (String in : n.getInputList()) {
        if (!in.isEmpty()) {
          read.add(in);
        }
      }
      for (AttributeProto a : n.getAttributeList()) {
        outerNames(a, read);
      }
      reads.add(read);
      for (String in : read) {
        consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
      }
      for (String out : n.getOutputList()) {
        if (!out.isEmpty()) {
          producer.put(out, i);
        }
      }
      if (isDeterministic(n) && constants.containsAll(read)) {
        for (String out : n.getOutputList()) {
          if (!out.isEmpty()) {
            constants.add(out);
          }
        }
      }
    }
  }

  /**
   * The positions of the nodes needed to compute {@code targets}, walking back from them and
   * stopping at {@code boundary} tensors and graph inputs.
   */
  BitSet backwardSlice(Collection<String> targets, Set<String> boundary) {
    BitSet slice = new BitSet(nodes.size());
    ArrayDeque<String> pending = new ArrayDeque<>(targets);
    Set<String> seen = new HashSet<>();
    while (!pending.isEmpty()) {
      String t = pending.pop();
      if (!seen.add(t) || boundary.contains(t)) {
        continue;
      }
      Integer p = producer.get(t);
      if (p == null || slice.get(p)) {
        continue; // a graph input, an initializer, or already in the slice
      }
      slice.set(p);
      pending.addAll(reads.get(p));
    }
    return slice;
  }

  /** Names read by the nodes of {@code slice} that no node of the slice produces. */
  Set<String> externalReads(BitSet slice) {
    Set<String> produced = new HashSet<>();
    for (int i = slice.nextSetBit(0); i >= 0; i = slice.nextSetBit(i + 1)) {
      produced.addAll(nodes.get(i).getOutputList());
    }
    Set<String> external = new LinkedHashSet<>();
    for (int i = slice.nextSetBit(0); i >= 0; i = slice.nextSetBit(i + 1)) {
      for (String in : reads.get(i)) {
        if (!produced.contains(in)) {
          external.add(in);
        }
      }
    }
    return external;
  }

  /** Random generators must not be duplicated into both parts: each copy would draw anew. */
  private static boolean isDeterministic(NodeProto n) {
    String op = n.getOpType();
    return !(op.startsWith("Random") || op.equals("Multinomial") || op.equals("Bernoulli"));
  }

  /** Adds the names a subgraph attribute reads from enclosing scopes. */
  private static void outerNames(AttributeProto a, Set<String> into) {
    List<GraphProto> graphs = new ArrayList<>(a.getGraphsList());
    if (a.hasG()) {
      graphs.add(a.getG());
    }
    for (GraphProto g : graphs) {
      Set<String> local = new HashSet<>();
      g.getInputList().forEach(v -> local.add(v.getName()));
      g.getInitializerList().forEach(t -> local.add(t.getName()));
      for (NodeProto n : g.getNodeList()) {
        local.addAll(n.getOutputList());
      }
      for (NodeProto n : g.getNodeList()) {
        Set<String> nested = new LinkedHashSet<>(n.getInputList());
        for (AttributeProto na : n.getAttributeList()) {
          outerNames(na, nested);
        }
        for (String in : nested) {
          if (!in.isEmpty() && !local.contains(in)) {
            into.add(in);
          }
        }
      }
    }
  }
}
