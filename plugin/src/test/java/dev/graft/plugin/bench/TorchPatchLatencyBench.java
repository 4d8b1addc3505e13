package dev.graft.plugin.bench;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.rws.ModelWeights;
import dev.graft.onnx.rws.RwsExtractor;
import dev.graft.onnx.rws.RwsPatch;
import dev.graft.onnx.rws.RwsSignature;
import dev.graft.plugin.config.ModelSettings;
import dev.graft.plugin.runtime.ModelFile;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.runtime.OrtModelRuntime;
import dev.graft.plugin.runtime.Weights;
import dev.graft.plugin.testing.Fixtures;
import dev.graft.plugin.testing.TorchFixtures;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Patch latency in process, not a test: for the VGG fixture, the time of {@code swapWeights} and
 * the time from the swap call to the first inference served by the patched weights, for the
 * TorchScript twin on PyTorch (parameters written in place) next to the ONNX model on ONNX Runtime
 * (a new session built). Prints a Markdown table of medians. The PyTorch engine runs with one
 * intra-op thread and without the profiling graph executor (the test configuration), ONNX Runtime
 * with the example model's settings (one thread, EXTENDED_OPT).
 *
 * <pre>
 * mvn -B -q -o -pl onnx-tools,plugin test-compile
 * mvn -B -q -o -pl plugin dependency:build-classpath -Dmdep.includeScope=test \
 *     -Dmdep.outputFile=target/test.cp
 * java -cp plugin/target/test-classes:plugin/target/classes:onnx-tools/target/classes:$(cat \
 *     plugin/target/test.cp) dev.graft.plugin.bench.TorchPatchLatencyBench [-Dbench.repeats=20]
 * </pre>
 */
public final class TorchPatchLatencyBench {
  private static final int WARM_UP = 50;

  private TorchPatchLatencyBench() {}

  public static void main(String[] args) {
    int repeats = Integer.getInteger("bench.repeats", 20);
    ModelSettings onnxSettings = ModelSettings.readFolder(Fixtures.exampleModelFolder());
    FloatTensor x =
        new FloatTensor(
            "input", new long[] {1, 1, 28, 28}, Fixtures.testImages("gaussian_noise", 1));
    System.out.printf(
        "| model | engine | patch | tensors | swapWeights (median ms) | swap to first response"
            + " (median ms) |%n|---|---|---|---|---|---|%n");
    for (int keep : new int[] {4, 9}) {
      RwsSignature sig = signature(keep);
      ModelFile file = ModelFile.read(Fixtures.vgg("clean"));
      try (ModelRuntime ort = OrtModelRuntime.open("vgg", file, onnxSettings);
          ModelRuntime torch = TorchFixtures.open("vgg-pt", "clean")) {
        row("ONNX Runtime (session rebuild)", ort, ModelWeights.of(file.model()), sig, x, repeats);
        row("PyTorch (in place)", torch, TorchFixtures.weights("clean"), sig, x, repeats);
      }
    }
  }

  private static void row(
      String engine, ModelRuntime r, ModelWeights base, RwsSignature sig, FloatTensor x, int n) {
    List<FloatTensor> patched =
        RwsPatch.apply(base::floatTensor, List.of(new RwsPatch.Term(sig, 1)));
    Weights w = new Weights("bench@1.0", patched);
    long[] swap = new long[n];
    long[] first = new long[n];
    for (int i = 0; i < WARM_UP; i++) {
      infer(r, x);
    }
    for (int i = -3; i < n; i++) {
      infer(r, x);
      long t0 = System.nanoTime();
      r.swapWeights(w);
      long t1 = System.nanoTime();
      String label = infer(r, x);
      long t2 = System.nanoTime();
      if (!label.equals(w.label())) {
        throw new IllegalStateException("first response after the swap ran on " + label);
      }
      r.swapWeights(Weights.base());
      if (i >= 0) {
        swap[i] = t1 - t0;
        first[i] = t2 - t0;
      }
    }
    System.out.printf(
        "| mnist-vgg | %s | keep %d | %d | %.3f | %.3f |%n",
        engine, sig.layers().size(), patched.size(), median(swap), median(first));
  }

  private static String infer(ModelRuntime r, FloatTensor x) {
    return r.infer(Map.of("input", x), Set.of()).weights();
  }

  private static RwsSignature signature(int keep) {
    return RwsExtractor.extract(
            Fixtures.vggModel("clean"),
            Fixtures.vggModel("robust-gaussian_noise"),
            Fixtures.vggModel("pretrained"),
            new RwsExtractor.Options("bench", "gaussian_noise", keep, List.of(), 256, false, 0.3))
        .signature();
  }

  private static double median(long[] nanos) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    return s[s.length / 2] / 1e6;
  }
}
