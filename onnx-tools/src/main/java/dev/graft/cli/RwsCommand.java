package dev.graft.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.rws.Fingerprint;
import dev.graft.onnx.rws.LinearQuantizer;
import dev.graft.onnx.rws.ModelWeights;
import dev.graft.onnx.rws.RwsExtractor;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.onnx.rws.RwsSignature;
import dev.graft.onnx.rws.proto.LayerDelta;
import dev.graft.torchscript.TorchScriptModel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code graft rws ...}: extract, inspect and apply robust weight signatures offline. */
@Command(
    name = "rws",
    description = "Robust weight signatures: extract, inspect, apply.",
    subcommands = {RwsCommand.Extract.class, RwsCommand.Inspect.class, RwsCommand.Apply.class})
final class RwsCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "extract",
      description =
          "Extract a signature from a clean and a robust model"
              + " (ONNX or TorchScript .pt; tensors are matched by name).")
  static final class Extract implements Runnable {
    @Option(names = "--clean", required = true, paramLabel = "C.onnx|C.pt")
    Path clean;

    @Option(names = "--robust", required = true, paramLabel = "R.onnx|R.pt")
    Path robust;

    @Option(
        names = "--pretrained",
        paramLabel = "P.onnx|P.pt",
        description = "Common starting point: project out the clean fine-tuning direction.")
    Path pretrained;

    @Option(names = "--keep", paramLabel = "K", description = "Keep the first K weight layers.")
    Integer keep;

    @Option(
        names = "--layers",
        split = ",",
        paramLabel = "a,b,...",
        description = "Keep these layers (names as printed by graft inspect).")
    List<String> layers;

    @Option(
        names = "--auto-share",
        defaultValue = "0.30",
        paramLabel = "S",
        description =
            "Without --keep/--layers: shortest prefix holding this share of the total relative "
                + "weight change (default ${DEFAULT-VALUE}).")
    double autoShare;

    @Option(
        names = "--levels",
        paramLabel = "N",
        description = "Quantisation levels (default 256).")
    Integer levels;

    @Option(names = "--bits", paramLabel = "B", description = "Quantisation bits (levels = 2^B).")
    Integer bits;

    @Option(
        names = "--per-channel",
        description = "One range per output channel instead of per tensor.")
    boolean perChannel;

    @Option(names = "--name", required = true)
    String name;

    @Option(names = "--corruption", description = "Corruption label (default: the name).")
    String corruption;

    @Option(
        names = {"-o", "--output"},
        required = true,
        paramLabel = "NAME.rws")
    Path output;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      if (levels != null && bits != null) {
        throw GraftException.invalid("give either --levels or --bits, not both");
      }
      if (bits != null && (bits < 1 || bits > 16)) {
        throw GraftException.invalid("--bits must be between 1 and 16, got %d", bits);
      }
      if (keep != null && layers != null) {
        throw GraftException.invalid("give either --keep or --layers, not both");
      }
      int n = bits != null ? 1 << bits : levels != null ? levels : 256;
      RwsExtractor.Options options =
          new RwsExtractor.Options(
              name, corruption == null ? name : corruption, keep, layers, n, perChannel, autoShare);
      ModelWeights c = ModelWeights.load(clean);
      ModelWeights r = ModelWeights.load(robust);
      ModelWeights p = pretrained == null ? null : ModelWeights.load(pretrained);
      RwsExtractor.Result result = RwsExtractor.extract(c, r, p, options);
      result.signature().write(output);
      PrintWriter out = spec.commandLine().getOut();
      out.printf(
          "%s: %d layers (%s): %s%n",
          output,
          result.kept().size(),
          result.selection(),
          result.kept().stream().map(WeightLayer::name).toList());
      out.printf(
          "  %s, %d levels (%d bits), %s, %,d bytes%n",
          p == null ? "plain difference" : "projected against the clean direction",
          n,
          LinearQuantizer.bitsFor(n),
          perChannel ? "per channel" : "per tensor",
          result.signature().serializedSize());
    }
  }

  @Command(name = "inspect", description = "Show a signature's layers, sizes and errors.")
  static final class Inspect implements Runnable {
    @Parameters(paramLabel = "F.rws")
    Path file;

    @Option(
        names = "--model",
        paramLabel = "M.onnx",
        description = "Also compare the size with this model file.")
    Path model;

    @Option(names = "--json")
    boolean json;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      RwsSignature sig = RwsSignature.read(file);
      long fileBytes = sig.serializedSize();
      long allFloats = 0;
      for (Fingerprint.TensorSpec t : sig.fingerprint().tensors()) {
        allFloats += FloatTensor.elementCount(t.dims());
      }
      long keptFloats = 0;
      for (FloatTensor d : sig.deltas()) {
        keptFloats += d.data().length;
      }
      double vsModel = (double) allFloats * 4 / fileBytes;
      double vsKept = (double) keptFloats * 4 / fileBytes;
      Long modelFile = null;
      if (model != null) {
        try {
          modelFile = Files.size(model);
        } catch (java.io.IOException e) {
          throw GraftException.notFound("%s: cannot read (%s)", model, e.getMessage());
        }
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        JsonObject o = new JsonObject();
        o.addProperty("file", file.toString());
        o.addProperty("name", sig.name());
        o.addProperty("corruption", sig.corruption());
        o.addProperty("bytes", fileBytes);
        o.addProperty("sha256", sig.sha256());
        o.addProperty("baseWeightsSha256", sig.fingerprint().weightsSha256());
        o.addProperty("modelWeightBytesFp32", allFloats * 4);
        o.addProperty("keptWeightBytesFp32", keptFloats * 4);
        o.addProperty("compressionVsModelWeights", vsModel);
        o.addProperty("compressionVsKeptLayers", vsKept);
        if (modelFile != null) {
          o.addProperty("modelFileBytes", modelFile);
          o.addProperty("compressionVsModelFile", (double) modelFile / fileBytes);
        }
        JsonArray layers = new JsonArray();
        for (LayerDelta d : sig.proto().getLayersList()) {
          JsonObject l = new JsonObject();
          l.addProperty("layer", d.getLayer());
          l.addProperty("tensor", d.getTensor());
          l.add("shape", Json.longs(d.getDimsList().stream().mapToLong(Long::longValue).toArray()));
          l.addProperty("levels", d.getQuantization().getLevels());
          l.addProperty("bits", d.getQuantization().getBits());
          l.addProperty("granularity", d.getQuantization().getGranularity().name());
          l.addProperty("codeBytes", d.getCodes().size());
          l.addProperty("reconstructionError", d.getReconstructionError());
          layers.add(l);
        }
        o.add("layers", layers);
        JsonObject prov = new JsonObject();
        prov.addProperty("tool", sig.proto().getProvenance().getTool());
        prov.addProperty("toolVersion", sig.proto().getProvenance().getToolVersion());
        prov.addProperty("keep", sig.proto().getProvenance().getKeep());
        prov.addProperty("levels", sig.proto().getProvenance().getLevels());
        prov.addProperty("selection", sig.proto().getProvenance().getSelection());
        prov.addProperty("cleanSha256", sig.proto().getProvenance().getCleanSha256());
        prov.addProperty("robustSha256", sig.proto().getProvenance().getRobustSha256());
        prov.addProperty("pretrainedSha256", sig.proto().getProvenance().getPretrainedSha256());
        prov.addProperty("created", sig.proto().getProvenance().getCreated());
        o.add("provenance", prov);
        out.println(Json.pretty(o));
        return;
      }
      out.printf(
          "%s: signature '%s' (corruption %s), %,d bytes, %d tensors in %d layers%n",
          file, sig.name(), sig.corruption(), fileBytes, sig.deltas().size(), sig.layers().size());
      out.printf(
          "  extracted by %s %s, %s, keep %d, %d levels, base weights %s%n",
          sig.proto().getProvenance().getTool(),
          sig.proto().getProvenance().getToolVersion(),
          sig.proto().getProvenance().getSelection(),
          sig.proto().getProvenance().getKeep(),
          sig.proto().getProvenance().getLevels(),
          sig.fingerprint().weightsSha256().substring(0, 16));
      out.printf(
          "  compression: %.1fx vs the model's fp32 weights (%,d bytes), %.1fx vs the kept layers"
              + " (%,d bytes)%n",
          vsModel, allFloats * 4, vsKept, keptFloats * 4);
      if (modelFile != null) {
        out.printf(
            "  compression: %.1fx vs the model file %s (%,d bytes)%n",
            (double) modelFile / fileBytes, model, modelFile);
      }
      out.printf(
          "  %-12s %-20s %-16s %-7s %-10s %s%n",
          "layer", "tensor", "shape", "bits", "bytes", "rel. error");
      for (LayerDelta d : sig.proto().getLayersList()) {
        out.printf(
            "  %-12s %-20s %-16s %-7s %-10d %.2e%n",
            d.getLayer(),
            d.getTensor(),
            d.getDimsList(),
            d.getQuantization().getBits()
                + (d.getQuantization().getGranularity()
                        == dev.graft.onnx.rws.proto.Quantization.Granularity.PER_CHANNEL
                    ? "/ch"
                    : ""),
            d.getCodes().size(),
            d.getReconstructionError());
      }
    }
  }

  @Command(name = "apply", description = "Patch a model offline: W = W_model + Σ α·RWS.")
  static final class Apply implements Runnable {
    @Option(names = "--model", required = true, paramLabel = "M.onnx")
    Path model;

    @Option(
        names = "--rws",
        required = true,
        paramLabel = "A.rws[:alpha]",
        description = "A signature, optionally scaled (repeatable to compose).")
    List<String> signatures;

    @Option(
        names = "--transfer",
        description =
            "Allow a model whose base weights differ from the signature's (same architecture).")
    boolean transfer;

    @Option(
        names = {"-o", "--output"},
        required = true,
        paramLabel = "OUT.onnx")
    Path output;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      if (TorchScriptModel.isArchive(model)) {
        throw GraftException.invalid(
            "%s is a PyTorch archive; apply writes ONNX models only (Graft patches TorchScript"
                + " models live, with the same signatures)",
            model);
      }
      OnnxModel m = OnnxModel.load(model);
      Fingerprint target = Fingerprint.of(m);
      List<RwsPatch.Term> terms = new ArrayList<>();
      PrintWriter out = spec.commandLine().getOut();
      for (String arg : signatures) {
        RwsPatch.Term term = parseTerm(arg);
        boolean sameBase = term.signature().fingerprint().sameBase(target);
        term.signature().requireApplicableTo(target, model.toString(), true);
        if (!sameBase && !transfer) {
          throw GraftException.precondition(
              "%s: signature %s was extracted against other base weights than %s; pass --transfer"
                  + " to patch an updated model of the same architecture",
              arg, term.signature().name(), model);
        }
        terms.add(term);
      }
      List<FloatTensor> patched = RwsPatch.apply(m::floatTensor, terms);
      m.withTensors(patched).save(output);
      out.printf(
          "%s: patched %d tensors of %s with %s%n",
          output,
          patched.size(),
          model,
          terms.stream().map(t -> t.signature().name() + "@" + t.alpha()).toList());
    }

    private static RwsPatch.Term parseTerm(String arg) {
      int colon = arg.lastIndexOf(':');
      String path = arg;
      double alpha = 1.0;
      if (colon > 0) {
        String tail = arg.substring(colon + 1);
        try {
          alpha = Double.parseDouble(tail);
          path = arg.substring(0, colon);
        } catch (NumberFormatException e) {
          if (!Files.exists(Path.of(arg))) {
            throw GraftException.invalid("--rws %s: alpha '%s' is not a number", arg, tail);
          }
        }
      }
      return new RwsPatch.Term(RwsSignature.read(Path.of(path)), alpha);
    }
  }
}
