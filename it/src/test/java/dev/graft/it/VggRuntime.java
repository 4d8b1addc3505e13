package dev.graft.it;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A runtime serving the fixture VGG, for the suites that run once against each (as grpc-java runs
 * one transport suite against every transport): ONNX Runtime on the example model {@code
 * mnist-vgg}, and DJL's PyTorch engine on its TorchScript twin {@code mnist-vgg-pt} ({@link
 * TorchScriptVgg}). Adapters are always the signatures extracted from the ONNX models.
 *
 * <p>The expected outputs come from ONNX Runtime in this JVM on the ONNX model ({@link
 * OrtReference}). With the example store's session settings ONNX Runtime gives the server's bits;
 * PyTorch computes the same convolutions in another order and is held to {@link
 * TorchScriptVgg#TOLERANCE}.
 */
enum VggRuntime {
  ONNX_RUNTIME("ONNX Runtime", Fixtures.VGG, 0) {
    @Override
    GraftServer.Builder server(String name) {
      return GraftServer.builder(name).exampleModel(Fixtures.VGG).loadModels(Fixtures.VGG);
    }
  },
  PYTORCH("PyTorch", TorchScriptVgg.MODEL, TorchScriptVgg.TOLERANCE) {
    @Override
    GraftServer.Builder server(String name) {
      return TorchScriptVgg.server(name);
    }
  };

  private final String label;
  private final String model;
  private final double tolerance;

  VggRuntime(String label, String model, double tolerance) {
    this.label = label;
    this.model = model;
    this.tolerance = tolerance;
  }

  /** A server builder with this runtime's VGG loaded at start-up. */
  abstract GraftServer.Builder server(String name);

  /** The name the example store gives this runtime's VGG. */
  String model() {
    return model;
  }

  /** Largest logit difference allowed against ONNX Runtime in this JVM; 0 means bit for bit. */
  double tolerance() {
    return tolerance;
  }

  /**
   * Asserts served logits against ONNX Runtime's in this JVM on the same weights: the same bits on
   * ONNX Runtime, within {@link #tolerance()} on PyTorch.
   *
   * @return the largest absolute difference (0 on ONNX Runtime)
   */
  double assertMatchesOnnxRuntime(float[] served, float[] expected, String what) {
    if (tolerance == 0) {
      Checks.assertBitwiseEqual(served, expected, what + ", " + label + " vs in-process ORT");
      return 0;
    }
    double worst = Checks.maxDifference(served, expected);
    assertThat(worst)
        .as("%s: largest logit difference, %s vs in-process ORT", what, label)
        .isLessThanOrEqualTo(tolerance);
    return worst;
  }

  @Override
  public String toString() {
    return label;
  }
}
