package dev.graft.it.bench;

import dev.graft.it.Batch;
import dev.graft.it.Checks;
import dev.graft.it.Fixtures;
import dev.graft.it.GraftClient;
import dev.graft.it.GraftServer;
import dev.graft.it.Poll;
import dev.graft.it.Signatures;
import dev.graft.it.TorchScriptVgg;
import dev.graft.it.Vgg;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.gen.VitGenerator;
import dev.graft.onnx.gen.VitSpec;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.onnx.rws.RwsExtractor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How long a live patch takes to reach clients, next to a full model reload, over HTTP against the
 * host started as a separate process (as the end-to-end tests do).
 *
 * <p>For each model: <b>attach</b> = from sending {@code POST /models/{m}/adapters?...&attach=true}
 * (register and attach a signature from the model store) to the first {@code /v2} response whose
 * {@code X-Graft-Weights} names the adapter; <b>reload</b> = from sending {@code DELETE
 * /models/{m}} to the first successful response after {@code POST /models?url=...} re-registered
 * it. Each is repeated {@code -Dbench.repeats} times (default 5) after one warm-up; the table shows
 * medians. Models: the fixture MNIST VGG (158k parameters, gaussian_noise signature, keep 4), its
 * TorchScript twin {@code mnist-vgg-pt} on PyTorch (same signature, parameters written in place)
 * and the DeiT-S-sized ViT of {@code graft gen vit} ({@link VitGenerator}, 22M parameters, a
 * signature of its patch embedding and first block's qkv, proj and fc1, extracted against a
 * perturbed copy without pretrained model).
 *
 * <p>Run from the repository root after a build that produced the host and plugin jars:
 *
 * <pre>
 * mvn -B -q install -DskipTests
 * mvn -B -q -pl it test-compile exec:java -Dexec.mainClass=dev.graft.it.bench.PatchLatencyBench
 * </pre>
 */
public final class PatchLatencyBench {
  private static final String VGG = Fixtures.VGG;
  private static final String VIT = "vit-s";
  private static final Duration FIRST_RESPONSE_TIMEOUT = Duration.ofSeconds(120);

  /**
   * {@code graft gen vit}'s DeiT-S: 224x224 RGB, 16x16 patches, 12 blocks of 384, float weights.
   */
  private static final VitSpec VIT_SPEC = VitSpec.deitSmall(42, false);

  private PatchLatencyBench() {}

  /** One model's inputs to the benchmark. */
  private record Subject(
      String model, String folder, long parameters, String signature, Batch input) {}

  /** One model's measurements, in milliseconds. */
  private record Result(Subject subject, double[] attachCall, double[] attach, double[] reload) {}

  public static void main(String[] args) {
    int repeats = Integer.getInteger("bench.repeats", 5);
    Path work = Fixtures.scratch("bench-");
    try {
      GraftServer.Builder builder =
          TorchScriptVgg.withEngine(
              GraftServer.builder("PatchLatencyBench")
                  .exampleModel(VGG)
                  .exampleModel(TorchScriptVgg.MODEL)
                  .jvmOption("-Xmx1g")
                  .loadModels(VGG + "," + TorchScriptVgg.MODEL + "," + VIT));

      Path vggSig = work.resolve("vgg-gaussian_noise.rws");
      Signatures.writeForClean("gaussian_noise", vggSig);
      builder.file("signatures/vgg.rws", vggSig);
      Subject vgg =
          new Subject(
              VGG,
              VGG,
              parameters(OnnxModel.load(Fixtures.vgg("clean"))),
              "signatures/vgg.rws",
              Vgg.probe(1));
      // the TorchScript twin on PyTorch, patched in place with the same (ONNX-extracted) signature
      Subject vggPt =
          new Subject(
              TorchScriptVgg.MODEL,
              TorchScriptVgg.MODEL,
              vgg.parameters(),
              "signatures/vgg.rws",
              Vgg.probe(1));

      System.err.println("generating the DeiT-S-sized ViT...");
      Path vitFolder = work.resolve(VIT);
      OnnxModel vit = VitGenerator.generate(VIT_SPEC);
      writeVitFolder(vit, vitFolder);
      Path vitSig = work.resolve("vit.rws");
      vitSignature(vit).write(vitSig);
      builder.folder(VIT, vitFolder).file("signatures/vit.rws", vitSig);
      Subject vitSubject = new Subject(VIT, VIT, parameters(vit), "signatures/vit.rws", vitInput());
      vit = null; // the bench JVM need not keep 88 MB of weights

      System.err.println("starting the host...");
      List<Result> results = new ArrayList<>();
      try (GraftServer server = builder.start()) {
        GraftClient client = server.client();
        for (Subject s : List.of(vgg, vggPt, vitSubject)) {
          System.err.println("measuring " + s.model() + " x" + repeats + "...");
          results.add(measure(client, s, repeats));
        }
      }
      System.out.println(table(results, repeats));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      Fixtures.deleteTree(work);
    }
  }

  private static Result measure(GraftClient client, Subject s, int repeats) {
    String adapters = "/models/" + s.model() + "/adapters";
    String register = adapters + "?name=bench&attach=true&src=" + s.signature();
    double[] attachCall = new double[repeats];
    double[] attach = new double[repeats];
    double[] reload = new double[repeats];
    for (int i = -1; i < repeats; i++) { // i = -1: warm-up, not recorded
      requireWeights(client, s, "base");
      long t0 = System.nanoTime();
      Checks.assertOk(client.post(register), "attach on " + s.model());
      long t1 = System.nanoTime();
      firstResponse(client, s, "bench@1.0");
      long t2 = System.nanoTime();
      Checks.assertOk(client.delete(adapters + "/bench"), "remove adapter");

      requireWeights(client, s, "base");
      long t3 = System.nanoTime();
      Checks.assertOk(client.delete("/models/" + s.model()), "unregister " + s.model());
      Checks.assertOk(
          client.post("/models?url=" + s.folder() + "&model_name=" + s.model()),
          "register " + s.model());
      firstResponse(client, s, "base");
      long t4 = System.nanoTime();
      if (i >= 0) {
        attachCall[i] = (t1 - t0) / 1e6;
        attach[i] = (t2 - t0) / 1e6;
        reload[i] = (t4 - t3) / 1e6;
      }
    }
    return new Result(s, attachCall, attach, reload);
  }

  private static void requireWeights(GraftClient client, Subject s, String weights) {
    String seen = client.infer(s.model(), s.input()).weights();
    if (!weights.equals(seen)) {
      throw new IllegalStateException(s.model() + " serves " + seen + ", expected " + weights);
    }
  }

  /** Polls inference until a 200 response computed by {@code weights} arrives. */
  private static void firstResponse(GraftClient client, Subject s, String weights) {
    Poll.until(
        s.model() + " serving " + weights,
        FIRST_RESPONSE_TIMEOUT,
        () -> {
          GraftClient.Response r = client.inferRaw(s.model(), s.input());
          return r.status() == 200 && weights.equals(r.weights()) ? r : null;
        });
  }

  private static String table(List<Result> results, int repeats) {
    StringBuilder md = new StringBuilder();
    md.append(
        String.format(
            Locale.ROOT,
            "Live patch vs full reload, median of %d (ms), host + plugin over HTTP on %d cores%n%n",
            repeats,
            Runtime.getRuntime().availableProcessors()));
    md.append(
        "| model | parameters | signature | attach call | attach → first patched response"
            + " | reload → first response | reload / attach |\n");
    md.append("| --- | ---: | --- | ---: | ---: | ---: | ---: |\n");
    for (Result r : results) {
      double attach = median(r.attach());
      double reload = median(r.reload());
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %,d | %s | %.1f | %.1f | %.1f | %.1fx |%n",
              r.subject().model(),
              r.subject().parameters(),
              r.subject().model().startsWith(VGG) ? "gaussian_noise, keep 4" : "perturbed, keep 4",
              median(r.attachCall()),
              attach,
              reload,
              reload / attach));
    }
    md.append("\nAll runs (ms):\n\n");
    for (Result r : results) {
      md.append(
          String.format(
              Locale.ROOT,
              "- %s: attach %s; reload %s%n",
              r.subject().model(),
              Arrays.toString(round(r.attach())),
              Arrays.toString(round(r.reload()))));
    }
    return md.toString();
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static double[] round(double[] values) {
    return Arrays.stream(values).map(v -> Math.round(v * 10) / 10.0).toArray();
  }

  /** Elements of every float32 constant tensor. */
  private static long parameters(OnnxModel model) {
    long n = 0;
    for (var e : model.tensors().entrySet()) {
      if (e.getValue().getDataType() == TensorProto.DataType.FLOAT_VALUE) {
        n += FloatTensor.elementCount(model.dims(e.getKey()));
      }
    }
    return n;
  }

  private static void writeVitFolder(OnnxModel vit, Path folder) throws IOException {
    Files.createDirectories(folder);
    vit.save(folder.resolve(VIT + ".onnx"));
    Files.writeString(
        folder.resolve("serving.properties"),
        String.join(
            "\n",
            "# generated by PatchLatencyBench: graft gen vit's DeiT-S with random weights",
            "engine=OnnxRuntime",
            "option.intraOpNumThreads=2",
            "option.interOpNumThreads=1",
            "option.optLevel=EXTENDED_OPT",
            ""),
        StandardCharsets.UTF_8);
  }

  /**
   * A signature for the generated ViT: the difference to a copy whose first four weight layers
   * (patch embedding, block 0 qkv, proj, fc1) were perturbed, extracted without pretrained model.
   */
  private static dev.graft.onnx.rws.RwsSignature vitSignature(OnnxModel vit) {
    SplittableRandom random = new SplittableRandom(7);
    List<FloatTensor> perturbed = new ArrayList<>();
    for (WeightLayer layer : vit.layers().subList(0, 4)) {
      for (String name : layer.tensorNames()) {
        FloatTensor t = vit.floatTensor(name);
        float[] v = t.data().clone();
        for (int i = 0; i < v.length; i++) {
          v[i] += (float) ((random.nextDouble() - 0.5) * 0.002);
        }
        perturbed.add(t.withData(v));
      }
    }
    return RwsExtractor.extract(
            vit,
            vit.withTensors(perturbed),
            null,
            new RwsExtractor.Options("vit-bench", "synthetic", 4, List.of(), 256, false, 0.30))
        .signature();
  }

  /** One fixed 224x224 RGB input with values k/8 (short decimals in JSON). */
  private static Batch vitInput() {
    SplittableRandom random = new SplittableRandom(3);
    int channels = VIT_SPEC.channels();
    int image = VIT_SPEC.image();
    float[] data = new float[channels * image * image];
    for (int i = 0; i < data.length; i++) {
      data[i] = random.nextInt(-8, 9) / 8f;
    }
    return new Batch(data, new long[] {1, channels, image, image});
  }
}
