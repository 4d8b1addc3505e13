package dev.graft.plugin.runtime.pytorch;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.TensorSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The inputs and outputs of a TorchScript model, which the file does not declare: names from {@code
 * serving.properties} ({@link ModelSettings.Io}), input shapes where configured, output shapes
 * where a probe run measured them. Immutable.
 *
 * <p>An input without a configured shape is listed as {@code [-1]} and accepts any shape; PyTorch
 * itself then refuses what does not fit. An output whose shape was not measured is listed as {@code
 * [-1]}.
 *
 * @param inputs the inputs in {@code forward()} argument order
 * @param outputs the outputs in result order
 * @param declared which inputs have a configured shape
 */
record TorchIo(List<TensorSpec> inputs, List<TensorSpec> outputs, Set<String> declared) {
  private static final String FP32 = "FP32";
  private static final long[] UNKNOWN = {-1};

  TorchIo {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    declared = Set.copyOf(declared);
  }

  /** The inputs and outputs {@code serving.properties} describes. */
  static TorchIo of(ModelSettings.Io io) {
    List<TensorSpec> in = new ArrayList<>();
    for (String name : io.inputs()) {
      List<Long> shape = io.shapes().get(name);
      in.add(
          new TensorSpec(
              name,
              FP32,
              shape == null ? UNKNOWN : shape.stream().mapToLong(Long::longValue).toArray()));
    }
    List<TensorSpec> out = new ArrayList<>();
    for (String name : io.outputs()) {
      out.add(new TensorSpec(name, FP32, UNKNOWN));
    }
    return new TorchIo(in, out, io.shapes().keySet());
  }

  /** Whether every input has a configured shape, so a probe input can be built. */
  boolean fullyDeclared() {
    return declared.containsAll(inputs.stream().map(TensorSpec::name).toList());
  }

  /** Zero inputs of the configured shapes, with every free size set to 1. */
  List<FloatTensor> probeInputs() {
    List<FloatTensor> out = new ArrayList<>();
    for (TensorSpec spec : inputs) {
      long[] dims = spec.shape();
      for (int i = 0; i < dims.length; i++) {
        dims[i] = dims[i] < 0 ? 1 : dims[i];
      }
      out.add(new FloatTensor(spec.name(), dims, new float[(int) FloatTensor.elementCount(dims)]));
    }
    return out;
  }

  /**
   * The same inputs with output shapes measured on {@link #probeInputs()}: the leading size is free
   * when the first input's is.
   */
  TorchIo withMeasuredOutputs(List<FloatTensor> probed) {
    boolean freeBatch =
        !inputs.isEmpty() && inputs.get(0).shape().length > 0 && inputs.get(0).shape()[0] < 0;
    List<TensorSpec> out = new ArrayList<>();
    for (int i = 0; i < outputs.size(); i++) {
      long[] dims = probed.get(i).dims().clone();
      if (freeBatch && dims.length > 0) {
        dims[0] = -1;
      }
      out.add(new TensorSpec(outputs.get(i).name(), FP32, dims));
    }
    return new TorchIo(inputs, out, declared);
  }

  List<String> outputNames() {
    return outputs.stream().map(TensorSpec::name).toList();
  }

  /**
   * The feeds in argument order, checked against the declared shapes.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} for a missing, unknown or ill-shaped input
   */
  List<FloatTensor> arguments(String model, Map<String, FloatTensor> feeds) {
    Set<String> unknown = new HashSet<>(feeds.keySet());
    List<FloatTensor> args = new ArrayList<>(inputs.size());
    for (TensorSpec spec : inputs) {
      unknown.remove(spec.name());
      FloatTensor t = feeds.get(spec.name());
      if (t == null) {
        throw GraftException.invalid("%s: input %s is missing", model, spec.name());
      }
      if (declared.contains(spec.name()) && !spec.accepts(t.dims())) {
        throw GraftException.invalid(
            "%s: input %s has shape %s, the model takes %s",
            model, spec.name(), t.shapeString(), Arrays.toString(spec.shape()));
      }
      args.add(t);
    }
    if (!unknown.isEmpty()) {
      throw GraftException.invalid(
          "%s has no input named %s (inputs: %s)",
          model, unknown, inputs.stream().map(TensorSpec::name).toList());
    }
    return args;
  }

  /**
   * Indices of the wanted outputs in result order; all when {@code wanted} is empty.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} for an unknown output
   */
  List<Integer> select(String model, Set<String> wanted) {
    List<Integer> out = new ArrayList<>();
    Set<String> unknown = new HashSet<>(wanted);
    for (int i = 0; i < outputs.size(); i++) {
      String n = outputs.get(i).name();
      if (wanted.isEmpty() || wanted.contains(n)) {
        out.add(i);
        unknown.remove(n);
      }
    }
    if (!unknown.isEmpty()) {
      throw GraftException.invalid(
          "%s has no output named %s (outputs: %s)", model, unknown, outputNames());
    }
    return out;
  }
}
