package dev.graft.onnx.rws;

import java.util.ArrayList;
import java.util.List;

/** Conversions between {@link Fingerprint} and its protobuf form. */
final class RwsProtos {
  private RwsProtos() {}

  static Fingerprint fingerprint(dev.graft.onnx.rws.proto.Fingerprint p) {
    List<Fingerprint.TensorSpec> specs = new ArrayList<>();
    for (dev.graft.onnx.rws.proto.TensorSpec s : p.getTensorsList()) {
      specs.add(
          new Fingerprint.TensorSpec(
              s.getName(),
              s.getDimsList().stream().mapToLong(Long::longValue).toArray(),
              s.getDataType()));
    }
    return new Fingerprint(specs, p.getWeightsSha256());
  }

  static dev.graft.onnx.rws.proto.Fingerprint proto(Fingerprint f) {
    dev.graft.onnx.rws.proto.Fingerprint.Builder b =
        dev.graft.onnx.rws.proto.Fingerprint.newBuilder().setWeightsSha256(f.weightsSha256());
    for (Fingerprint.TensorSpec s : f.tensors()) {
      dev.graft.onnx.rws.proto.TensorSpec.Builder sb =
          dev.graft.onnx.rws.proto.TensorSpec.newBuilder()
              .setName(s.name())
              .setDataType(s.dataType());
      for (long d : s.dims()) {
        sb.addDims(d);
      }
      b.addTensors(sb);
    }
    return b.build();
  }
}
