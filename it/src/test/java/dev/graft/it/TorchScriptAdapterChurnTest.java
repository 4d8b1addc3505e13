package dev.graft.it;

/**
 * {@link AdapterChurnSuite} on the TorchScript twin ({@code mnist-vgg-pt}), whose parameters are
 * patched in place under a read-write lock: every response bit for bit the server's own answer for
 * the state it names, and within 1e-4 of ONNX Runtime on the ONNX model patched offline.
 */
class TorchScriptAdapterChurnTest extends AdapterChurnSuite {
  TorchScriptAdapterChurnTest() {
    super(VggRuntime.PYTORCH);
  }
}
