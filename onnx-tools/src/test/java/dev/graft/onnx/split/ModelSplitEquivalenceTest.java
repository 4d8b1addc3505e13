package dev.graft.onnx.split;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.onnx.Fixtures;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.Idx;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The done-means of splitting: on every fixture, stem then body gives the whole model's outputs
 * within 1e-5 on the whole clean test set (2,000 digits).
 */
class ModelSplitEquivalenceTest {
  private static final double TOLERANCE = 1e-5;
  private static final int BATCH = 250;

  @ParameterizedTest(name = "{0} after {1}")
  @CsvSource({
    "rws/mnist-vgg-clean.onnx, convs.3",
    "rws/mnist-vgg-clean.onnx, convs.0",
    "rws/mnist-vgg-clean.onnx, convs.7",
    "ofq/ofq-vit-fp32.onnx, /patch/MatMul",
    "ofq/ofq-vit-fp32.onnx, /blocks.0/fc1/MatMul",
    "wa/wa-backbone.onnx, c2",
  })
  void stemThenBodyEqualsTheWholeModelOnTheTestSet(String fixture, String layer) throws Exception {
    OnnxModel model = OnnxModel.load(Fixtures.root().resolve(fixture));
    ModelSplit split = ModelSplitter.split(model, CutFinder.afterLayer(model, layer));
    Idx.Images images = Idx.readImages(Fixtures.testImages(""));

    double worst = 0;
    try (SplitRun run = new SplitRun(model, split)) {
      for (int from = 0; from < images.count(); from += BATCH) {
        int n = Math.min(BATCH, images.count() - from);
        SplitRun.Outputs out = run.run("input", images.batch(from, n), new long[] {n, 1, 28, 28});
        worst = Math.max(worst, out.maxAbsDiff());
      }
    }

    assertThat(images.count()).as("the whole test set").isEqualTo(2000);
    assertThat(worst)
        .as(
            "largest |whole - stem+body| over %d test images of %s cut at %s",
            images.count(), fixture, split.cut())
        .isLessThanOrEqualTo(TOLERANCE);
  }
}
