package dev.graft.it;

import static dev.graft.it.Checks.assertOk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.eval.Idx;
import dev.graft.onnx.rws.RwsPatch;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fixtures' reference figures, measured over HTTP with {@code /v2} in 200-image requests, and
 * agreement with ONNX Runtime run in this JVM on the whole test sets, for one {@link VggRuntime}:
 * {@link OnnxAccuracyTest}, {@link TorchScriptAccuracyTest}. The adapter is the signature extracted
 * from the ONNX models on either runtime.
 */
abstract class AccuracySuite extends AbstractServerTest {
  private static final String NOISE = "gaussian_noise";
  private static final String NOISE_SRC = "signatures/gaussian_noise.rws";

  private final VggRuntime runtime;
  private final String model;
  private final int[] labels = Vgg.labels();

  AccuracySuite(VggRuntime runtime) {
    this.runtime = runtime;
    this.model = runtime.model();
  }

  @Override
  protected GraftServer.Builder serverBuilder(String name) {
    return runtime.server(name);
  }

  @BeforeAll
  void putSignature() {
    server.putFile(NOISE_SRC, Signatures.forClean(NOISE).toByteArray());
  }

  @AfterEach
  void removeAdapters() {
    Vgg.removeAllAdapters(client, model);
  }

  private void attachNoise(double alpha) {
    assertOk(
        client.post(
            Vgg.adaptersPath(model) + "?name=" + NOISE + "&src=" + NOISE_SRC + "&alpha=" + alpha),
        "attach the ONNX-extracted " + NOISE + " signature to " + model);
  }

  /** ONNX Runtime in this JVM on the clean ONNX VGG patched offline with {@code terms}. */
  private static float[] onnxRuntimeLogits(List<RwsPatch.Term> terms, Idx.Images images) {
    try (OrtReference ort = OrtReference.patched(OnnxModel.load(Fixtures.vgg("clean")), terms)) {
      return ort.runAll(images, Vgg.BATCH);
    }
  }

  @Test
  void cleanModelReproducesReferenceAccuracyOnCleanSet() {
    float[] logits = Vgg.logits(client, model, Vgg.images(null), "base");
    double accuracy = Checks.accuracy(logits, Vgg.CLASSES, labels);
    System.out.printf("clean VGG on %s, clean set, over HTTP: %.4f%n", runtime, accuracy);
    assertThat(accuracy)
        .as(
            "%s VGG on the clean test set (fixtures/README.md: %s)",
            runtime, Fixtures.CLEAN_ACCURACY)
        .isCloseTo(Fixtures.CLEAN_ACCURACY, within(1e-9));
  }

  @Test
  void cleanModelOutputsMatchInProcessOnnxRuntime() {
    Idx.Images images = Vgg.images(null);
    float[] served = Vgg.logits(client, model, images, "base");
    double worst =
        runtime.assertMatchesOnnxRuntime(
            served, onnxRuntimeLogits(List.of(), images), "clean set, base weights");
    System.out.printf(
        "%s over HTTP vs ORT in this JVM, clean: max |Δlogit| %.2e%n", runtime, worst);
  }

  @Test
  void gaussianNoiseAdapterReachesReferenceAccuracyOnNoisySet() {
    Idx.Images noisy = Vgg.images(NOISE);
    double clean = Checks.accuracy(Vgg.logits(client, model, noisy, "base"), Vgg.CLASSES, labels);
    attachNoise(1.0);
    double patched =
        Checks.accuracy(Vgg.logits(client, model, noisy, NOISE + "@1.0"), Vgg.CLASSES, labels);
    System.out.printf(
        "gaussian_noise set on %s over HTTP: unpatched %.4f, patched %.4f%n",
        runtime, clean, patched);
    assertThat(patched)
        .as(
            "%s VGG + the ONNX-extracted %s signature (keep 4, 256 levels) on the noisy set;"
                + " unpatched %s",
            runtime, NOISE, clean)
        .isCloseTo(Fixtures.GAUSSIAN_NOISE_PATCHED_ACCURACY, within(0.01));
    assertThat(clean).as("the unpatched model on the noisy set (reference 0.46)").isLessThan(0.6);
  }

  @Test
  void patchedOutputsMatchTheModelPatchedOffline() {
    Idx.Images noisy = Vgg.images(NOISE);
    attachNoise(0.5);
    float[] served = Vgg.logits(client, model, noisy, NOISE + "@0.5");
    List<RwsPatch.Term> terms = List.of(new RwsPatch.Term(Signatures.forClean(NOISE), 0.5));
    double worst =
        runtime.assertMatchesOnnxRuntime(
            served,
            onnxRuntimeLogits(terms, noisy),
            "the 2,000 noisy images vs the clean ONNX VGG patched offline, α=0.5");
    System.out.printf(
        "%s over HTTP vs ORT in this JVM, both patched α=0.5: max |Δlogit| %.2e%n", runtime, worst);
  }

  @Test
  void detachRestoresCleanOutputsBitForBit() {
    Idx.Images noisy = Vgg.images(NOISE);
    float[] before = Vgg.logits(client, model, noisy, "base");
    attachNoise(1.0);
    float[] patched = Vgg.logits(client, model, noisy, NOISE + "@1.0");
    assertThat(Checks.differs(patched, before)).as("the adapter changes outputs").isTrue();
    assertOk(client.post(Vgg.adaptersPath(model) + "/" + NOISE + "/update?attach=false"), "detach");
    Checks.assertBitwiseEqual(
        Vgg.logits(client, model, noisy, "base"), before, "whole noisy set after detach");
  }
}
