package dev.graft.it;

/**
 * The TorchScript twin of the fixture VGG as the end-to-end tests serve it: the example folder
 * {@code model-store/mnist-vgg-pt} ({@code engine=PyTorch}, {@code
 * fixtures/rws/mnist-vgg-clean.pt}) on a host whose PyTorch engine extracts its native library into
 * the repository's {@code work/djl-cache} (shared with the plugin's tests, so it is extracted once,
 * not per server) and runs one intra-op thread, like the ONNX example model.
 *
 * <p>PyTorch and ONNX Runtime compute the same convolutions in different orders, so outputs are
 * compared with ONNX Runtime in this JVM within {@link #TOLERANCE}, and with the server's own
 * answers bit for bit ({@link VggRuntime#PYTORCH}).
 */
public final class TorchScriptVgg {
  /** The model name the example store gives the TorchScript VGG. */
  public static final String MODEL = "mnist-vgg-pt";

  /** Largest logit difference allowed between PyTorch and ONNX Runtime on the same weights. */
  public static final double TOLERANCE = 1e-4;

  private TorchScriptVgg() {}

  /** A server builder with the TorchScript VGG loaded at start-up. */
  public static GraftServer.Builder server(String name) {
    return withEngine(GraftServer.builder(name).exampleModel(MODEL).loadModels(MODEL))
        .jvmOption("-Xmx512m");
  }

  /** The PyTorch engine settings every test server uses (config entries only). */
  public static GraftServer.Builder withEngine(GraftServer.Builder builder) {
    return builder
        .property(
            "graft.pytorch.cache_dir",
            Fixtures.root().resolve("work").resolve("djl-cache").toString())
        .property("graft.pytorch.num_threads", "1");
  }
}
