package dev.graft.onnx.rws;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.proto.AttributeProto;
import dev.graft.onnx.proto.NodeProto;
import java.util.List;

/** {@link ModelWeights} of an {@link OnnxModel}. */
final class OnnxWeights implements ModelWeights {
  private final OnnxModel model;
  private final Fingerprint fingerprint;

  OnnxWeights(OnnxModel model) {
    this.model = model;
    this.fingerprint = Fingerprint.of(model);
  }

  @Override
  public String source() {
    return model.source();
  }

  @Override
  public List<WeightLayer> layers() {
    return model.layers();
  }

  @Override
  public boolean hasTensor(String name) {
    return model.tensors().containsKey(name);
  }

  @Override
  public FloatTensor floatTensor(String name) {
    return model.floatTensor(name);
  }

  @Override
  public Fingerprint fingerprint() {
    return fingerprint;
  }

  /** 0 for Conv and Gemm with transB, 1 for ConvTranspose and plain Gemm, last for MatMul's B. */
  @Override
  public int outputAxis(WeightLayer layer) {
    long[] dims = model.dims(layer.weight());
    return switch (layer.opType()) {
      case "MatMul" -> dims.length - 1;
      case "ConvTranspose" -> 1;
      case "Gemm" -> transB(layer) ? 0 : 1;
      default -> 0;
    };
  }

  private boolean transB(WeightLayer layer) {
    for (NodeProto n : model.proto().getGraph().getNodeList()) {
      if (n.getOpType().equals("Gemm")
          && n.getInputCount() > 1
          && n.getInput(1).equals(layer.weight())) {
        for (AttributeProto a : n.getAttributeList()) {
          if (a.getName().equals("transB")) {
            return a.getI() != 0;
          }
        }
      }
    }
    return false;
  }
}
