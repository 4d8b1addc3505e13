package dev.graft.plugin.kserve;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.ByteString;
import dev.graft.plugin.grpc.proto.InferTensorContents;
import dev.graft.plugin.grpc.proto.ModelInferRequest;
import dev.graft.plugin.image.Classification;
import dev.graft.plugin.testing.AbstractKServeTest;
import dev.graft.plugin.testing.Fixtures;
import dev.graft.plugin.testing.V2Json;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The same test image through every front end: REST JSON, REST binary, gRPC raw, gRPC typed, and
 * {@code /predictions} (a PNG of the same pixels, whose top-k must be the softmax of those logits).
 */
class ProtocolParityTest extends AbstractKServeTest {
  private static final int IMAGES = 4;

  @Test
  void everyFrontEndGivesIdenticalLogits() throws Exception {
    for (int i = 0; i < IMAGES; i++) {
      float[] x = image(i);
      float[] json = restJson(x);
      assertThat(restBinary(x)).as("REST binary, image %d", i).containsExactly(json);
      assertThat(grpcRaw(x)).as("gRPC raw contents, image %d", i).containsExactly(json);
      assertThat(grpcTyped(x)).as("gRPC typed contents, image %d", i).containsExactly(json);
      assertThat(predictions(i))
          .as("/predictions top-5 is the softmax of the v2 logits, image %d", i)
          .isEqualTo(expectedTop5(json));
    }
  }

  private static float[] image(int index) {
    byte[] pixels = Fixtures.testImageBytes(index);
    float[] x = new float[784];
    for (int i = 0; i < x.length; i++) {
      x[i] = (pixels[i] & 0xff) / 255f;
    }
    return x;
  }

  private float[] restJson(float[] x) throws Exception {
    HttpResponse<byte[]> r =
        kserve.post(
            "/v2/models/mnist-vgg/infer",
            V2Json.vggRequest(x, 1, "").getBytes(),
            "application/json");
    assertThat(r.statusCode()).as(V2Json.utf8(r.body())).isEqualTo(200);
    return V2Json.firstOutput(V2Json.object(r.body()));
  }

  private float[] restBinary(float[] x) throws Exception {
    byte[] head =
        "{\"parameters\":{\"binary_data_output\":true},\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":3136}}]}"
            .getBytes(StandardCharsets.UTF_8);
    ByteBuffer body = ByteBuffer.allocate(head.length + 3136).order(ByteOrder.LITTLE_ENDIAN);
    body.put(head);
    body.asFloatBuffer().put(x);
    HttpResponse<byte[]> r =
        kserve.post(
            "/v2/models/mnist-vgg/infer",
            body.array(),
            "application/octet-stream",
            "Inference-Header-Content-Length",
            Integer.toString(head.length));
    assertThat(r.statusCode()).isEqualTo(200);
    int json =
        Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
    float[] out = new float[(r.body().length - json) / 4];
    ByteBuffer.wrap(r.body(), json, r.body().length - json)
        .order(ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer()
        .get(out);
    return out;
  }

  private float[] grpcRaw(float[] x) {
    ByteBuffer raw = ByteBuffer.allocate(3136).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(x);
    ModelInferRequest request =
        ModelInferRequest.newBuilder()
            .setModelName("mnist-vgg")
            .addInputs(input())
            .addRawInputContents(ByteString.copyFrom(raw))
            .build();
    return floats(kserve.grpc().modelInfer(request).getRawOutputContents(0));
  }

  private float[] grpcTyped(float[] x) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (float v : x) {
      c.addFp32Contents(v);
    }
    ModelInferRequest request =
        ModelInferRequest.newBuilder()
            .setModelName("mnist-vgg")
            .addInputs(input().setContents(c))
            .build();
    return floats(kserve.grpc().modelInfer(request).getRawOutputContents(0));
  }

  private JsonArray predictions(int index) throws Exception {
    BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    img.getRaster().setDataElements(0, 0, 28, 28, Fixtures.testImageBytes(index));
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(img, "png", png);
    HttpResponse<byte[]> r = kserve.post("/predictions/mnist-vgg", png.toByteArray(), "image/png");
    assertThat(r.statusCode()).as(V2Json.utf8(r.body())).isEqualTo(200);
    return JsonParser.parseString(V2Json.utf8(r.body())).getAsJsonArray();
  }

  private JsonArray expectedTop5(float[] logits) {
    List<Classification> top =
        Classification.topK(logits, 5, kserve.handler().registry().get("mnist-vgg")::label);
    JsonArray a = new JsonArray();
    for (Classification c : top) {
      JsonObject o = new JsonObject();
      o.addProperty("className", c.className());
      o.addProperty("probability", c.probability());
      a.add(o);
    }
    return a;
  }

  private static ModelInferRequest.InferInputTensor.Builder input() {
    return ModelInferRequest.InferInputTensor.newBuilder()
        .setName("input")
        .setDatatype("FP32")
        .addAllShape(Arrays.asList(1L, 1L, 28L, 28L));
  }

  private static float[] floats(ByteString raw) {
    float[] out = new float[raw.size() / 4];
    raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }
}
