package dev.graft.plugin.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonParser;
import dev.graft.onnx.GraftException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ManifestTest {
  private static final String SHA = "ab".repeat(32);

  @Test
  void roundTripsExactlyIncludingAlphasAndUnknownSections() {
    Manifest m =
        new Manifest(
            7,
            "host/1/abc",
            "2026-11-27T00:00:00Z",
            List.of(
                new AdapterEntry(
                    "a", "m/adapters/a.rws", SHA, 10, 0.1, true, false, "<request body>"),
                new AdapterEntry("b", "b.rws", SHA, 20, 1.0 / 3, false, true, "file:b.rws")),
            Map.of("heads", JsonParser.parseString("{\"version\": 2, \"rows\": [1, 2]}")));

    Manifest back = Manifest.parse(m.toJson(), "test");

    assertThat(back).isEqualTo(m);
    assertThat(back.adapters().get(1).alpha())
        .as("alpha survives JSON bit for bit (labels compare it)")
        .isEqualTo(1.0 / 3);
  }

  @Test
  void missingOptionalFieldsTakeTheirDefaults() {
    Manifest m =
        Manifest.parse(
            bytes(
                "{\"format\":1,\"version\":2,\"adapters\":[{\"name\":\"a\",\"file\":\"a.rws\","
                    + "\"sha256\":\""
                    + SHA
                    + "\",\"bytes\":3,\"alpha\":2}]}"),
            "test");

    assertThat(m.adapters().get(0))
        .isEqualTo(new AdapterEntry("a", "a.rws", SHA, 3, 2.0, true, false, "a.rws"));
    assertThat(m.writer()).isEmpty();
  }

  @Test
  void refusesWhatIsNotAManifestOfThisFormat() {
    String entry =
        "{\"name\":\"a\",\"file\":\"a.rws\",\"sha256\":\"" + SHA + "\",\"bytes\":3,\"alpha\":1}";
    assertRefused("[]", "not a JSON object");
    assertRefused("{\"format\":1,", "not valid JSON");
    assertRefused("{\"version\":1}", "format is missing");
    assertRefused("{\"format\":2,\"version\":1}", "format 2");
    assertRefused("{\"format\":1,\"version\":-1}", "negative");
    assertRefused("{\"format\":1,\"version\":1.5}", "version must be an integer");
    assertRefused("{\"format\":1,\"version\":1,\"adapters\":{}}", "must be an array");
    assertRefused(
        "{\"format\":1,\"version\":1,\"adapters\":[" + entry + "," + entry + "]}", "twice");
    assertRefused(
        "{\"format\":1,\"version\":1,\"adapters\":[" + entry.replace(SHA, "xyz") + "]}", "sha256");
    assertRefused(
        "{\"format\":1,\"version\":1,\"adapters\":["
            + entry.replace("\"alpha\":1", "\"alpha\":1e999")
            + "]}",
        "finite");
    assertRefused(
        "{\"format\":1,\"version\":1,\"adapters\":[" + entry.replace("\"name\":\"a\",", "") + "]}",
        "name is missing");
  }

  private static void assertRefused(String json, String message) {
    assertThatThrownBy(() -> Manifest.parse(bytes(json), "graft.json"))
        .as("refuse %s", json)
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.INVALID_ARGUMENT))
        .hasMessageContaining(message);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
