package dev.graft.onnx.ofq;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.internal.TensorData;
import dev.graft.onnx.proto.AttributeProto;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.NodeProto;
import dev.graft.onnx.proto.TensorProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Finds the StatsQ 2-bit weights of a model: every MatMul/Gemm whose right operand is a constant
 * (initializer or {@code Constant} node, stored {@code [in, out]} or {@code [out, in]}), checked
 * row by row with {@link StatsQ#fit}. Immutable result; {@link #verdicts()} says what happens to
 * each weight and why.
 */
public final class OfqScan {
  /** Weights with fewer input features than this are left alone (MatMulNBits' smallest block). */
  static final int MIN_IN_FEATURES = 16;

  private final OnnxModel model;
  private final List<LayerVerdict> verdicts;
  private final List<QuantizedWeight> weights;
  private final Map<String, List<LinearUse>> uses;

  private OfqScan(
      OnnxModel model,
      List<LayerVerdict> verdicts,
      List<QuantizedWeight> weights,
      Map<String, List<LinearUse>> uses) {
    this.model = model;
    this.verdicts = List.copyOf(verdicts);
    this.weights = List.copyOf(weights);
    this.uses = uses;
  }

  /**
   * Scans a model.
   *
   * @param allowRequantize re-quantise (StatsQ post-training) rows that are not on StatsQ levels:
   *     the stray rows of a mostly 2-bit weight, and every row of the other MatMul/Gemm weights
   *     except the model's first and last weight layers (OFQ keeps the patch embedding and the head
   *     at 8 bits)
   */
  public static OfqScan of(OnnxModel model, boolean allowRequantize) {
    GraphProto graph = model.proto().getGraph();
    Map<String, TensorProto> constants = model.tensors();
    Map<String, List<LinearUse>> uses = new LinkedHashMap<>();
    Map<String, String> unsupported = new HashMap<>();
    Map<String, List<NodeProto>> consumers = new HashMap<>();
    for (int i = 0; i < graph.getNodeCount(); i++) {
      NodeProto n = graph.getNode(i);
      for (String in : n.getInputList()) {
        consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
      }
      if (!isDefaultDomain(n) || n.getInputCount() < 2) {
        continue;
      }
      String a = n.getInput(0);
      String b = n.getInput(1);
      if (n.getOpType().equals("MatMul")) {
        if (constants.containsKey(b)) {
          uses.computeIfAbsent(b, k -> new ArrayList<>()).add(new LinearUse(n, i, false, null));
        } else if (constants.containsKey(a)) {
          unsupported.putIfAbsent(a, "it is MatMul " + label(n) + "'s left operand (W·x)");
        }
      } else if (n.getOpType().equals("Gemm")) {
        if (constants.containsKey(b)) {
          String problem = gemmProblem(n);
          if (problem != null) {
            unsupported.putIfAbsent(b, "Gemm " + label(n) + " has " + problem);
          }
          String bias = n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? n.getInput(2) : null;
          boolean outIn = intAttr(n, "transB", 0) == 1;
          uses.computeIfAbsent(b, k -> new ArrayList<>()).add(new LinearUse(n, i, outIn, bias));
        } else if (constants.containsKey(a)) {
          unsupported.putIfAbsent(a, "it is Gemm " + label(n) + "'s left operand");
        }
      }
    }
    for (String left : unsupported.keySet()) {
      uses.putIfAbsent(left, List.of());
    }
    Map<String, String> layerNames = new HashMap<>();
    List<WeightLayer> layers = model.layers();
    for (WeightLayer l : layers) {
      layerNames.put(l.weight(), l.name());
    }
    String first = layers.isEmpty() ? null : layers.get(0).weight();
    String last = layers.isEmpty() ? null : layers.get(layers.size() - 1).weight();

    List<LayerVerdict> verdicts = new ArrayList<>();
    List<QuantizedWeight> weights = new ArrayList<>();
    for (Map.Entry<String, List<LinearUse>> e : uses.entrySet()) {
      String tensor = e.getKey();
      List<LinearUse> tensorUses = e.getValue();
      String problem = unsupported.get(tensor);
      if (problem == null) {
        problem = otherConsumers(tensor, tensorUses, consumers.get(tensor));
      }
      boolean edge = tensor.equals(first) || tensor.equals(last);
      Candidate c =
          new Candidate(
              model,
              tensor,
              layerNames.getOrDefault(tensor, tensor),
              tensorUses,
              problem,
              allowRequantize,
              allowRequantize && !edge);
      verdicts.add(c.verdict);
      if (c.weight != null) {
        weights.add(c.weight);
      }
    }
    return new OfqScan(model, verdicts, weights, uses);
  }

  public OnnxModel model() {
    return model;
  }

  /** One verdict per MatMul/Gemm weight, in graph order. */
  public List<LayerVerdict> verdicts() {
    return verdicts;
  }

  /** The weights to pack (verdict {@code PACK}), with their codes and scales. */
  public List<QuantizedWeight> weights() {
    return weights;
  }

  /** The MatMul/Gemm nodes using a weight. */
  List<LinearUse> uses(String tensor) {
    return uses.getOrDefault(tensor, List.of());
  }

  /** Weights the model cannot be packed with; empty when packing may go ahead. */
  public List<LayerVerdict> refusals() {
    return verdicts.stream().filter(v -> v.action() == LayerVerdict.Action.REFUSE).toList();
  }

  /**
   * Throws when the model cannot be packed: a refused weight, or no weight to pack.
   *
   * @throws GraftException {@code FAILED_PRECONDITION} naming every refused weight, or the skipped
   *     ones when nothing is packable
   */
  public void requirePackable() {
    List<LayerVerdict> refused = refusals();
    if (!refused.isEmpty()) {
      throw GraftException.precondition(
          "%s: cannot pack: %s",
          model.source(),
          refused.stream()
              .map(v -> v.layer() + " (" + v.tensor() + "): " + v.reason())
              .collect(Collectors.joining("; ")));
    }
    if (weights.isEmpty()) {
      String skipped =
          verdicts.stream()
              .map(v -> v.layer() + ": " + v.reason())
              .limit(4)
              .collect(Collectors.joining("; "));
      throw GraftException.precondition(
          "%s: no packable layer: no MatMul/Gemm weight holds StatsQ 2-bit values"
              + " (s·(k+0.5)/2 per row, k in -2..1)%s",
          model.source(),
          verdicts.isEmpty()
              ? "; the model has no MatMul/Gemm with a constant weight"
              : " (" + skipped + (verdicts.size() > 4 ? "; ..." : "") + ")");
    }
  }

  private static String otherConsumers(
      String tensor, List<LinearUse> tensorUses, List<NodeProto> consumers) {
    if (consumers == null) {
      return null;
    }
    for (NodeProto n : consumers) {
      boolean linear = tensorUses.stream().anyMatch(u -> u.node() == n);
      if (!linear) {
        return "it is also used by " + n.getOpType() + " " + label(n);
      }
    }
    long orientations = tensorUses.stream().map(LinearUse::weightOutIn).distinct().count();
    return orientations > 1 ? "it is used both transposed and not" : null;
  }

  private static String gemmProblem(NodeProto n) {
    if (intAttr(n, "transA", 0) != 0) {
      return "transA=1";
    }
    if (floatAttr(n, "alpha", 1f) != 1f) {
      return "alpha=" + floatAttr(n, "alpha", 1f);
    }
    if (n.getInputCount() > 2 && !n.getInput(2).isEmpty() && floatAttr(n, "beta", 1f) != 1f) {
      return "beta=" + floatAttr(n, "beta", 1f);
    }
    return null;
  }

  static long intAttr(NodeProto n, String name, long fallback) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getI();
      }
    }
    return fallback;
  }

  private static float floatAttr(NodeProto n, String name, float fallback) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getF();
      }
    }
    return fallback;
  }

  static String label(NodeProto n) {
    return n.getName().isEmpty() ? "(output " + n.getOutput(0) + ")" : n.getName();
  }

  private static boolean isDefaultDomain(NodeProto n) {
    return n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx");
  }

  /** Checks one weight row by row and decides. */
  private static final class Candidate {
    LayerVerdict verdict;
    QuantizedWeight weight;

    Candidate(
        OnnxModel model,
        String tensor,
        String layer,
        List<LinearUse> uses,
        String problem,
        boolean allowStray,
        boolean requantizeAll) {
      TensorProto t = model.tensor(tensor).orElseThrow();
      String op = uses.isEmpty() ? "MatMul" : uses.get(0).node().getOpType();
      long[] dims = model.dims(tensor);
      String shape = Arrays.toString(dims);
      if (t.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
        skip(
            layer,
            tensor,
            op,
            shape,
            "data type "
                + TensorData.typeName(t.getDataType())
                + ", only float32 weights are packed",
            0);
        return;
      }
      if (dims.length != 2) {
        skip(layer, tensor, op, shape, "rank " + dims.length + ", not a 2-D linear weight", 0);
        return;
      }
      // a left operand W of W·x has its output rows first, like Gemm's transB
      boolean outIn = uses.isEmpty() || uses.get(0).weightOutIn();
      int rows = Math.toIntExact(outIn ? dims[0] : dims[1]);
      int cols = Math.toIntExact(outIn ? dims[1] : dims[0]);
      if (cols < MIN_IN_FEATURES) {
        skip(
            layer,
            tensor,
            op,
            shape,
            cols + " input features, fewer than " + MIN_IN_FEATURES + ": too small to pack",
            rows);
        return;
      }
      float[] data = model.floatTensor(tensor).data();
      byte[] codes = new byte[rows * cols];
      float[] scales = new float[rows];
      StatsQ.RowFit[] fits = new StatsQ.RowFit[rows];
      int fit = 0;
      for (int r = 0; r < rows; r++) {
        StatsQ.Row row =
            outIn ? new StatsQ.Row(data, r * cols, 1, cols) : new StatsQ.Row(data, r, rows, cols);
        fits[r] = StatsQ.fit(row, codes, r * cols);
        if (fits[r].fits()) {
          fit++;
          scales[r] = 2f * fits[r].half();
        }
      }
      boolean mostly2bit = fit * 2 >= rows;
      if (problem != null) {
        if (fit == rows) {
          refuse(
              layer,
              tensor,
              op,
              shape,
              "2-bit weight in a place Graft cannot pack: " + problem,
              rows,
              fit);
        } else {
          skip(layer, tensor, op, shape, problem, rows, fit);
        }
        return;
      }
      if (fit == rows) {
        pack(layer, tensor, op, shape, "", rows, cols, codes, scales, 0, fit);
        return;
      }
      if (!mostly2bit && !requantizeAll) {
        skip(layer, tensor, op, shape, "not 2-bit: " + firstMisfit(fits), rows, fit);
        return;
      }
      if (mostly2bit && !allowStray) {
        refuse(
            layer,
            tensor,
            op,
            shape,
            (rows - fit)
                + " of "
                + rows
                + " rows are not on StatsQ"
                + " levels ("
                + firstMisfit(fits)
                + "); pass --allow-requantize to re-quantise them"
                + " with StatsQ post-training",
            rows,
            fit);
        return;
      }
      int requantized = 0;
      for (int r = 0; r < rows; r++) {
        if (!fits[r].fits()) {
          StatsQ.Row row =
              outIn ? new StatsQ.Row(data, r * cols, 1, cols) : new StatsQ.Row(data, r, rows, cols);
          scales[r] = 2f * StatsQ.requantize(row, codes, r * cols);
          requantized++;
        }
      }
      pack(
          layer,
          tensor,
          op,
          shape,
          "re-quantised "
              + requantized
              + " of "
              + rows
              + " rows with StatsQ post-training (s = 2·mean|W|): their weights change",
          rows,
          cols,
          codes,
          scales,
          requantized,
          fit);
    }

    private void pack(
        String layer,
        String tensor,
        String op,
        String shape,
        String reason,
        int rows,
        int cols,
        byte[] codes,
        float[] scales,
        int requantized,
        int fit) {
      weight = new QuantizedWeight(layer, tensor, rows, cols, codes, scales, requantized);
      verdict =
          new LayerVerdict(
              layer, tensor, op, shape, LayerVerdict.Action.PACK, reason, rows, fit, requantized);
    }

    private void skip(
        String layer, String tensor, String op, String shape, String reason, int rows) {
      skip(layer, tensor, op, shape, reason, rows, 0);
    }

    private void skip(
        String layer, String tensor, String op, String shape, String reason, int rows, int fit) {
      verdict =
          new LayerVerdict(
              layer, tensor, op, shape, LayerVerdict.Action.SKIP, reason, rows, fit, 0);
    }

    private void refuse(
        String layer, String tensor, String op, String shape, String reason, int rows, int fit) {
      verdict =
          new LayerVerdict(
              layer, tensor, op, shape, LayerVerdict.Action.REFUSE, reason, rows, fit, 0);
    }

    private static String firstMisfit(StatsQ.RowFit[] fits) {
      for (int r = 0; r < fits.length; r++) {
        StatsQ.RowFit f = fits[r];
        switch (f.status()) {
          case TOO_MANY_LEVELS:
            return "row " + r + " holds " + f.levels() + " distinct values";
          case OFF_LEVELS:
            return "row "
                + r
                + " holds "
                + f.levels()
                + " values that no scale s puts on"
                + " s·(k+0.5)/2";
          case NOT_FINITE:
            return "row " + r + " holds NaN or infinity";
          default:
            break;
        }
      }
      return "every row fits";
    }
  }
}
