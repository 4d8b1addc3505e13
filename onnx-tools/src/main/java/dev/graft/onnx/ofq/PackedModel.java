package dev.graft.onnx.ofq;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.build.Protos;
import dev.graft.onnx.internal.TensorData;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.ModelProto;
import dev.graft.onnx.proto.NodeProto;
import dev.graft.onnx.proto.TensorProto;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model written by {@code graft ofq pack}: its manifest, its 2-bit weights read back from the
 * packed tensors, and the float model they stand for. Immutable.
 */
public final class PackedModel {
  private static final Pattern USE_VALUE =
      Pattern.compile(Pattern.quote(OfqManifest.MARK) + "(\\d+)\\.");

  private final OnnxModel model;
  private final OfqManifest manifest;

  private PackedModel(OnnxModel model, OfqManifest manifest) {
    this.model = model;
    this.manifest = manifest;
  }

  /** The packed view of a model, or empty when the model was not packed by Graft. */
  public static Optional<PackedModel> of(OnnxModel model) {
    return OfqManifest.of(model.proto()).map(m -> new PackedModel(model, m));
  }

  public OnnxModel model() {
    return model;
  }

  public OfqManifest manifest() {
    return manifest;
  }

  public PackFormat format() {
    return manifest.packFormat();
  }

  /** The weights' codes and scales, decoded from the packed tensors. */
  public List<QuantizedWeight> weights() {
    List<QuantizedWeight> out = new ArrayList<>();
    for (OfqManifest.Weight w : manifest.weights()) {
      out.add(decode(w));
    }
    return out;
  }

  /** Bytes of the packed tensors (codes and scales) of every packed weight. */
  public long packedBytes() {
    long bytes = 0;
    Set<String> counted = new HashSet<>();
    for (TensorProto t : model.proto().getGraph().getInitializerList()) {
      if (t.getName().contains(OfqManifest.MARK) && counted.add(t.getName())) {
        bytes += t.getRawData().size();
      }
    }
    return bytes;
  }

  /** Bytes the packed weights take as float32. */
  public long floatBytes() {
    long n = 0;
    for (OfqManifest.Weight w : manifest.weights()) {
      n += (long) w.out() * w.in();
    }
    return n * Float.BYTES;
  }

  /**
   * The float model this packed model stands for: every replaced MatMul/Gemm back as it was, its
   * weight an initializer holding exactly the values the packed layer reproduces, and everything
   * packing added removed. For a model packed without re-quantisation this is the original model
   * (weights that were {@code Constant} nodes come back as initializers; a model moved to opset 25
   * for {@code dq} stays there).
   */
  public OnnxModel unpack() {
    GraphProto g = model.proto().getGraph();
    GraphProto.Builder out = g.toBuilder().clearNode().clearInitializer();
    for (TensorProto t : g.getInitializerList()) {
      if (!t.getName().contains(OfqManifest.MARK)) {
        out.addInitializer(t);
      }
    }
    Set<Integer> restored = new HashSet<>();
    for (NodeProto n : g.getNodeList()) {
      if (!touchesPacking(n)) {
        out.addNode(n);
        continue;
      }
      int use = useIndex(n);
      if (use >= 0 && use < manifest.nodes().size() && restored.add(use)) {
        out.addNode(original(manifest.nodes().get(use))); // where its replacement started
      }
    }
    for (OfqManifest.Weight w : manifest.weights()) {
      QuantizedWeight q = decode(w);
      long[] dims = w.outIn() ? new long[] {w.out(), w.in()} : new long[] {w.in(), w.out()};
      out.addInitializer(Protos.floats(w.tensor(), dims, w.outIn() ? q.outIn() : q.inOut()));
    }
    ModelProto.Builder m = model.proto().toBuilder().setGraph(out);
    for (int i = m.getMetadataPropsCount() - 1; i >= 0; i--) {
      if (m.getMetadataProps(i).getKey().equals(OfqManifest.KEY)) {
        m.removeMetadataProps(i);
      }
    }
    return OnnxModel.of(m.build(), model.baseDir(), model.source() + " (unpacked)");
  }

  private static boolean touchesPacking(NodeProto n) {
    for (String v : n.getOutputList()) {
      if (v.contains(OfqManifest.MARK)) {
        return true;
      }
    }
    for (String v : n.getInputList()) {
      if (v.contains(OfqManifest.MARK)) {
        return true;
      }
    }
    return false;
  }

  /** The {@code i} of a {@code #ofq.<i>.<role>} value the node reads or writes, else -1. */
  private static int useIndex(NodeProto n) {
    for (List<String> names : List.of(n.getOutputList(), n.getInputList())) {
      for (String v : names) {
        Matcher m = USE_VALUE.matcher(v);
        if (m.find()) {
          return Integer.parseInt(m.group(1));
        }
      }
    }
    return -1;
  }

  private static NodeProto original(OfqManifest.Node n) {
    NodeProto.Builder b =
        NodeProto.newBuilder().setOpType(n.op()).addAllInput(n.inputs()).addOutput(n.output());
    if (!n.name().isEmpty()) {
      b.setName(n.name());
    }
    if (n.transB() != 0) {
      b.addAttribute(Protos.attr("transB", n.transB()));
    }
    return b.build();
  }

  private QuantizedWeight decode(OfqManifest.Weight w) {
    byte[] packed = bytes(w.codes());
    float[] scaleData = model.floatTensor(w.scales()).data();
    byte[] codes;
    int stride;
    if (manifest.packFormat() == PackFormat.NBITS) {
      codes = TwoBit.codesFromNbits(packed, w.out(), w.in(), w.blockSize());
      stride = TwoBit.blocks(w.in(), w.blockSize());
    } else {
      codes = TwoBit.codesFromInt2InOut(packed, w.out(), w.in());
      stride = 1;
    }
    float[] scales = new float[w.out()];
    for (int r = 0; r < scales.length; r++) {
      scales[r] = 2f * scaleData[r * stride];
    }
    return new QuantizedWeight(
        w.layer(), w.tensor(), w.out(), w.in(), codes, scales, w.requantizedRows());
  }

  private byte[] bytes(String tensor) {
    TensorProto t =
        model
            .tensor(tensor)
            .orElseThrow(
                () ->
                    GraftException.invalid(
                        "%s: packed tensor %s is missing", model.source(), tensor));
    ByteBuffer raw = TensorData.rawBytes(t, model.baseDir(), model.source());
    if (raw == null) {
      throw GraftException.invalid("%s: packed tensor %s has no raw data", model.source(), tensor);
    }
    byte[] b = new byte[raw.remaining()];
    raw.get(b);
    return b;
  }
}
