package dev.graft.onnx.internal;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.NodeProto;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Finds the weight-bearing layers of a graph in topological order. */
public final class LayerFinder {
  private LayerFinder() {}

  public static List<WeightLayer> find(GraphProto graph, Set<String> constants) {
    List<NodeProto> order = topologicalOrder(graph);
    Map<String, List<NodeProto>> consumers = new HashMap<>();
    for (NodeProto n : order) {
      for (String in : n.getInputList()) {
        consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
      }
    }
    List<WeightLayer> layers = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (NodeProto n : order) {
      String op = n.getOpType();
      String weight = null;
      String bias = null;
      if (isDefaultDomain(n)
          && (op.equals("Conv") || op.equals("ConvTranspose") || op.equals("Gemm"))) {
        weight = input(n, 1, constants);
        bias = input(n, 2, constants);
      } else if (isDefaultDomain(n) && op.equals("MatMul")) {
        weight = input(n, 1, constants);
        if (weight == null) {
          weight = input(n, 0, constants);
        }
        bias = matMulBias(n, consumers, constants);
      }
      if (weight == null || !seen.add(weight)) {
        continue; // no constant weight, or a weight shared with an earlier layer (tied weights)
      }
      layers.add(new WeightLayer(layerName(n, weight), op, n.getName(), weight, bias));
    }
    return layers;
  }

  private static boolean isDefaultDomain(NodeProto n) {
    return n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx");
  }

  private static String input(NodeProto n, int i, Set<String> constants) {
    if (n.getInputCount() <= i) {
      return null;
    }
    String name = n.getInput(i);
    return constants.contains(name) ? name : null;
  }

  /**
   * The constant operand of the single {@code Add} that consumes a MatMul's output (PyTorch's
   * Linear on 3-D).
   */
  private static String matMulBias(
      NodeProto matMul, Map<String, List<NodeProto>> consumers, Set<String> constants) {
    if (matMul.getOutputCount() == 0) {
      return null; // a malformed node; ONNX Runtime refuses it, we just find no bias
    }
    List<NodeProto> next = consumers.getOrDefault(matMul.getOutput(0), List.of());
    if (next.size() != 1 || !next.get(0).getOpType().equals("Add")) {
      return null;
    }
    NodeProto add = next.get(0);
    for (String in : add.getInputList()) {
      if (!in.equals(matMul.getOutput(0)) && constants.contains(in)) {
        return in;
      }
    }
    return null;
  }

  private static String layerName(NodeProto n, String weight) {
    if (weight.endsWith(".weight")) {
      return weight.substring(0, weight.length() - ".weight".length());
    }
    if (weight.endsWith(".weight_q")) {
      return weight.substring(0, weight.length() - ".weight_q".length());
    }
    return n.getName().isEmpty() ? weight : n.getName();
  }

  /**
   * Kahn's algorithm, stable in file order; graph inputs, initializers and constants are available
   * at start.
   */
  public static List<NodeProto> topologicalOrder(GraphProto graph) {
    int count = graph.getNodeCount();
    Map<String, Integer> producer = new HashMap<>();
    for (int i = 0; i < count; i++) {
      for (String out : graph.getNode(i).getOutputList()) {
        if (!out.isEmpty()) {
          producer.put(out, i);
        }
      }
    }
    int[] pending = new int[count];
    List<List<Integer>> dependants = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      dependants.add(new ArrayList<>());
    }
    for (int i = 0; i < count; i++) {
      Set<Integer> deps = new HashSet<>();
      for (String in : graph.getNode(i).getInputList()) {
        Integer p = producer.get(in);
        if (p != null && p != i) {
          deps.add(p);
        }
      }
      pending[i] = deps.size();
      for (int d : deps) {
        dependants.get(d).add(i);
      }
    }
    java.util.PriorityQueue<Integer> ready = new java.util.PriorityQueue<>();
    for (int i = 0; i < count; i++) {
      if (pending[i] == 0) {
        ready.add(i);
      }
    }
    List<NodeProto> order = new ArrayList<>(count);
    ArrayDeque<Integer> unused = new ArrayDeque<>();
    while (!ready.isEmpty()) {
      int i = ready.poll();
      order.add(graph.getNode(i));
      for (int d : dependants.get(i)) {
        if (--pending[d] == 0) {
          ready.add(d);
        }
      }
    }
    if (order.size() != count || !unused.isEmpty()) {
      throw GraftException.invalid("graph %s has a cycle", graph.getName());
    }
    return order;
  }
}
