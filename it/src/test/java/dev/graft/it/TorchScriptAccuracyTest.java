package dev.graft.it;

/**
 * {@link AccuracySuite} on the TorchScript twin served by DJL's PyTorch engine ({@code
 * mnist-vgg-pt}), patched with the signature extracted from the ONNX models: the reference
 * accuracies, outputs within 1e-4 of ONNX Runtime on the same weights, and an exact restore on
 * detach.
 */
class TorchScriptAccuracyTest extends AccuracySuite {
  TorchScriptAccuracyTest() {
    super(VggRuntime.PYTORCH);
  }
}
