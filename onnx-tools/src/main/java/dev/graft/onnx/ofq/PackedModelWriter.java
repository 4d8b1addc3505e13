package dev.graft.onnx.ofq;

import dev.graft.onnx.build.GraphBuilder;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.ModelProto;
import dev.graft.onnx.proto.NodeProto;
import dev.graft.onnx.proto.OperatorSetIdProto;
import dev.graft.onnx.proto.StringStringEntryProto;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.onnx.proto.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites a scanned model with its StatsQ weights packed. Each packed MatMul/Gemm becomes
 *
 * <pre>
 *   y = input · W_k  +  ReduceSum(input, -1) · (h · 0.5)   (+ bias)
 * </pre>
 *
 * where {@code W_k = k·h} comes from the format's 2-bit operator and the second term adds each
 * row's {@code +h/2}; for a one-hot input this is exactly {@link StatsQ#level}. {@code h · 0.5} is
 * computed by a Mul of constants, which ONNX Runtime folds at load: the scale initializer itself
 * must have no consumer but the 2-bit operator, or ONNX Runtime does not fuse {@code
 * DequantizeLinear → MatMul} into MatMulNBits. Every other node and tensor is copied unchanged (for
 * {@link PackFormat#DQ} after {@link OpsetUpgrade}). One use only.
 */
final class PackedModelWriter {
  private static final String MS_DOMAIN = "com.microsoft";

  private final OfqScan scan;
  private final PackFormat format;
  private final LayerWriter writer;
  private final Map<String, String> sums = new HashMap<>();
  private final Map<String, String> offsets = new HashMap<>();
  private int uses;
  private GraphBuilder graph;
  private long opset;

  PackedModelWriter(OfqScan scan, PackFormat format, int blockSize, int accuracyLevel) {
    this.scan = scan;
    this.format = format;
    this.writer =
        format == PackFormat.NBITS ? new NbitsWriter(blockSize, accuracyLevel) : new DqWriter();
  }

  /**
   * A model holding one packed weight as a MatMul {@code y = a · W} with {@code a} of shape {@code
   * [rows, in]}: what {@link ExactnessProbe} runs.
   */
  static ModelProto probeModel(
      QuantizedWeight w, PackFormat format, int blockSize, int accuracyLevel, int rows) {
    PackedModelWriter pw = new PackedModelWriter(null, format, blockSize, accuracyLevel);
    pw.graph = new GraphBuilder("ofq_probe");
    pw.opset = Math.max(17, pw.writer.requiredOpset());
    String a = pw.graph.input("a", TensorProto.DataType.FLOAT_VALUE, rows, w.inFeatures());
    NodeProto matMul =
        NodeProto.newBuilder()
            .setOpType("MatMul")
            .setName("probe")
            .addInput(a)
            .addInput(w.tensor())
            .addOutput("y")
            .build();
    pw.replace(new LinearUse(matMul, 0, false, null), w, pw.writer.addWeight(pw.graph, w));
    pw.graph.output("y", "y", TensorProto.DataType.FLOAT_VALUE, rows, w.outFeatures());
    Map<String, Long> opsets = new LinkedHashMap<>();
    opsets.put("", pw.opset);
    opsets.put(MS_DOMAIN, 1L);
    return pw.graph.model(format == PackFormat.DQ ? 13 : 8, opsets, "graft ofq probe");
  }

  ModelProto write() {
    ModelProto source = scan.model().proto();
    GraphProto g0 = source.getGraph();
    long sourceOpset = opset(source, "");
    OpsetUpgrade upgrade = null;
    opset = sourceOpset;
    if (writer.requiredOpset() > sourceOpset) {
      upgrade = new OpsetUpgrade(sourceOpset);
      upgrade.check(g0, scan.model().source());
      opset = writer.requiredOpset();
    }

    Map<String, QuantizedWeight> packed = new LinkedHashMap<>();
    Map<Integer, LinearUse> useAt = new HashMap<>();
    for (QuantizedWeight w : scan.weights()) {
      packed.put(w.tensor(), w);
      for (LinearUse u : scan.uses(w.tensor())) {
        useAt.put(u.index(), u);
      }
    }

    GraphProto.Builder out = g0.toBuilder().clearNode().clearInitializer().clearValueInfo();
    for (TensorProto t : g0.getInitializerList()) {
      if (!packed.containsKey(t.getName())) {
        out.addInitializer(t);
      }
    }
    for (ValueInfoProto v : g0.getValueInfoList()) {
      if (!packed.containsKey(v.getName())) {
        out.addValueInfo(v);
      }
    }
    dropInputs(out, packed.keySet());
    graph = new GraphBuilder(out, takenNames(g0));

    Map<String, LayerWriter.Tensors> tensors = new HashMap<>();
    List<OfqManifest.Node> replaced = new ArrayList<>();
    for (int i = 0; i < g0.getNodeCount(); i++) {
      NodeProto n = g0.getNode(i);
      if (n.getOpType().equals("Constant") && packed.containsKey(n.getOutput(0))) {
        continue; // the weight now lives in the packed tensors
      }
      LinearUse use = useAt.get(i);
      if (use == null) {
        graph.add(upgrade == null ? n : upgrade.apply(n, graph));
        continue;
      }
      QuantizedWeight w = packed.get(use.weight());
      LayerWriter.Tensors t = tensors.computeIfAbsent(w.tensor(), k -> writer.addWeight(graph, w));
      replace(use, w, t);
      replaced.add(
          new OfqManifest.Node(
              n.getName(),
              n.getOpType(),
              List.copyOf(n.getInputList()),
              use.output(),
              use.weightOutIn() ? 1 : 0));
    }

    List<OfqManifest.Weight> weights = new ArrayList<>();
    for (QuantizedWeight w : packed.values()) {
      LayerWriter.Tensors t = tensors.get(w.tensor());
      boolean outIn = scan.uses(w.tensor()).get(0).weightOutIn();
      weights.add(
          new OfqManifest.Weight(
              w.layer(),
              w.tensor(),
              w.outFeatures(),
              w.inFeatures(),
              outIn,
              t.blockSize(),
              w.requantizedRows()));
    }
    OfqManifest manifest = new OfqManifest(1, format.id(), weights, replaced);
    return model(source, out.build(), manifest);
  }

  /**
   * Replaces one MatMul/Gemm. The values it adds are named {@code #ofq.<i>.<role>}, {@code i}
   * counting replaced nodes in manifest order, which is how {@link PackedModel#unpack} finds them;
   * the 2-bit product node keeps the original node's name (profiles stay readable).
   */
  private void replace(LinearUse use, QuantizedWeight w, LayerWriter.Tensors t) {
    String prefix = OfqManifest.MARK + (uses++) + ".";
    String product = writer.product(graph, t, w, use, prefix);
    String offset =
        offsets.computeIfAbsent(
            w.tensor(),
            k ->
                graph
                    .node("Mul")
                    .in(t.half(), graph.scalar(OfqManifest.MARK + "half", 0.5f))
                    .out(OfqManifest.MARK + "o" + offsets.size()));
    String correction = graph.node("Mul").in(sum(use.input()), offset).out(prefix + "offset");
    boolean separateBias = use.bias() != null && !writer.productIncludesBias();
    GraphBuilder.Node add = graph.node("Add").in(product, correction);
    if (!separateBias) {
      add.to(use.output());
      return;
    }
    String sum = add.out(prefix + "sum");
    graph.node("Add").in(sum, use.bias()).to(use.output());
  }

  /** {@code Σ input} over the last axis, computed once per input. */
  private String sum(String input) {
    return sums.computeIfAbsent(
        input,
        a -> {
          GraphBuilder.Node sum = graph.node("ReduceSum").attr("keepdims", 1);
          if (opset >= 13) {
            sum.in(a, graph.int64s(OfqManifest.MARK + "last_axis", -1));
          } else {
            sum.in(a).ints("axes", -1);
          }
          return sum.out(OfqManifest.MARK + "s" + sums.size());
        });
  }

  private ModelProto model(ModelProto source, GraphProto graph, OfqManifest manifest) {
    ModelProto.Builder m = source.toBuilder().setGraph(graph).clearOpsetImport();
    boolean hasMs = false;
    for (OperatorSetIdProto o : source.getOpsetImportList()) {
      if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
        m.addOpsetImport(o.toBuilder().setVersion(opset));
      } else {
        hasMs |= o.getDomain().equals(MS_DOMAIN);
        m.addOpsetImport(o);
      }
    }
    if (format == PackFormat.NBITS && !hasMs) {
      m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(MS_DOMAIN).setVersion(1));
    }
    if (format == PackFormat.DQ) {
      m.setIrVersion(Math.max(source.getIrVersion(), 13)); // INT2 needs IR 13
    }
    for (int i = m.getMetadataPropsCount() - 1; i >= 0; i--) {
      if (m.getMetadataProps(i).getKey().equals(OfqManifest.KEY)) {
        m.removeMetadataProps(i);
      }
    }
    m.addMetadataProps(
        StringStringEntryProto.newBuilder()
            .setKey(OfqManifest.KEY)
            .setValue(manifest.toJson())
            .build());
    return m.build();
  }

  static long opset(ModelProto model, String domain) {
    for (OperatorSetIdProto o : model.getOpsetImportList()) {
      String d = o.getDomain().equals("ai.onnx") ? "" : o.getDomain();
      if (d.equals(domain)) {
        return o.getVersion();
      }
    }
    return 0;
  }

  private static void dropInputs(GraphProto.Builder g, Set<String> names) {
    for (int i = g.getInputCount() - 1; i >= 0; i--) {
      if (names.contains(g.getInput(i).getName())) {
        g.removeInput(i); // IR < 4 lists initializers as inputs too
      }
    }
  }

  private static Set<String> takenNames(GraphProto g) {
    Set<String> names = new HashSet<>();
    for (NodeProto n : g.getNodeList()) {
      names.addAll(n.getInputList());
      names.addAll(n.getOutputList());
      names.add(n.getName());
    }
    g.getInitializerList().forEach(t -> names.add(t.getName()));
    g.getInputList().forEach(v -> names.add(v.getName()));
    g.getOutputList().forEach(v -> names.add(v.getName()));
    g.getValueInfoList().forEach(v -> names.add(v.getName()));
    return names;
  }
}
