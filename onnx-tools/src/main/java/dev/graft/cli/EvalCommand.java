package dev.graft.cli;

import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.Idx;
import dev.graft.onnx.eval.OrtClassifier;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code graft eval MODEL.onnx --images X --labels Y}: top-1 accuracy with ONNX Runtime. */
@Command(name = "eval", description = "Top-1 accuracy of an image classifier on an IDX test set.")
final class EvalCommand implements Runnable {
  @Parameters(paramLabel = "MODEL.onnx")
  Path model;

  @Option(names = "--images", required = true, paramLabel = "X.idx3-ubyte[.gz]")
  Path images;

  @Option(names = "--labels", required = true, paramLabel = "Y.idx1-ubyte[.gz]")
  Path labels;

  @Option(names = "--batch", defaultValue = "200")
  int batch;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    Idx.Images x = Idx.readImages(images);
    int[] y = Idx.readLabels(labels);
    if (y.length != x.count()) {
      throw dev.graft.onnx.GraftException.invalid(
          "%s has %d labels for %d images in %s", labels, y.length, x.count(), images);
    }
    try (OrtClassifier c = new OrtClassifier(OnnxModel.load(model))) {
      double acc = OrtClassifier.accuracy(c.logits(x, batch), y);
      spec.commandLine()
          .getOut()
          .printf(
              "%s on %s: accuracy %.4f (%d images)%n", model, images.getFileName(), acc, x.count());
    }
  }
}
