package dev.graft.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.Idx;
import dev.graft.onnx.rws.RwsPatch;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The oracle the end-to-end tests compare the server with: the IDX reader and ONNX Runtime in this
 * JVM reproduce the fixtures' reference figures without any server.
 */
class ReferenceOracleTest {

  @Test
  void idxReaderReadsTheLabelledTestSets() {
    Idx.Images clean = Vgg.images(null);
    Idx.Images noisy = Vgg.images("gaussian_noise");
    int[] labels = Vgg.labels();
    assertThat(clean.count()).as("clean test images").isEqualTo(2000);
    assertThat(noisy.count()).as("noisy test images").isEqualTo(2000);
    assertThat(labels).as("labels").hasSize(2000);
    assertThat(clean.height() * clean.width()).as("pixels per image").isEqualTo(784);
    int[] perClass = new int[10];
    for (int l : labels) {
      perClass[l]++;
    }
    assertThat(perClass).as("200 test images per class (fixtures/README.md)").containsOnly(200);
  }

  @Test
  void inProcessOrtReproducesCleanAccuracy() {
    assertThat(accuracy(OnnxModel.load(Fixtures.vgg("clean")), List.of(), null))
        .as("clean VGG on the clean set, ORT in process")
        .isCloseTo(Fixtures.CLEAN_ACCURACY, within(1e-9));
  }

  @Test
  void offlinePatchReproducesGaussianNoiseAccuracy() {
    List<RwsPatch.Term> terms =
        List.of(new RwsPatch.Term(Signatures.forClean("gaussian_noise"), 1.0));
    assertThat(accuracy(OnnxModel.load(Fixtures.vgg("clean")), terms, "gaussian_noise"))
        .as("clean VGG patched offline on the gaussian_noise set")
        .isCloseTo(Fixtures.GAUSSIAN_NOISE_PATCHED_ACCURACY, within(0.01));
  }

  private static double accuracy(OnnxModel model, List<RwsPatch.Term> terms, String corruption) {
    try (OrtReference ort = OrtReference.patched(model, terms)) {
      float[] logits = ort.runAll(Vgg.images(corruption), Vgg.BATCH);
      return Checks.accuracy(logits, Vgg.CLASSES, Vgg.labels());
    }
  }
}
