package dev.graft.onnx.ofq;

import dev.graft.onnx.build.GraphBuilder;
import dev.graft.onnx.build.Protos;
import dev.graft.onnx.proto.TensorProto;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link PackFormat#DQ}: INT2 codes {@code k} stored {@code [in, out]} with one scale {@code h} per
 * output, {@code DequantizeLinear(axis=1)} yielding {@code k·h}, then the original MatMul (or Gemm
 * with {@code transB=0}). The zero point is left out (0), so no integer zero point has to express
 * StatsQ's {@code +0.5}.
 */
final class DqWriter implements LayerWriter {
  private final Map<String, String> dequantized = new HashMap<>();

  @Override
  public Tensors addWeight(GraphBuilder graph, QuantizedWeight w) {
    String codes =
        graph.init(
            Protos.raw(
                LayerWriter.codesName(w),
                TensorProto.DataType.INT2_VALUE,
                new long[] {w.inFeatures(), w.outFeatures()},
                TwoBit.int2InOut(w)));
    float[] halves = new float[w.outFeatures()];
    for (int r = 0; r < halves.length; r++) {
      halves[r] = w.half(r);
    }
    String scales =
        graph.init(Protos.floats(LayerWriter.scalesName(w), new long[] {halves.length}, halves));
    return new Tensors(codes, scales, scales, 0);
  }

  @Override
  public String product(
      GraphBuilder graph, Tensors t, QuantizedWeight w, LinearUse use, String prefix) {
    // one DequantizeLinear per weight, placed before its first use
    String wk =
        dequantized.computeIfAbsent(
            w.tensor(),
            k ->
                graph
                    .node("DequantizeLinear")
                    .in(t.codes(), t.scales())
                    .attr("axis", 1)
                    .out(OfqManifest.MARK + "w" + dequantized.size()));
    if (use.isGemm()) {
      GraphBuilder.Node gemm = graph.node("Gemm").name(use.nodeName()).in(use.input(), wk);
      if (use.bias() != null) {
        gemm.in(use.bias());
      }
      return gemm.out(prefix + "k");
    }
    return graph.node("MatMul").name(use.nodeName()).in(use.input(), wk).out(prefix + "k");
  }

  @Override
  public boolean productIncludesBias() {
    return true;
  }

  @Override
  public long requiredOpset() {
    return OpsetUpgrade.TARGET;
  }
}
