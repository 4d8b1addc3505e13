package dev.graft.onnx.ofq;

import dev.graft.onnx.OnnxModel;

/** Lets tests in other packages build {@link TinyModels}. */
public final class TinyModelsAccess {
  private TinyModelsAccess() {}

  /** A 2-bit weight as the left operand of a MatMul. */
  public static OnnxModel leftOperand() {
    return TinyModels.leftOperand(TinyModels.Weight.random(8, 32, 4));
  }
}
