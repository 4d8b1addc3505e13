package dev.graft.onnx.rws;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.torchscript.TorchScriptModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What a signature was extracted against: every constant tensor's name, shape and data type in file
 * order (the architecture) and the SHA-256 of the base weights.
 */
public record Fingerprint(List<TensorSpec> tensors, String weightsSha256) {

  /** One constant tensor of the architecture. */
  public record TensorSpec(String name, long[] dims, int dataType) {
    boolean sameAs(TensorSpec o) {
      return name.equals(o.name) && Arrays.equals(dims, o.dims) && dataType == o.dataType;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof TensorSpec t && sameAs(t);
    }

    @Override
    public int hashCode() {
      return name.hashCode() * 31 + Arrays.hashCode(dims) + dataType;
    }

    @Override
    public String toString() {
      return name + Arrays.toString(dims);
    }
  }

  public Fingerprint {
    tensors = List.copyOf(tensors);
  }

  /** The fingerprint of a loaded model. */
  public static Fingerprint of(OnnxModel model) {
    List<TensorSpec> specs = new ArrayList<>();
    for (Map.Entry<String, TensorProto> e : model.tensors().entrySet()) {
      specs.add(
          new TensorSpec(
              e.getKey(),
              e.getValue().getDimsList().stream().mapToLong(Long::longValue).toArray(),
              e.getValue().getDataType()));
    }
    return new Fingerprint(specs, model.weightsDigest());
  }

  /**
   * The fingerprint of a PyTorch model: its tensors in module order with the ONNX code of their
   * data type, and its digest in the ONNX encoding. It equals the fingerprint of an ONNX export
   * whose constant tensors are exactly the module's tensors (same names, order, shapes, values),
   * which is what {@code torch.onnx.export} writes for models without folded layers; signatures
   * then move between the two formats unchanged.
   */
  public static Fingerprint of(TorchScriptModel model) {
    List<TensorSpec> specs = new ArrayList<>();
    for (TorchScriptModel.TensorInfo t : model.tensors()) {
      specs.add(new TensorSpec(t.name(), t.dims(), t.dataType()));
    }
    return new Fingerprint(specs, model.weightsDigest());
  }

  /** Whether the architectures (names, shapes, data types in order) are the same. */
  public boolean sameArchitecture(Fingerprint other) {
    return firstArchitectureDifference(other) == null;
  }

  /** Whether the base weights are the same too. */
  public boolean sameBase(Fingerprint other) {
    return weightsSha256.equals(other.weightsSha256);
  }

  /**
   * Throws {@code FAILED_PRECONDITION} naming the first difference when {@code other} is another
   * architecture.
   *
   * @param what names the two sides in the message, e.g. "signature gaussian_noise vs model vgg"
   */
  public void requireSameArchitecture(Fingerprint other, String what) {
    String diff = firstArchitectureDifference(other);
    if (diff != null) {
      throw GraftException.precondition("%s: different architectures (%s)", what, diff);
    }
  }

  private String firstArchitectureDifference(Fingerprint other) {
    int n = Math.min(tensors.size(), other.tensors.size());
    for (int i = 0; i < n; i++) {
      TensorSpec a = tensors.get(i);
      TensorSpec b = other.tensors.get(i);
      if (!a.sameAs(b)) {
        return "tensor #" + i + " is " + a + " in one and " + b + " in the other";
      }
    }
    if (tensors.size() != other.tensors.size()) {
      return tensors.size() + " weight tensors in one, " + other.tensors.size() + " in the other";
    }
    return null;
  }
}
