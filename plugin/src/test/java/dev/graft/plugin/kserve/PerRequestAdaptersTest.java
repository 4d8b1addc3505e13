package dev.graft.plugin.kserve;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.graft.plugin.grpc.proto.InferParameter;
import dev.graft.plugin.grpc.proto.ModelInferRequest;
import dev.graft.plugin.grpc.proto.ModelInferResponse;
import dev.graft.plugin.runtime.ModelRuntime;
import dev.graft.plugin.testing.AbstractKServeTest;
import dev.graft.plugin.testing.Fixtures;
import dev.graft.plugin.testing.V2Json;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Requests that name their own adapters run on exactly the weights the same adapters make when
 * attached, leave the live weights alone, and keep at most {@code graft.variants.max} variants.
 */
class PerRequestAdaptersTest extends AbstractKServeTest {
  private static final String INFER = "/v2/models/mnist-vgg/infer";

  private final float[] images = Fixtures.testImages("gaussian_noise", 2);
  private long bytesWithoutVariants;

  @Override
  protected Map<String, String> extraConfig() {
    return Map.of("graft.variants.max", "2");
  }

  @BeforeAll
  void registerSignatures() throws Exception {
    register("noise", "noise.rws");
    register("blur", "blur.rws");
    bytesWithoutVariants = runtime().weightBytes();
  }

  @AfterEach
  void liveWeightsStayBase() throws Exception {
    assertThat(runtime().weightsLabel())
        .as("per-request adapters never change the live weights")
        .isEqualTo("base");
  }

  @Test
  void aQueryParameterGivesTheOutputsOfTheAttachedAdapter() throws Exception {
    float[] attached = attachedOutputs("noise", 1.0);
    HttpResponse<byte[]> r = infer("?adapters=noise", Map.of(), "");
    assertThat(r.headers().firstValue("X-Graft-Weights")).hasValue("noise@1.0");
    assertThat(V2Json.firstOutput(V2Json.object(r.body())))
        .as("a variant computes what attaching computes")
        .containsExactly(attached);
    assertThat(outputs(infer("", Map.of(), "")))
        .as("without a selection: the live (base) weights")
        .isNotEqualTo(attached);
  }

  @Test
  void theHeaderTheParameterAndGrpcAgree() throws Exception {
    float[] attached = attachedOutputs("noise", 0.5);
    HttpResponse<byte[]> header = infer("", Map.of("X-Graft-Adapters", "noise:0.5"), "");
    assertThat(header.headers().firstValue("X-Graft-Weights")).hasValue("noise@0.5");
    assertThat(outputs(header)).containsExactly(attached);
    HttpResponse<byte[]> parameter =
        infer("", Map.of(), "\"parameters\":{\"adapters\":\"noise@0.5\"}");
    assertThat(
            V2Json.object(parameter.body())
                .getAsJsonObject("parameters")
                .get("graft_weights")
                .getAsString())
        .isEqualTo("noise@0.5");
    assertThat(outputs(parameter)).containsExactly(attached);

    ByteBuffer raw = ByteBuffer.allocate(images.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(images);
    ModelInferResponse grpc =
        kserve
            .grpc()
            .modelInfer(
                ModelInferRequest.newBuilder()
                    .setModelName("mnist-vgg")
                    .putParameters(
                        "adapters", InferParameter.newBuilder().setStringParam("noise:0.5").build())
                    .addInputs(
                        ModelInferRequest.InferInputTensor.newBuilder()
                            .setName("input")
                            .setDatatype("FP32")
                            .addAllShape(Arrays.asList(2L, 1L, 28L, 28L)))
                    .addRawInputContents(ByteString.copyFrom(raw.array()))
                    .build());
    assertThat(grpc.getParametersMap().get("graft_weights").getStringParam())
        .isEqualTo("noise@0.5");
    float[] grpcOut = new float[20];
    grpc.getRawOutputContents(0)
        .asReadOnlyByteBuffer()
        .order(ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer()
        .get(grpcOut);
    assertThat(grpcOut).containsExactly(attached);
  }

  @Test
  void anEmptySelectionMeansTheBaseWeightsEvenWithAdaptersAttached() throws Exception {
    float[] base = outputs(infer("", Map.of(), ""));
    update("noise", "attach=true");
    try {
      HttpResponse<byte[]> r = infer("?adapters=", Map.of(), "");
      assertThat(r.headers().firstValue("X-Graft-Weights")).hasValue("base");
      assertThat(outputs(r)).containsExactly(base);
    } finally {
      update("noise", "attach=false");
    }
  }

  @Test
  void aSelectionEqualToTheLiveWeightsBuildsNothing() throws Exception {
    String builds = "graft_weights_build_seconds_count{kind=\"variant\",model=\"mnist-vgg\"}";
    update("noise", "attach=true&alpha=0.75");
    try {
      double before = series(builds).get(builds);
      HttpResponse<byte[]> r = infer("?adapters=noise@0.75", Map.of(), "");
      assertThat(r.headers().firstValue("X-Graft-Weights")).hasValue("noise@0.75");
      assertThat(series(builds).get(builds) - before)
          .as("the live weights serve it; no variant is built")
          .isZero();
    } finally {
      update("noise", "attach=false&alpha=1.0");
    }
  }

  @Test
  void predictionsTakeAdaptersToo() throws Exception {
    HttpResponse<byte[]> r =
        kserve.post("/predictions/mnist-vgg?adapters=blur,noise:0.25", png(), "image/png");
    assertThat(r.statusCode()).as(V2Json.utf8(r.body())).isEqualTo(200);
    assertThat(r.headers().firstValue("X-Graft-Weights")).hasValue("blur@1.0+noise@0.25");
  }

  @Test
  void unknownOrConflictingSelectionsAre400() throws Exception {
    HttpResponse<byte[]> unknown = infer("?adapters=fog", Map.of(), "");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(V2Json.utf8(unknown.body())).contains("no adapter named fog");
    HttpResponse<byte[]> conflicting =
        infer("?adapters=noise", Map.of("X-Graft-Adapters", "blur"), "");
    assertThat(conflicting.statusCode()).isEqualTo(400);
    assertThat(V2Json.utf8(conflicting.body())).contains("different adapter sets");
    assertThat(infer("?adapters=noise:NaN", Map.of(), "").statusCode()).isEqualTo(400);
    assertThat(infer("?adapters=noise,noise", Map.of(), "").statusCode()).isEqualTo(400);
    assertThat(kserve.post("/predictions/mnist-vgg?adapters=fog", png(), "image/png").statusCode())
        .isEqualTo(400);
  }

  @Test
  void atMostMaxVariantsAreKeptLeastRecentlyUsedFirstOut() throws Exception {
    String builds = "graft_weights_build_seconds_count{kind=\"variant\",model=\"mnist-vgg\"}";
    double before = series(builds).get(builds);
    String[] sets = {"noise:0.1", "blur:0.1", "noise:0.1", "noise:0.2", "blur:0.1"};
    for (String set : sets) {
      assertThat(infer("?adapters=" + set, Map.of(), "").statusCode()).isEqualTo(200);
    }
    long twoVariants = runtime().weightBytes();
    assertThat(infer("?adapters=blur:0.3", Map.of(), "").statusCode()).isEqualTo(200);

    assertThat(runtime().weightBytes())
        .as("a third set replaces a variant instead of adding one")
        .isEqualTo(twoVariants)
        .isGreaterThan(bytesWithoutVariants);
    assertThat(series(builds).get(builds) - before)
        .as("noise:0.1 was a hit; blur:0.1 was evicted by noise:0.2 and built again")
        .isEqualTo(5);
  }

  @Test
  void managementChangesAreCountedInTheMetrics() throws Exception {
    String attach = "graft_adapter_operations_total{model=\"mnist-vgg\",operation=\"attach\"}";
    String rescale = "graft_adapter_operations_total{model=\"mnist-vgg\",operation=\"rescale\"}";
    String detach = "graft_adapter_operations_total{model=\"mnist-vgg\",operation=\"detach\"}";
    String swaps = "graft_weights_build_seconds_count{kind=\"swap\",model=\"mnist-vgg\"}";
    Map<String, Double> before = series(attach, rescale, detach, swaps);

    update("blur", "attach=true");
    update("blur", "alpha=0.5");
    update("blur", "attach=false&alpha=1.0");

    Map<String, Double> after = series(attach, rescale, detach, swaps);
    assertThat(after.get(attach) - before.get(attach)).as("attached once").isEqualTo(1);
    assertThat(after.get(rescale) - before.get(rescale)).as("re-scaled once").isEqualTo(1);
    assertThat(after.get(detach) - before.get(detach)).as("detached once").isEqualTo(1);
    assertThat(after.get(swaps) - before.get(swaps)).as("three weight swaps").isEqualTo(3);
  }

  /** The current values of some series (0 when absent). */
  private Map<String, Double> series(String... names) {
    String text = new String(kserve.handler().metrics().scrape(), StandardCharsets.UTF_8);
    Map<String, Double> values = new java.util.HashMap<>();
    for (String name : names) {
      values.put(name, 0.0);
      for (String line : text.split("\n")) {
        if (line.startsWith(name + " ")) {
          values.put(name, Double.parseDouble(line.substring(name.length() + 1).trim()));
        }
      }
    }
    return values;
  }

  // ---- helpers

  private ModelRuntime runtime() {
    return kserve.handler().registry().get("mnist-vgg").runtime();
  }

  private float[] attachedOutputs(String adapter, double alpha) throws Exception {
    update(adapter, "attach=true&alpha=" + alpha);
    try {
      HttpResponse<byte[]> r = infer("", Map.of(), "");
      assertThat(r.headers().firstValue("X-Graft-Weights")).hasValue(adapter + "@" + alpha);
      return outputs(r);
    } finally {
      update(adapter, "attach=false&alpha=1.0");
    }
  }

  private HttpResponse<byte[]> infer(String query, Map<String, String> headers, String extra)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(kserve.uri(INFER + query))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(V2Json.vggRequest(images, 2, extra)));
    headers.forEach(b::header);
    return kserve.send(b);
  }

  private static float[] outputs(HttpResponse<byte[]> r) {
    assertThat(r.statusCode()).as(V2Json.utf8(r.body())).isEqualTo(200);
    return V2Json.firstOutput(V2Json.object(r.body()));
  }

  private void register(String name, String src) throws Exception {
    HttpResponse<byte[]> r =
        kserve.post(
            "/models/mnist-vgg/adapters?name=" + name + "&src=" + src + "&attach=false",
            new byte[0],
            "text/plain");
    assertThat(r.statusCode()).as(V2Json.utf8(r.body())).isEqualTo(200);
  }

  private void update(String name, String query) throws Exception {
    HttpResponse<byte[]> r =
        kserve.post(
            "/models/mnist-vgg/adapters/" + name + "/update?" + query, new byte[0], "text/plain");
    assertThat(r.statusCode()).as(V2Json.utf8(r.body())).isEqualTo(200);
  }

  private static byte[] png() throws Exception {
    java.awt.image.BufferedImage img =
        new java.awt.image.BufferedImage(28, 28, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
    img.getRaster().setDataElements(0, 0, 28, 28, Fixtures.testImageBytes(0));
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    javax.imageio.ImageIO.write(img, "png", out);
    return out.toByteArray();
  }
}
