package dev.graft.it;

/**
 * {@link AccuracySuite} on ONNX Runtime ({@code mnist-vgg}): the reference accuracies, and every
 * logit of the clean and the patched noisy set bit for bit ONNX Runtime's in this JVM.
 */
class OnnxAccuracyTest extends AccuracySuite {
  OnnxAccuracyTest() {
    super(VggRuntime.ONNX_RUNTIME);
  }
}
