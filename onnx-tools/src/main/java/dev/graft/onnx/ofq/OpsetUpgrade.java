package dev.graft.onnx.ofq;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.build.GraphBuilder;
import dev.graft.onnx.build.Protos;
import dev.graft.onnx.proto.AttributeProto;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.NodeProto;
import java.util.Set;

/**
 * Moves a graph's default domain to opset {@value #TARGET} (what INT2 {@code DequantizeLinear}
 * needs), rewriting the operators whose interface changed between opset {@value #MIN_SOURCE} and
 * {@value #TARGET} and refusing the few that cannot be rewritten safely. Every other operator of
 * opsets 13 to 25 kept its meaning and only gained types or optional attributes.
 */
final class OpsetUpgrade {
  static final long TARGET = 25;
  static final long MIN_SOURCE = 13;

  /** Reductions whose {@code axes} moved from an attribute to an input in opset 18. */
  private static final Set<String> REDUCE_18 =
      Set.of(
          "ReduceL1",
          "ReduceL2",
          "ReduceLogSum",
          "ReduceLogSumExp",
          "ReduceMax",
          "ReduceMean",
          "ReduceMin",
          "ReduceProd",
          "ReduceSumSquare");

  private final long from;

  OpsetUpgrade(long from) {
    this.from = from;
  }

  /**
   * Refuses graphs this upgrade cannot carry to opset 25.
   *
   * @throws GraftException {@code FAILED_PRECONDITION} naming the node and suggesting nbits
   */
  void check(GraphProto graph, String source) {
    if (from > TARGET) {
      throw GraftException.precondition(
          "%s: opset %d is newer than the %d that --format dq writes", source, from, TARGET);
    }
    if (from < MIN_SOURCE) {
      throw GraftException.precondition(
          "%s: --format dq needs opset %d and Graft upgrades models from opset %d up; this one is"
              + " opset %d: use --format nbits",
          source, TARGET, MIN_SOURCE, from);
    }
    for (NodeProto n : graph.getNodeList()) {
      if (!isDefaultDomain(n)) {
        continue;
      }
      String problem = null;
      for (AttributeProto a : n.getAttributeList()) {
        if (a.hasG() || a.getGraphsCount() > 0) {
          problem = "has a subgraph";
        }
      }
      if (n.getOpType().equals("DFT") && from < 20) {
        problem = "changed its inputs in opset 20";
      } else if (n.getOpType().equals("GroupNormalization") && from < 21) {
        problem = "changed the shape of its scale and bias in opset 21";
      }
      if (problem != null) {
        throw GraftException.precondition(
            "%s: --format dq moves the model to opset %d, but %s %s %s: use --format nbits",
            source, TARGET, n.getOpType(), OfqScan.label(n), problem);
      }
    }
  }

  /** The node as opset 25 expects it; may add initializers (reduction axes) to {@code graph}. */
  NodeProto apply(NodeProto n, GraphBuilder graph) {
    if (!isDefaultDomain(n)) {
      return n;
    }
    String op = n.getOpType();
    if (from < 18 && REDUCE_18.contains(op)) {
      return axesAsInput(n, graph);
    }
    if (from < 20 && op.equals("GridSample")) {
      return renameMode(n);
    }
    if (from < 16 && op.equals("RoiAlign") && !hasAttr(n, "coordinate_transformation_mode")) {
      // opset 16 changed the default from output_half_pixel to half_pixel: keep the old meaning
      return n.toBuilder()
          .addAttribute(Protos.attr("coordinate_transformation_mode", "output_half_pixel"))
          .build();
    }
    return n;
  }

  private static NodeProto axesAsInput(NodeProto n, GraphBuilder graph) {
    NodeProto.Builder b = n.toBuilder().clearAttribute();
    long[] axes = null;
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals("axes")) {
        axes = a.getIntsList().stream().mapToLong(Long::longValue).toArray();
      } else {
        b.addAttribute(a);
      }
    }
    if (axes == null) {
      return n; // no axes: reduce over all dimensions, same in both versions
    }
    // not marked as packing's own: the upgraded graph keeps it when the weights are unpacked
    String name = graph.int64s(n.getOutput(0) + "/axes", axes);
    b.clearInput().addInput(n.getInput(0)).addInput(name);
    return b.build();
  }

  private static NodeProto renameMode(NodeProto n) {
    NodeProto.Builder b = n.toBuilder();
    for (int i = 0; i < b.getAttributeCount(); i++) {
      AttributeProto a = b.getAttribute(i);
      if (a.getName().equals("mode")) {
        String mode = a.getS().toStringUtf8();
        String renamed =
            switch (mode) {
              case "bilinear" -> "linear";
              case "bicubic" -> "cubic";
              default -> mode;
            };
        b.setAttribute(i, Protos.attr("mode", renamed));
      }
    }
    return b.build();
  }

  private static boolean hasAttr(NodeProto n, String name) {
    return n.getAttributeList().stream().anyMatch(a -> a.getName().equals(name));
  }

  private static boolean isDefaultDomain(NodeProto n) {
    return n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx");
  }
}
