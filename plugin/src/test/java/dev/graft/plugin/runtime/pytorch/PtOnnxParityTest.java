package dev.graft.plugin.runtime.pytorch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.ModelWeights;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.ModelFile;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.OrtModelRuntime;
import dev.graft.plugin.runtime.Weights;
import dev.graft.plugin.testing.Fixtures;
import dev.graft.plugin.testing.TorchFixtures;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The TorchScript twin on PyTorch and the ONNX model on ONNX Runtime, patched with the same
 * signature (extracted from the ONNX models), agree within 1e-4 on every logit of the 2,000-image
 * corrupted test set, and both reproduce the fixtures' reference accuracy.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PtOnnxParityTest {
  private static final int IMAGES = 2000;
  private static final int BATCH = 250;
  private static final double TOLERANCE = 1e-4;

  private ModelRuntime torch;
  private OrtModelRuntime ort;
  private ModelWeights torchBase;
  private OnnxModel onnxBase;

  @BeforeAll
  void open() {
    torchBase = TorchFixtures.weights("clean");
    torch = TorchFixtures.open("vgg-pt", "clean");
    ModelFile file = ModelFile.read(Fixtures.vgg("clean"));
    onnxBase = file.model();
    ort = OrtModelRuntime.open("vgg-onnx", file, ModelSettings.defaults());
  }

  @AfterAll
  void close() {
    torch.close();
    ort.close();
  }

  @ParameterizedTest(name = "{0} at alpha {1}")
  @CsvSource({"gaussian_noise, 1.0, 0.9285", "contrast, 1.25, 0.8770"})
  void patchedTorchScriptMatchesThePatchedOnnxTwin(String corruption, double alpha, double ref) {
    List<RwsPatch.Term> terms = List.of(new RwsPatch.Term(Fixtures.signature(corruption), alpha));
    String label = corruption + "@" + alpha;
    torch.swapWeights(new Weights(label, RwsPatch.apply(torchBase::floatTensor, terms)));
    ort.swapWeights(new Weights(label, RwsPatch.apply(onnxBase::floatTensor, terms)));
    try {
      float[] images = Fixtures.testImages(corruption, IMAGES);
      int[] labels = Fixtures.testLabels(IMAGES);
      double worst = 0;
      int torchCorrect = 0;
      int ortCorrect = 0;
      for (int start = 0; start < IMAGES; start += BATCH) {
        float[] a = logits(torch, images, start);
        float[] b = logits(ort, images, start);
        for (int i = 0; i < a.length; i++) {
          worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        torchCorrect += correct(a, labels, start);
        ortCorrect += correct(b, labels, start);
      }

      assertThat(worst)
          .as("largest |PyTorch - ONNX Runtime| logit difference, %s", label)
          .isLessThanOrEqualTo(TOLERANCE);
      assertThat(torchCorrect)
          .as("correct answers of PyTorch vs ONNX Runtime")
          .isEqualTo(ortCorrect);
      assertThat(torchCorrect / (double) IMAGES)
          .as("patched accuracy on the %s test set vs the fixtures' reference", corruption)
          .isCloseTo(ref, org.assertj.core.data.Offset.offset(0.01));
    } finally {
      torch.swapWeights(Weights.base());
      ort.swapWeights(Weights.base());
    }
  }

  @Test
  void unpatchedModelsAgreeToo() {
    float[] images = Fixtures.testImages("", BATCH);
    float[] a = logits(torch, images, 0);
    float[] b = logits(ort, images, 0);
    for (int i = 0; i < a.length; i++) {
      assertThat((double) a[i])
          .as("logit %d", i)
          .isCloseTo(b[i], org.assertj.core.data.Offset.offset(TOLERANCE));
    }
  }

  private static float[] logits(ModelRuntime r, float[] images, int start) {
    float[] batch = new float[BATCH * 784];
    System.arraycopy(images, start * 784, batch, 0, batch.length);
    FloatTensor x = new FloatTensor("input", new long[] {BATCH, 1, 28, 28}, batch);
    return r.infer(Map.of("input", x), Set.of()).outputs().get(0).data();
  }

  private static int correct(float[] logits, int[] labels, int start) {
    int n = 0;
    for (int i = 0; i < BATCH; i++) {
      int best = 0;
      for (int c = 1; c < 10; c++) {
        if (logits[i * 10 + c] > logits[i * 10 + best]) {
          best = c;
        }
      }
      n += best == labels[start + i] ? 1 : 0;
    }
    return n;
  }
}
