package dev.graft.plugin.bench;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.build.GraphBuilder;
import dev.graft.onnx.proto.ModelProto;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.plugin.config.ModelSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The protocol floor of a served figure: a model that takes the subject's input and answers as many
 * floats as the subject does, but computes nothing ({@code Flatten}, then a {@code Slice} of the
 * first values), served by the same host next to the subject. Its CPU time per request (client plus
 * host) is what a request costs apart from inference: parsing, copying, the hand-offs between
 * threads, the sockets and ONNX Runtime's per-run overhead. With the load generator on the same
 * cores, a served model can reach at most {@code c / (c + floor)} of its in-process throughput,
 * {@code c} being the in-process CPU time per inference.
 */
final class ProtocolFloor {
  /** The floor model's name in the host's store. */
  static final String MODEL = "protocol-floor";

  /** Appended to a client's name for its floor cell. */
  static final String SUFFIX = " floor";

  private ProtocolFloor() {}

  /** Writes the floor model for {@code input} answering {@code outputs} floats into {@code dir}. */
  static void write(Path dir, FloatTensor input, int outputs) throws IOException {
    long[] dims = input.dims();
    long features = 1;
    for (int i = 1; i < dims.length; i++) {
      features *= dims[i];
    }
    if (outputs > features) {
      throw new IllegalArgumentException(
          "the floor answers a slice of its input: " + outputs + " outputs > " + features);
    }
    GraphBuilder g = new GraphBuilder(MODEL);
    List<Object> inputDims = new ArrayList<>(List.of("N"));
    for (int i = 1; i < dims.length; i++) {
      inputDims.add(dims[i]);
    }
    String x = g.input(input.name(), TensorProto.DataType.FLOAT_VALUE, inputDims.toArray());
    String flat = g.node("Flatten").in(x).attr("axis", 1L).out();
    String y =
        g.node("Slice")
            .in(flat, g.int64s("starts", 0), g.int64s("ends", outputs), g.int64s("axes", 1))
            .out();
    g.output(y, "y", TensorProto.DataType.FLOAT_VALUE, "N", (long) outputs);
    ModelProto model = g.model(8, Map.of("", 17L), "graft-bench");
    Files.createDirectories(dir);
    Files.write(dir.resolve(MODEL + ".onnx"), model.toByteArray());
    Files.writeString(
        dir.resolve(ModelSettings.FILE_NAME),
        "engine=OnnxRuntime\noption.intraOpNumThreads=1\noption.interOpNumThreads=1\n"
            + "option.graft.split=off\n");
  }

  /** Checks a floor answer: the first {@code outputs} values of the input. */
  static void check(FloatTensor input, float[] answer, int outputs) {
    if (answer.length != outputs) {
      throw new IllegalStateException(
          "the protocol floor answered " + answer.length + " values, not " + outputs);
    }
    for (int i = 0; i < outputs; i++) {
      if (Float.floatToIntBits(answer[i]) != Float.floatToIntBits(input.data()[i])) {
        throw new IllegalStateException("the protocol floor's value " + i + " is not the input's");
      }
    }
  }
}
