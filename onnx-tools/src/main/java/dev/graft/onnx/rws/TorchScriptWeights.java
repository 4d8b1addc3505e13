package dev.graft.onnx.rws;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.WeightLayer;
import dev.graft.torchscript.TorchScriptModel;
import java.util.List;

/** {@link ModelWeights} of a {@link TorchScriptModel}. */
final class TorchScriptWeights implements ModelWeights {
  private final TorchScriptModel model;
  private final Fingerprint fingerprint;

  TorchScriptWeights(TorchScriptModel model) {
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
    return model.hasTensor(name);
  }

  @Override
  public FloatTensor floatTensor(String name) {
    return model.floatTensor(name);
  }

  @Override
  public Fingerprint fingerprint() {
    return fingerprint;
  }

  /** PyTorch stores {@code [out, in, ...]} for Conv and Linear, {@code [in, out, ...]} else. */
  @Override
  public int outputAxis(WeightLayer layer) {
    return layer.opType().equals("ConvTranspose") ? 1 : 0;
  }
}
