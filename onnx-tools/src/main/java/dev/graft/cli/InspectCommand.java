package dev.graft.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.torchscript.TorchScriptModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code graft inspect MODEL.onnx|MODEL.pt}: the weight layers in order. */
@Command(
    name = "inspect",
    description =
        "List a model's weight layers (Conv, Gemm, MatMul) in order"
            + " (ONNX or TorchScript .pt).")
final class InspectCommand implements Runnable {
  @Parameters(paramLabel = "MODEL.onnx|MODEL.pt")
  Path model;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    if (TorchScriptModel.isArchive(model)) {
      inspectTorchScript();
      return;
    }
    OnnxModel m = OnnxModel.load(model);
    List<WeightLayer> layers = m.layers();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      JsonObject root = new JsonObject();
      root.addProperty("model", model.toString());
      root.addProperty("irVersion", m.proto().getIrVersion());
      root.addProperty("producer", m.proto().getProducerName());
      root.add("layers", layersJson(layers, m::dims, true));
      out.println(Json.pretty(root));
      return;
    }
    long params = 0;
    for (TensorProto t : m.tensors().values()) {
      params += t.getDimsList().stream().reduce(1L, (a, b) -> a * b);
    }
    out.printf(
        "%s: IR %d, %s %s, %d weight layers, %,d constant values%n",
        model,
        m.proto().getIrVersion(),
        m.proto().getProducerName(),
        m.proto().getProducerVersion(),
        layers.size(),
        params);
    printTable(out, layers, m::dims);
  }

  /** A TorchScript archive: the layers as the RWS commands see them (no graph to read). */
  private void inspectTorchScript() {
    TorchScriptModel m = TorchScriptModel.load(model);
    PrintWriter out = spec.commandLine().getOut();
    long values = 0;
    for (TorchScriptModel.TensorInfo t : m.tensors()) {
      values += FloatTensor.elementCount(t.dims());
    }
    if (json) {
      JsonObject root = new JsonObject();
      root.addProperty("model", model.toString());
      root.addProperty("format", "torchscript");
      root.add("layers", layersJson(m.layers(), m::dims, false));
      out.println(Json.pretty(root));
      return;
    }
    out.printf(
        "%s: PyTorch archive, %d tensors, %d weight layers (registration order), %,d values%n",
        model, m.tensors().size(), m.layers().size(), values);
    printTable(out, m.layers(), m::dims);
  }

  /**
   * One JSON object per layer, in order. {@code withNode} adds the graph node's name, which only an
   * ONNX model has (a TorchScript layer is its module).
   */
  private static JsonArray layersJson(
      List<WeightLayer> layers, Function<String, long[]> dims, boolean withNode) {
    JsonArray arr = new JsonArray();
    int i = 0;
    for (WeightLayer l : layers) {
      JsonObject o = new JsonObject();
      o.addProperty("index", i++);
      o.addProperty("name", l.name());
      o.addProperty("opType", l.opType());
      if (withNode) {
        o.addProperty("node", l.nodeName());
      }
      o.addProperty("weight", l.weight());
      o.add("weightShape", Json.longs(dims.apply(l.weight())));
      if (l.bias() != null) {
        o.addProperty("bias", l.bias());
        o.add("biasShape", Json.longs(dims.apply(l.bias())));
      }
      arr.add(o);
    }
    return arr;
  }

  /** The layer table both formats print: index, name, op, weight, its shape, bias. */
  private static void printTable(
      PrintWriter out, List<WeightLayer> layers, Function<String, long[]> dims) {
    out.printf("%-4s %-24s %-14s %-28s %-18s %s%n", "#", "layer", "op", "weight", "shape", "bias");
    int i = 0;
    for (WeightLayer l : layers) {
      out.printf(
          "%-4d %-24s %-14s %-28s %-18s %s%n",
          i++,
          l.name(),
          l.opType(),
          l.weight(),
          Arrays.toString(dims.apply(l.weight())),
          l.bias() == null ? "-" : l.bias());
    }
  }
}
