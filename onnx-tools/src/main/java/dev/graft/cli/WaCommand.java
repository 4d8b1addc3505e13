package dev.graft.cli;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.HeadEvaluation;
import dev.graft.onnx.eval.Idx;
import dev.graft.onnx.eval.OrtClassifier;
import dev.graft.onnx.head.Alignment;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.onnx.head.WeightAligner;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code graft wa ...}: Weight Aligning of class-incremental heads, offline. */
@Command(
    name = "wa",
    description = "Class-incremental heads: Weight Aligning and evaluation.",
    subcommands = {WaCommand.Align.class, WaCommand.Eval.class})
final class WaCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "align",
      description = {
        "Scale the new rows of a head by gamma = mean|old rows| / mean|new rows| (bias untouched).",
        "The output keeps the labels and adds metadata gamma and old_classes."
      })
  static final class Align implements Runnable {
    @Option(
        names = "--head",
        required = true,
        paramLabel = "H.safetensors",
        description = "The step's head: old rows first, then the new classes.")
    Path head;

    @Option(
        names = "--old",
        required = true,
        paramLabel = "N",
        description = "Number of old classes (the first N rows).")
    int old;

    @Option(
        names = {"-o", "--output"},
        required = true,
        paramLabel = "OUT.safetensors")
    Path output;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      ClassifierHead h = ClassifierHead.read(head);
      WeightAligner.Aligned aligned = WeightAligner.align(h, old);
      Alignment a = aligned.alignment();
      byte[] bytes =
          aligned
              .head()
              .toSafeTensors(
                  Map.of(
                      "gamma", Double.toString(a.gamma()),
                      "old_classes", Integer.toString(a.oldClasses())));
      try {
        Files.write(output, bytes);
      } catch (IOException e) {
        throw new GraftException(
            GraftException.Code.INTERNAL, output + ": cannot write (" + e.getMessage() + ")", e);
      }
      PrintWriter out = spec.commandLine().getOut();
      out.printf(
          Locale.ROOT,
          "%s: %d classes x %d features, %d old %s, %d new %s%n",
          output,
          h.classes(),
          h.featureDim(),
          old,
          h.labels().subList(0, old),
          h.classes() - old,
          h.labels().subList(old, h.classes()));
      out.printf(
          Locale.ROOT,
          "  gamma %.5f (mean norm old %.4f, new %.4f -> %.4f)%n",
          a.gamma(),
          a.meanOldNorm(),
          a.meanNewNorm(),
          a.meanNewNorm() * a.gamma());
    }
  }

  @Command(
      name = "eval",
      description = {
        "Top-1 accuracy of a backbone (features output) plus a head on an IDX test set,",
        "over the images whose class is among the head's labels."
      })
  static final class Eval implements Runnable {
    @Option(names = "--backbone", required = true, paramLabel = "B.onnx")
    Path backbone;

    @Option(names = "--head", required = true, paramLabel = "H.safetensors")
    Path head;

    @Option(names = "--images", required = true, paramLabel = "X.idx3-ubyte[.gz]")
    Path images;

    @Option(names = "--labels", required = true, paramLabel = "Y.idx1-ubyte[.gz]")
    Path labels;

    @Option(
        names = "--old",
        defaultValue = "0",
        paramLabel = "N",
        description = "Old classes, for the predicted/true share of new classes (default 0).")
    int old;

    @Option(names = "--batch", defaultValue = "200")
    int batch;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      ClassifierHead h = ClassifierHead.read(head);
      Idx.Images x = Idx.readImages(images);
      int[] y = Idx.readLabels(labels);
      if (y.length != x.count()) {
        throw GraftException.invalid(
            "%s has %d labels for %d images in %s", labels, y.length, x.count(), images);
      }
      float[][] features;
      try (OrtClassifier c = new OrtClassifier(OnnxModel.load(backbone))) {
        features = c.logits(x, batch);
      }
      HeadEvaluation e = HeadEvaluation.of(features, y, h, old);
      PrintWriter out = spec.commandLine().getOut();
      out.printf(
          Locale.ROOT,
          "%s on %s: accuracy %.4f (%d images of classes %s)%n",
          head,
          images.getFileName(),
          e.accuracy(),
          e.images(),
          h.labels());
      if (old > 0) {
        out.printf(
            Locale.ROOT,
            "  predicted new %.3f, true new %.3f%n",
            e.predictedNewShare(),
            e.trueNewShare());
      }
    }
  }
}
