package dev.graft.it;

import static dev.graft.it.Checks.assertOk;
import static dev.graft.it.TorchScriptVgg.MODEL;
import static dev.graft.it.TorchScriptVgg.TOLERANCE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.RwsPatch;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@link AccuracyTest}'s figures for the TorchScript twin served by DJL's PyTorch engine, patched
 * with the signature extracted from the ONNX models: the reference accuracies, outputs within 1e-4
 * of ONNX Runtime on the same weights, and an exact restore on detach.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TorchScriptAccuracyTest {
  private static final String NOISE = "gaussian_noise";
  private static final String NOISE_SRC = "signatures/gaussian_noise.rws";

  private GraftServer server;
  private GraftClient client;
  private final int[] labels = Vgg.labels();

  @BeforeAll
  void start() {
    server = TorchScriptVgg.server(getClass().getSimpleName()).start();
    client = server.client();
    server.putFile(NOISE_SRC, Signatures.forClean(NOISE).toByteArray());
  }

  @AfterEach
  void removeAdapters() {
    Vgg.removeAllAdapters(client, MODEL);
  }

  @AfterAll
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private void attachNoise(double alpha) {
    assertOk(
        client.post(
            Vgg.adaptersPath(MODEL) + "?name=" + NOISE + "&src=" + NOISE_SRC + "&alpha=" + alpha),
        "attach the ONNX-extracted " + NOISE + " signature to the TorchScript model");
  }

  @Test
  void cleanModelReproducesReferenceAccuracyOnCleanSet() {
    float[] logits = Vgg.logits(client, MODEL, Vgg.images(null), "base");
    double accuracy = Checks.accuracy(logits, Vgg.CLASSES, labels);
    System.out.printf("clean VGG on PyTorch, clean set, over HTTP: %.4f%n", accuracy);
    assertThat(accuracy)
        .as(
            "TorchScript VGG on the clean test set (fixtures/README.md: %s)",
            Fixtures.CLEAN_ACCURACY)
        .isCloseTo(Fixtures.CLEAN_ACCURACY, within(1e-9));
  }

  @Test
  void gaussianNoiseAdapterReachesReferenceAccuracyOnNoisySet() {
    Idx.Images noisy = Vgg.images(NOISE);
    attachNoise(1.0);
    double patched =
        Checks.accuracy(Vgg.logits(client, MODEL, noisy, NOISE + "@1.0"), Vgg.CLASSES, labels);
    System.out.printf("gaussian_noise set on PyTorch over HTTP, patched: %.4f%n", patched);
    assertThat(patched)
        .as("TorchScript VGG + the ONNX-extracted %s signature on the noisy set", NOISE)
        .isCloseTo(Fixtures.GAUSSIAN_NOISE_PATCHED_ACCURACY, within(0.01));
  }

  @Test
  void patchedOutputsMatchTheOnnxModelPatchedOfflineWithin1e4() {
    Idx.Images noisy = Vgg.images(NOISE);
    attachNoise(0.5);
    float[] served = Vgg.logits(client, MODEL, noisy, NOISE + "@0.5");
    List<RwsPatch.Term> terms = List.of(new RwsPatch.Term(Signatures.forClean(NOISE), 0.5));
    float[] expected = new float[served.length];
    try (OrtReference ort = OrtReference.patched(OnnxModel.load(Fixtures.vgg("clean")), terms)) {
      for (int from = 0; from < noisy.count(); from += Vgg.BATCH) {
        float[] part = ort.run(noisy.batch(from, Vgg.BATCH));
        System.arraycopy(part, 0, expected, from * Vgg.CLASSES, part.length);
      }
    }
    double worst = TorchScriptVgg.maxDifference(served, expected);
    System.out.printf("PyTorch vs ONNX Runtime, both patched α=0.5: max |Δlogit| %.2e%n", worst);
    assertThat(worst)
        .as("largest logit difference on the 2,000 noisy images, PyTorch over HTTP vs ORT")
        .isLessThanOrEqualTo(TOLERANCE);
  }

  @Test
  void detachRestoresCleanOutputsBitForBit() {
    Idx.Images noisy = Vgg.images(NOISE);
    float[] before = Vgg.logits(client, MODEL, noisy, "base");
    attachNoise(1.0);
    float[] patched = Vgg.logits(client, MODEL, noisy, NOISE + "@1.0");
    assertThat(Checks.differs(patched, before)).as("the adapter changes outputs").isTrue();
    assertOk(client.post(Vgg.adaptersPath(MODEL) + "/" + NOISE + "/update?attach=false"), "detach");
    Checks.assertBitwiseEqual(
        Vgg.logits(client, MODEL, noisy, "base"), before, "whole noisy set after detach");
  }
}
