package dev.graft.it;

import static dev.graft.it.Checks.assertOk;
import static dev.graft.it.Fixtures.VGG;
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
 * The fixtures' reference figures, measured over HTTP with {@code /v2} in 200-image requests, and
 * exactness against ONNX Runtime run in this JVM.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccuracyTest {
  private static final String NOISE = "gaussian_noise";
  private static final String NOISE_SRC = "signatures/gaussian_noise.rws";

  private GraftServer server;
  private GraftClient client;
  private final int[] labels = Vgg.labels();

  @BeforeAll
  void start() {
    server =
        GraftServer.builder(getClass().getSimpleName()).exampleModel(VGG).loadModels(VGG).start();
    client = server.client();
    server.putFile(NOISE_SRC, Signatures.forClean(NOISE).toByteArray());
  }

  @AfterEach
  void removeAdapters() {
    Vgg.removeAllAdapters(client, VGG);
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
            Vgg.adaptersPath(VGG) + "?name=" + NOISE + "&src=" + NOISE_SRC + "&alpha=" + alpha),
        "attach " + NOISE);
  }

  @Test
  void cleanModelReproducesReferenceAccuracyOnCleanSet() {
    float[] logits = Vgg.logits(client, VGG, Vgg.images(null), "base");
    double accuracy = Checks.accuracy(logits, Vgg.CLASSES, labels);
    System.out.printf("clean VGG, clean set, over HTTP: %.4f%n", accuracy);
    assertThat(accuracy)
        .as("clean VGG on the clean test set (fixtures/README.md: %s)", Fixtures.CLEAN_ACCURACY)
        .isCloseTo(Fixtures.CLEAN_ACCURACY, within(1e-9));
  }

  @Test
  void cleanModelOutputsEqualInProcessOnnxRuntime() {
    Idx.Images images = Vgg.images(null);
    Batch batch = images.batch(0, Vgg.BATCH);
    try (OrtReference ort = OrtReference.of(OnnxModel.load(Fixtures.vgg("clean")))) {
      Checks.assertBitwiseEqual(
          client.infer(VGG, batch).logits(), ort.run(batch), "server vs in-process ORT, base");
    }
  }

  @Test
  void gaussianNoiseAdapterReachesReferenceAccuracyOnNoisySet() {
    Idx.Images noisy = Vgg.images(NOISE);
    double clean = Checks.accuracy(Vgg.logits(client, VGG, noisy, "base"), Vgg.CLASSES, labels);
    attachNoise(1.0);
    double patched =
        Checks.accuracy(Vgg.logits(client, VGG, noisy, NOISE + "@1.0"), Vgg.CLASSES, labels);
    System.out.printf(
        "gaussian_noise set over HTTP: unpatched %.4f, patched %.4f%n", clean, patched);
    assertThat(patched)
        .as(
            "clean VGG + %s signature (keep 4, 256 levels) on the noisy set; unpatched %s",
            NOISE, clean)
        .isCloseTo(Fixtures.GAUSSIAN_NOISE_PATCHED_ACCURACY, within(0.01));
    assertThat(clean).as("the unpatched model on the noisy set (reference 0.46)").isLessThan(0.6);
  }

  @Test
  void patchedOutputsEqualTheModelPatchedOffline() {
    Batch batch = Vgg.images(NOISE).batch(0, Vgg.BATCH);
    attachNoise(0.5);
    GraftClient.Inference served = client.infer(VGG, batch);
    assertThat(served.weights()).isEqualTo(NOISE + "@0.5");
    List<RwsPatch.Term> terms = List.of(new RwsPatch.Term(Signatures.forClean(NOISE), 0.5));
    try (OrtReference ort = OrtReference.patched(OnnxModel.load(Fixtures.vgg("clean")), terms)) {
      Checks.assertBitwiseEqual(
          served.logits(), ort.run(batch), "server vs clean VGG patched offline, α=0.5");
    }
  }

  @Test
  void detachRestoresCleanOutputsBitForBit() {
    Idx.Images noisy = Vgg.images(NOISE);
    float[] before = Vgg.logits(client, VGG, noisy, "base");
    attachNoise(1.0);
    float[] patched = Vgg.logits(client, VGG, noisy, NOISE + "@1.0");
    assertThat(Checks.differs(patched, before)).as("the adapter changes outputs").isTrue();
    assertOk(client.post(Vgg.adaptersPath(VGG) + "/" + NOISE + "/update?attach=false"), "detach");
    Checks.assertBitwiseEqual(
        Vgg.logits(client, VGG, noisy, "base"), before, "whole noisy set after detach");
  }
}
