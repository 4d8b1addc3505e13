package dev.graft.onnx.split;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.proto.NodeProto;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Chooses where to split a model so that given weights all land in the stem.
 *
 * <p>The stem must hold every node that reads one of the weights (directly, or through a chain of
 * constant nodes such as a {@code Transpose} of the weight), and the elementwise epilogue of the
 * last such node (bias {@code Add}, activation), so that ONNX Runtime can still fuse it into the
 * layer. Past that point, each position of the topological order defines a cut: the computed
 * tensors produced at or before it and read after it. The cut chosen is the smallest such set, the
 * earliest one on ties (a small stem is cheap to rebuild). Graph inputs never count: the body reads
 * them itself. Stateless and thread safe.
 */
public final class CutFinder {
  /** Ops that keep a tensor's shape and that ONNX Runtime commonly fuses into the layer before. */
  private static final Set<String> EPILOGUE =
      Set.of(
          "Add",
          "Sub",
          "Mul",
          "Div",
          "Relu",
          "LeakyRelu",
          "PRelu",
          "Elu",
          "Selu",
          "Celu",
          "Sigmoid",
          "HardSigmoid",
          "HardSwish",
          "Tanh",
          "Softplus",
          "Softsign",
          "Gelu",
          "Clip",
          "BatchNormalization",
          "Identity",
          "Dropout");

  private CutFinder() {}

  /**
   * The smallest cut after a weight layer.
   *
   * @param layer a {@link WeightLayer#name()}, node name or weight name
   * @throws GraftException {@code NOT_FOUND} for an unknown layer, {@code INVALID_ARGUMENT} when no
   *     cut follows it (its result is a graph output)
   */
  public static GraphCut afterLayer(OnnxModel model, String layer) {
    for (WeightLayer l : model.layers()) {
      if (l.name().equals(layer) || l.nodeName().equals(layer) || l.weight().equals(layer)) {
        return afterTensors(model, l.tensorNames());
      }
    }
    throw GraftException.notFound(
        "%s has no weight layer named %s (layers: %s)",
        model.source(), layer, model.layers().stream().map(WeightLayer::name).toList());
  }

  /**
   * The smallest cut after every node that reads one of {@code tensors}.
   *
   * @throws GraftException {@code NOT_FOUND} for a name that is not a constant tensor of the model
   *     or that no node reads, {@code INVALID_ARGUMENT} when no cut follows them
   */
  public static GraphCut afterTensors(OnnxModel model, Collection<String> tensors) {
    GraphIndex idx = new GraphIndex(model.proto().getGraph());
    for (String t : tensors) {
      if (!idx.constants.contains(t)) {
        throw GraftException.notFound("%s has no constant tensor named %s", model.source(), t);
      }
    }
    int start = epilogueEnd(idx, lastReader(idx, tensors, model.source()));
    int n = idx.nodes.size();
    int firstOutput = n;
    int[] delta = new int[n + 1];
    for (int p = 0; p < n; p++) {
      for (String out : idx.nodes.get(p).getOutputList()) {
        if (out.isEmpty() || idx.constants.contains(out)) {
          continue;
        }
        if (idx.outputs.contains(out)) {
          firstOutput = Math.min(firstOutput, p);
        }
        int last = lastUse(idx, out);
        if (last > p) {
          delta[p]++;
          delta[last]--;
        }
      }
    }
    int best = -1;
    int bestSize = Integer.MAX_VALUE;
    int size = 0;
    for (int k = 0; k < firstOutput; k++) {
      size += delta[k];
      if (k >= start && size > 0 && size < bestSize) {
        best = k;
        bestSize = size;
      }
    }
    if (best < 0) {
      throw GraftException.invalid(
          "%s: no cut follows the nodes that read %s: a graph output is computed before",
          model.source(), tensors);
    }
    return new GraphCut(crossing(idx, best));
  }

  /** The last position of a node that reads a tensor, through chains of constant nodes. */
  private static int lastReader(GraphIndex idx, Collection<String> tensors, String source) {
    int last = -1;
    ArrayDeque<String> pending = new ArrayDeque<>(tensors);
    Set<String> seen = new HashSet<>();
    while (!pending.isEmpty()) {
      String t = pending.pop();
      if (!seen.add(t)) {
        continue;
      }
      for (int c : idx.consumers.getOrDefault(t, List.of())) {
        List<String> outs = idx.nodes.get(c).getOutputList();
        if (idx.constants.containsAll(outs)) {
          pending.addAll(outs); // e.g. Transpose(weight): its reader is what counts
        } else {
          last = Math.max(last, c);
        }
      }
    }
    if (last < 0) {
      throw GraftException.notFound("%s: no node reads %s", source, tensors);
    }
    return last;
  }

  /** Follows single-consumer elementwise nodes whose other inputs are constant. */
  private static int epilogueEnd(GraphIndex idx, int position) {
    int p = position;
    while (true) {
      NodeProto node = idx.nodes.get(p);
      if (node.getOutputCount() != 1) {
        return p;
      }
      String out = node.getOutput(0);
      List<Integer> next = idx.consumers.getOrDefault(out, List.of());
      if (next.size() != 1 || idx.outputs.contains(out)) {
        return p;
      }
      int c = next.get(0);
      NodeProto consumer = idx.nodes.get(c);
      if (!EPILOGUE.contains(consumer.getOpType()) || !consumer.getDomain().isEmpty()) {
        return p;
      }
      for (String in : idx.reads.get(c)) {
        if (!in.equals(out) && !idx.constants.contains(in)) {
          return p;
        }
      }
      p = c;
    }
  }

  private static int lastUse(GraphIndex idx, String tensor) {
    int last = -1;
    for (int c : idx.consumers.getOrDefault(tensor, List.of())) {
      last = Math.max(last, c);
    }
    return last;
  }

  /** The computed tensors produced at or before {@code k} and read after it, in node order. */
  private static List<String> crossing(GraphIndex idx, int k) {
    List<String> cut = new ArrayList<>();
    for (int p = 0; p <= k; p++) {
      for (String out : idx.nodes.get(p).getOutputList()) {
        if (!out.isEmpty() && !idx.constants.contains(out) && lastUse(idx, out) > k) {
          cut.add(out);
        }
      }
    }
    return cut;
  }
}
