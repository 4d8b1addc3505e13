package dev.graft.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.graft.onnx.ExternalData;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.split.CutFinder;
import dev.graft.onnx.split.GraphCut;
import dev.graft.onnx.split.ModelSplit;
import dev.graft.onnx.split.ModelSplitter;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code graft split MODEL.onnx --after LAYER|--cut T[,T..] -o DIR}: stem.onnx and body.onnx. */
@Command(
    name = "split",
    description = {
      "Cut a model in two: stem.onnx computes the cut tensors from the inputs, body.onnx the",
      "outputs from the cut tensors. Running one after the other equals the whole model.",
      "Prints the cut and what each part holds as JSON."
    })
final class SplitCommand implements Runnable {
  @Parameters(paramLabel = "MODEL.onnx")
  Path model;

  @ArgGroup(multiplicity = "1")
  Where where;

  @Option(
      names = {"-o", "--output"},
      required = true,
      paramLabel = "DIR",
      description = "Folder for stem.onnx and body.onnx (created if missing).")
  Path output;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Exactly one way to say where to cut. */
  static final class Where {
    @Option(
        names = "--after",
        paramLabel = "LAYER",
        description = "Cut at the smallest cut after this weight layer (see graft inspect).")
    String layer;

    @Option(
        names = "--cut",
        paramLabel = "TENSOR[,TENSOR...]",
        description = "Cut at exactly these tensors.")
    String tensors;
  }

  @Override
  public void run() {
    OnnxModel m = OnnxModel.load(model);
    GraphCut cut =
        where.layer != null ? CutFinder.afterLayer(m, where.layer) : GraphCut.parse(where.tensors);
    ModelSplit split = ModelSplitter.split(m, cut);
    Path stem = output.resolve("stem.onnx");
    Path body = output.resolve("body.onnx");
    // external data is found next to the model file: parts written elsewhere carry their data
    OnnxModel stemModel = ExternalData.inline(split.stem());
    OnnxModel bodyModel = ExternalData.inline(split.body());
    stemModel.save(stem);
    bodyModel.save(body);

    JsonObject root = new JsonObject();
    root.addProperty("model", model.toString());
    root.add("cut", strings(cut.tensors()));
    root.add("stem", part(stemModel, stem, split.stemTensors().size()));
    root.add("body", part(bodyModel, body, split.bodyTensors().size()));
    root.add("passThrough", strings(split.passThrough()));
    root.add(
        "sharedTensors",
        strings(
            split.stemTensors().stream().filter(split.bodyTensors()::contains).sorted().toList()));
    root.addProperty("duplicatedNodes", split.duplicatedNodes());
    PrintWriter out = spec.commandLine().getOut();
    out.println(Json.pretty(root));
  }

  private static JsonObject part(OnnxModel m, Path file, int constants) {
    JsonObject o = new JsonObject();
    o.addProperty("file", file.toString());
    o.addProperty("nodes", m.proto().getGraph().getNodeCount());
    o.addProperty("constantTensors", constants);
    o.addProperty("bytes", m.proto().getSerializedSize());
    o.add(
        "inputs",
        strings(m.proto().getGraph().getInputList().stream().map(v -> v.getName()).toList()));
    return o;
  }

  private static JsonArray strings(Iterable<String> values) {
    JsonArray a = new JsonArray();
    values.forEach(a::add);
    return a;
  }
}
