package dev.graft.plugin.head.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.head.ClassifierHead;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HeadUploadTest {
  private static ClassifierHead json(String text) {
    return HeadUpload.parse(text.getBytes(StandardCharsets.UTF_8), "application/json");
  }

  private static final ClassifierHead TWO =
      ClassifierHead.ofRows(
          List.of("a", "b"), new float[][] {{1f, 2f}, {0.1f, -3e-7f}}, new float[] {0.5f, 0f});

  @Test
  void jsonRowsLabelsAndBiases() {
    assertThat(json("{\"labels\":[\"a\",\"b\"],\"weight\":[[1,2],[0.1,-3e-7]],\"bias\":[0.5,0]}"))
        .as("numbers parsed exactly as float32")
        .isEqualTo(TWO);
  }

  @Test
  void aMissingBiasIsZero() {
    ClassifierHead h = json("{\"weight\":[[1,2]],\"labels\":[\"x\"]}");

    assertThat(h.bias()).containsExactly(0f);
  }

  @Test
  void safetensorsByMediaTypeOrWithoutOne() {
    byte[] file = TWO.toSafeTensors(Map.of());

    assertThat(HeadUpload.parse(file, "application/octet-stream")).isEqualTo(TWO);
    assertThat(HeadUpload.parse(file, "")).as("no media type: told by its bytes").isEqualTo(TWO);
    assertThat(HeadUpload.looksLikeJson(file)).isFalse();
    assertThat(
            HeadUpload.parse(
                " {\"labels\":[\"x\"],\"weight\":[[1]]}".getBytes(StandardCharsets.UTF_8), ""))
        .as("no media type, JSON text")
        .extracting(ClassifierHead::labels)
        .isEqualTo(List.of("x"));
  }

  @Test
  void refusals() {
    Map<String, String> bad =
        Map.of(
            "{\"labels\":[],\"weight\":[]}", "no weight rows",
            "{\"labels\":[\"a\"],\"weight\":[[1,2],[3,4]]}", "1 labels but 2 weight rows",
            "{\"labels\":[\"a\",\"b\"],\"weight\":[[1,2],[3]]}", "rows must have equal length",
            "{\"labels\":[\"a\"],\"weight\":[[1,2]],\"bias\":[1,2]}", "1 labels but 2 biases",
            "{\"labels\":[\"a\"],\"weight\":[[1e39,2]]}", "not finite",
            "{\"labels\":[\"a\"],\"weight\":[[NaN,2]]}", "malformed head JSON",
            "{\"labels\":[\"a\"],\"weight\":[[\"1\",2]]}", "must hold numbers",
            "{\"labels\":[1],\"weight\":[[1]]}", "labels must be strings",
            "{\"labels\":[\"a\",\"a\"],\"weight\":[[1],[2]]}", "appears twice",
            "{\"weight\":[[1]]}", "needs \"labels\" and \"weight\"");
    bad.forEach(
        (body, message) ->
            assertThatThrownBy(() -> json(body))
                .as(body)
                .isInstanceOfSatisfying(
                    GraftException.class,
                    e -> assertThat(e.code()).isEqualTo(GraftException.Code.INVALID_ARGUMENT))
                .hasMessageContaining(message));
  }

  @Test
  void anEmptyBodyIsRefused() {
    assertThatThrownBy(() -> HeadUpload.parse(new byte[0], "application/octet-stream"))
        .hasMessageContaining("the request has no body");
  }

  @Test
  void truncatedSafetensorsAreRefused() {
    byte[] file = TWO.toSafeTensors(Map.of());
    byte[] cut = java.util.Arrays.copyOf(file, file.length - 4);

    assertThatThrownBy(() -> HeadUpload.parse(cut, "application/octet-stream"))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("request body");
  }
}
