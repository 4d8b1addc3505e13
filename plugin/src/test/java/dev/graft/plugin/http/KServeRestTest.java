package dev.graft.plugin.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.plugin.testing.AbstractKServeTest;
import dev.graft.plugin.testing.EchoData;
import dev.graft.plugin.testing.Fixtures;
import dev.graft.plugin.testing.V2Json;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The KServe v2 REST endpoints behind a real server, driven by a real HTTP client. */
class KServeRestTest extends AbstractKServeTest {
  private static final String ECHO = "/v2/models/echo/infer";
  private static final String VGG = "/v2/models/mnist-vgg/infer";

  @Test
  void serverMetadataNamesGraftAndItsExtensions() throws Exception {
    JsonObject s = ok(kserve.get("/v2"));
    assertThat(s.get("name").getAsString()).isEqualTo("graft");
    assertThat(s.get("version").getAsString()).as("the project version").isNotBlank();
    assertThat(s.getAsJsonArray("extensions").toString())
        .as("clients look for the binary extension here")
        .contains("\"binary_tensor_data\"");
  }

  @Test
  void healthEndpointsAnswer200WhileServing() throws Exception {
    assertThat(ok(kserve.get("/v2/health/live")).get("live").getAsBoolean()).isTrue();
    assertThat(ok(kserve.get("/v2/health/ready")).get("ready").getAsBoolean()).isTrue();
  }

  @Test
  void modelMetadataAndReadinessExistForVersionOneOnly() throws Exception {
    JsonObject meta = ok(kserve.get("/v2/models/echo/versions/1"));
    assertThat(meta.getAsJsonArray("versions").toString()).isEqualTo("[\"1\"]");
    assertThat(meta.getAsJsonArray("inputs")).hasSize(EchoData.JSON.size());
    assertThat(meta.toString())
        .contains("{\"name\":\"in_FP16\",\"datatype\":\"FP16\",\"shape\":[-1]}");
    assertThat(ok(kserve.get("/v2/models/mnist-vgg/versions/1/ready")).get("ready").getAsBoolean())
        .isTrue();
    assertError(kserve.get("/v2/models/mnist-vgg/versions/2"), 404, "no version 2");
    assertError(kserve.get("/v2/models/mnist-vgg/versions/2/ready"), 404, "no version 2");
    assertError(kserve.get("/v2/models/nope"), 404, "nope");
    assertError(kserve.get("/v2/models/nope/ready"), 404, "nope");
  }

  @Test
  void jsonInferenceReturnsTheRuntimeOutputsExactlyWithTheWeightsParameter() throws Exception {
    float[] images = Fixtures.testImages("", 3);
    HttpResponse<byte[]> r =
        kserve.post(
            VGG, V2Json.vggRequest(images, 3, "\"id\":\"r-1\"").getBytes(), "application/json");
    JsonObject body = ok(r);
    assertThat(body.get("id").getAsString()).isEqualTo("r-1");
    assertThat(body.getAsJsonObject("parameters").get("graft_weights").getAsString())
        .isEqualTo("base");
    assertThat(r.headers().firstValue("X-Graft-Weights")).hasValue("base");
    assertThat(V2Json.firstOutput(body))
        .as("float32 survives JSON both ways")
        .containsExactly(kserve.vggLogits(images, 3));
  }

  @Test
  void everyDatatypeRoundTripsThroughJson() throws Exception {
    JsonObject body =
        ok(
            kserve.post(
                ECHO,
                EchoData.jsonRequest(Map.of(), "").getBytes(StandardCharsets.UTF_8),
                "application/json"));
    Map<String, JsonObject> outputs = byName(body);
    EchoData.JSON.forEach(
        (type, values) -> {
          JsonObject out = outputs.get("out_" + type);
          assertThat(out.get("datatype").getAsString()).as(type).isEqualTo(type);
          assertThat(out.getAsJsonArray("data").toString())
              .as("%s is echoed value for value", type)
              .isEqualTo(JsonParser.parseString(values).toString());
        });
    EchoData.UNSIGNED_JSON.forEach(
        (type, values) ->
            assertThat(outputs.get("out_" + type).getAsJsonArray("data").toString())
                .as("%s output (Cast of in_INT64), unsigned in JSON", type)
                .isEqualTo(values));
  }

  @Test
  void everyDatatypeRoundTripsThroughTheBinaryExtension() throws Exception {
    StringBuilder json =
        new StringBuilder("{\"parameters\":{\"binary_data_output\":true},\"inputs\":[");
    ByteArrayOutputStream binary = new ByteArrayOutputStream();
    boolean first = true;
    for (String type : EchoData.JSON.keySet()) {
      byte[] raw = EchoData.raw(type);
      json.append(first ? "" : ",")
          .append("{\"name\":\"in_")
          .append(type)
          .append("\",\"shape\":[3],\"datatype\":\"")
          .append(type)
          .append("\",\"parameters\":{\"binary_data_size\":")
          .append(raw.length)
          .append("}}");
      binary.writeBytes(raw);
      first = false;
    }
    json.append("]}");
    HttpResponse<byte[]> r = postBinary(ECHO, json.toString(), binary.toByteArray());

    assertThat(r.statusCode()).as(V2Json.utf8(r.body())).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/octet-stream");
    int jsonLength =
        Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
    JsonObject head = V2Json.head(r.body(), jsonLength);
    int offset = jsonLength;
    for (JsonElement e : head.getAsJsonArray("outputs")) {
      JsonObject out = e.getAsJsonObject();
      String type = out.get("datatype").getAsString();
      int size = out.getAsJsonObject("parameters").get("binary_data_size").getAsInt();
      assertThat(out.has("data")).as("binary outputs carry no JSON data").isFalse();
      assertThat(Arrays.copyOfRange(r.body(), offset, offset + size))
          .as("raw bytes of %s", out.get("name").getAsString())
          .isEqualTo(EchoData.raw(type));
      offset += size;
    }
    assertThat(offset).as("the body ends with the last output").isEqualTo(r.body().length);
  }

  @Test
  void binaryAndJsonRequestsGiveIdenticalLogits() throws Exception {
    float[] images = Fixtures.testImages("", 2);
    byte[] raw = new byte[images.length * 4];
    java.nio.ByteBuffer.wrap(raw)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer()
        .put(images);
    String json =
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[2,1,28,28],\"datatype\":\"FP32\","
            + "\"parameters\":{\"binary_data_size\":"
            + raw.length
            + "}}],\"outputs\":[{\"name\":\"logits\",\"parameters\":{\"binary_data\":false}}]}";
    JsonObject body = ok(postBinary(VGG, json, raw));
    assertThat(V2Json.firstOutput(body)).containsExactly(kserve.vggLogits(images, 2));
  }

  @Test
  void outputsSelectionReturnsOnlyTheNamedOutputs() throws Exception {
    String request =
        EchoData.jsonRequest(
            Map.of(), "\"outputs\":[{\"name\":\"out_INT8\"},{\"name\":\"out_BYTES\"}]");
    JsonObject body =
        ok(kserve.post(ECHO, request.getBytes(StandardCharsets.UTF_8), "application/json"));
    assertThat(byName(body).keySet()).containsExactly("out_INT8", "out_BYTES");
    String unknown = EchoData.jsonRequest(Map.of(), "\"outputs\":[{\"name\":\"nope\"}]");
    assertError(
        kserve.post(ECHO, unknown.getBytes(StandardCharsets.UTF_8), "application/json"),
        400,
        "nope");
  }

  @Test
  void inputsThatDoNotFitTheModelAre400() throws Exception {
    Map<String, String> wrongType =
        Map.of(
            "INT64",
            "{\"name\":\"in_INT64\",\"shape\":[3],\"datatype\":\"INT32\",\"data\":[1,2,3]}");
    assertError(echo(wrongType), 400, "datatype INT32");
    Map<String, String> outOfRange =
        Map.of(
            "INT8",
            "{\"name\":\"in_INT8\",\"shape\":[3],\"datatype\":\"INT8\",\"data\":[1,2,300]}");
    assertError(echo(outOfRange), 400, "outside the range of INT8");
    Map<String, String> notInteger =
        Map.of(
            "INT32",
            "{\"name\":\"in_INT32\",\"shape\":[3],\"datatype\":\"INT32\",\"data\":[1,2,2.5]}");
    assertError(echo(notInteger), 400, "integers");
    Map<String, String> wrongCount =
        Map.of(
            "FP32", "{\"name\":\"in_FP32\",\"shape\":[4],\"datatype\":\"FP32\",\"data\":[1,2,3]}");
    assertError(echo(wrongCount), 400, "4 elements");
    Map<String, String> unknownType =
        Map.of(
            "FP32", "{\"name\":\"in_FP32\",\"shape\":[3],\"datatype\":\"FLOAT\",\"data\":[1,2,3]}");
    assertError(echo(unknownType), 400, "unknown datatype");
    float[] one = Fixtures.testImages("", 1);
    String wrongShape = V2Json.vggRequest(one, 1, "").replace("[1,1,28,28]", "[1,28,28,1]");
    assertError(kserve.post(VGG, wrongShape.getBytes(), "application/json"), 400, "shape");
    assertError(kserve.post(VGG, "{not json".getBytes(), "application/json"), 400, "malformed");
    assertError(
        kserve.post(
            "/v2/models/nope/infer", V2Json.vggRequest(one, 1, "").getBytes(), "application/json"),
        404,
        "nope");
  }

  @Test
  void unsignedInputsAreRefusedBecauseOnnxRuntimeJavaCannotFeedThem() throws Exception {
    String request =
        "{\"inputs\":[{\"name\":\"in\",\"shape\":[2],\"datatype\":\"UINT16\",\"data\":[1,2]}]}";
    assertError(
        kserve.post("/v2/models/unsigned/infer", request.getBytes(), "application/json"),
        400,
        "UINT16");
  }

  @Test
  void malformedBinaryRequestsAre400() throws Exception {
    String head =
        "{\"inputs\":[{\"name\":\"in\",\"shape\":[2],\"datatype\":\"FP32\","
            + "\"parameters\":{\"binary_data_size\":8}}]}";
    assertError(postBinary("/v2/models/unsigned/infer", head, new byte[4]), 400, "does not fit");
    assertError(postBinary("/v2/models/unsigned/infer", head, new byte[12]), 400, "not claimed");
    String both =
        "{\"inputs\":[{\"name\":\"in\",\"shape\":[2],\"datatype\":\"FP32\",\"data\":[1,2],"
            + "\"parameters\":{\"binary_data_size\":8}}]}";
    assertError(postBinary("/v2/models/unsigned/infer", both, new byte[8]), 400, "both data");
    assertError(
        kserve.post(
            VGG, "{}".getBytes(), "application/json", "Inference-Header-Content-Length", "99"),
        400,
        "Inference-Header-Content-Length");
  }

  @Test
  void bodiesOverMaxRequestSizeAre413() throws Exception {
    float[] images = Fixtures.testImages("", 100);
    assertError(
        kserve.post(VGG, V2Json.vggRequest(images, 100, "").getBytes(), "application/json"),
        413,
        "max_request_size");
  }

  @Test
  void metricsCountRequestsByModelProtocolAndStatus() throws Exception {
    float[] one = Fixtures.testImages("", 1);
    ok(kserve.post(VGG, V2Json.vggRequest(one, 1, "").getBytes(), "application/json"));
    kserve.post("/v2/models/mnist-vgg/infer", "{bad".getBytes(), "application/json");
    HttpResponse<byte[]> r = kserve.get("/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type").orElseThrow()).startsWith("text/plain");
    String text = V2Json.utf8(r.body());
    assertThat(text)
        .contains("graft_requests_total{model=\"mnist-vgg\",protocol=\"rest_v2\",status=\"200\"}")
        .contains("graft_requests_total{model=\"mnist-vgg\",protocol=\"rest_v2\",status=\"400\"}")
        .contains("graft_request_queue_seconds_bucket{model=\"mnist-vgg\",protocol=\"rest_v2\"")
        .contains("graft_request_compute_seconds_count{model=\"mnist-vgg\",protocol=\"rest_v2\"}")
        .contains("graft_weight_bytes{model=\"mnist-vgg\"}");
  }

  // ---- helpers

  private HttpResponse<byte[]> echo(Map<String, String> override) throws Exception {
    return kserve.post(
        ECHO,
        EchoData.jsonRequest(override, "").getBytes(StandardCharsets.UTF_8),
        "application/json");
  }

  private HttpResponse<byte[]> postBinary(String path, String json, byte[] binary)
      throws Exception {
    byte[] head = json.getBytes(StandardCharsets.UTF_8);
    byte[] body = Arrays.copyOf(head, head.length + binary.length);
    System.arraycopy(binary, 0, body, head.length, binary.length);
    return kserve.post(
        path,
        body,
        "application/octet-stream",
        "Inference-Header-Content-Length",
        Integer.toString(head.length));
  }

  private static Map<String, JsonObject> byName(JsonObject body) {
    Map<String, JsonObject> out = new LinkedHashMap<>();
    JsonArray outputs = body.getAsJsonArray("outputs");
    for (JsonElement e : outputs) {
      out.put(e.getAsJsonObject().get("name").getAsString(), e.getAsJsonObject());
    }
    return out;
  }

  private static JsonObject ok(HttpResponse<byte[]> r) {
    assertThat(r.statusCode()).as(V2Json.utf8(r.body())).isEqualTo(200);
    return V2Json.object(r.body());
  }

  private static void assertError(HttpResponse<byte[]> r, int status, String mentions) {
    String body = V2Json.utf8(r.body());
    assertThat(r.statusCode()).as(body).isEqualTo(status);
    JsonObject error = V2Json.object(r.body());
    assertThat(error.keySet()).as("KServe v2 errors are {\"error\": ...}").containsExactly("error");
    assertThat(error.get("error").getAsString()).contains(mentions);
  }
}
