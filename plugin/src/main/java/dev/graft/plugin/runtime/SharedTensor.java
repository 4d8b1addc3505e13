package dev.graft.plugin.runtime;

import ai.onnxruntime.OnnxTensor;

/**
 * A native tensor read by several weight states at once: a byte-delta index that does not change
 * with the scale ({@link DeltaLevels}), kept by its {@link DeltaStem} and fed by every compact
 * state that uses it. ONNX Runtime only reads inputs, so concurrent inferences may share it.
 *
 * <p>Ownership: owns the tensor, closed by the last {@link #release}. Thread safe.
 */
final class SharedTensor extends RefCounted {
  private final OnnxTensor tensor;

  /** Takes over {@code tensor}; the caller holds the first reference. */
  SharedTensor(OnnxTensor tensor) {
    this.tensor = tensor;
  }

  /** The tensor; valid while a reference is held. */
  OnnxTensor tensor() {
    return tensor;
  }

  /** Bytes of the tensor's data. */
  long bytes() {
    return tensor.getInfo().getNumElements() * tensor.getInfo().type.size;
  }

  @Override
  protected void closeNative() {
    tensor.close();
  }

  @Override
  public String toString() {
    return "shared tensor " + tensor.getInfo();
  }
}
