package dev.graft.it;

/**
 * {@link AdapterChurnSuite} on ONNX Runtime ({@code mnist-vgg}), whose patched weights are swapped
 * in as a rebuilt session: every response bit for bit ONNX Runtime's in this JVM for the state it
 * names.
 */
class OnnxAdapterChurnTest extends AdapterChurnSuite {
  OnnxAdapterChurnTest() {
    super(VggRuntime.ONNX_RUNTIME);
  }
}
