package dev.graft.plugin.head.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.onnx.head.ClassifierHead;
import dev.graft.plugin.head.HeadServer;
import dev.graft.plugin.head.WaFixtures;
import dev.graft.plugin.testing.Fixtures;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The heads endpoints over real HTTP. Tests that change a head do it on a model of their own. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HeadEndpointsTest {
  private static final String OCTETS = "application/octet-stream";
  private static final String JSON = "application/json";
  private static final AtomicInteger MODELS = new AtomicInteger();

  @TempDir static Path tmp;

  private HeadServer server;

  @BeforeAll
  void start() throws Exception {
    server = HeadServer.start(tmp);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  /** A fresh copy of mnist-wa, its head at v1. */
  private String freshModel() throws Exception {
    String name = "wa-" + MODELS.incrementAndGet();
    server.register(name);
    return name;
  }

  private static String head(String model) {
    return "/models/" + model + "/heads/" + WaFixtures.HEAD;
  }

  @Test
  void describeShowsTheInitialHead() throws Exception {
    JsonObject h = server.getOk(head(WaFixtures.MODEL));

    assertThat(h.get("version").getAsInt()).as("initial version").isEqualTo(1);
    assertThat(h.get("weights").getAsString()).isEqualTo("base;head:digits@v1");
    assertThat(h.get("classes").getAsInt()).isEqualTo(4);
    assertThat(strings(h.getAsJsonArray("labels"))).containsExactly("0", "1", "2", "3");
    assertThat(doubles(h.getAsJsonArray("norms")))
        .as("per-class weight norms of head-task0")
        .isEqualTo(toList(WaFixtures.head(0).rowNorms()));
    assertThat(h.get("featureDim").getAsInt()).isEqualTo(64);
    assertThat(h.get("lastStep").isJsonNull()).as("no step yet").isTrue();
    assertThat(h.getAsJsonArray("steps")).as("no γ yet").isEmpty();
  }

  @Test
  void theModelListsItsHeadAndTheLogitsOutput() throws Exception {
    JsonObject m =
        JsonParser.parseString(server.get("/models/" + WaFixtures.MODEL).body())
            .getAsJsonArray()
            .get(0)
            .getAsJsonObject();
    JsonObject v2 = server.getOk("/v2/models/" + WaFixtures.MODEL);

    assertThat(strings(m.getAsJsonArray("heads"))).containsExactly("digits");
    assertThat(m.get("weights").getAsString()).isEqualTo("base;head:digits@v1");
    for (JsonObject described : List.of(m, v2)) {
      assertThat(names(described.getAsJsonArray("outputs")))
          .as("the head's logits first, then the backbone's features")
          .containsExactly("logits", "features");
    }
    assertThat(server.getOk("/models/" + WaFixtures.MODEL + "/heads").getAsJsonArray("heads"))
        .hasSize(1);
  }

  @Test
  void addingTheStepHeadReturnsGammaNormsAndTheNewVersion() throws Exception {
    String model = freshModel();

    JsonObject r = server.postOk(head(model) + "/classes", WaFixtures.headBytes(1), OCTETS);

    assertThat(r.get("version").getAsInt()).isEqualTo(2);
    assertThat(r.get("parent").getAsInt()).isEqualTo(1);
    assertThat(r.get("weights").getAsString()).isEqualTo("base;head:digits@v2");
    assertThat(r.get("input").getAsString()).isEqualTo("full_head");
    assertThat(r.get("align").getAsString()).as("the default").isEqualTo("wa");
    assertThat(r.get("applied").getAsBoolean()).isTrue();
    double gamma = r.get("gamma").getAsDouble();
    assertThat(gamma).as("γ of step 1").isCloseTo(WaFixtures.GAMMA_1, within(1e-4));
    assertThat(strings(r.getAsJsonArray("newLabels"))).containsExactly("4", "5", "6");
    assertThat(r.get("oldClasses").getAsInt()).isEqualTo(4);
    List<Double> before = doubles(r.getAsJsonArray("normsBefore"));
    List<Double> after = doubles(r.getAsJsonArray("normsAfter"));
    assertThat(after.subList(0, 4)).as("old rows unscaled").isEqualTo(before.subList(0, 4));
    for (int c = 4; c < 7; c++) {
      assertThat(after.get(c))
          .as("new row %d scaled by γ", c)
          .isCloseTo(before.get(c) * gamma, within(1e-5));
    }
    JsonObject described = server.getOk(head(model));
    assertThat(described.get("version").getAsInt()).isEqualTo(2);
    assertThat(described.getAsJsonObject("lastStep").get("newClasses").getAsInt()).isEqualTo(3);
    assertThat(described.getAsJsonArray("steps")).hasSize(1);
  }

  @Test
  void onlyNewRowsAsJsonWithoutAlignment() throws Exception {
    String model = freshModel();
    ClassifierHead rows = WaFixtures.head(1).slice(4, 7);

    JsonObject r = server.postOk(head(model) + "/classes?align=none", json(rows), JSON);

    assertThat(r.get("input").getAsString()).isEqualTo("new_rows");
    assertThat(r.get("applied").getAsBoolean()).isFalse();
    assertThat(r.get("gamma").getAsDouble()).as("γ is reported even when not applied").isPositive();
    assertThat(strings(r.getAsJsonArray("labels")))
        .containsExactly("0", "1", "2", "3", "4", "5", "6");
    assertThat(doubles(r.getAsJsonArray("normsAfter")))
        .as("align=none leaves every row as it was")
        .isEqualTo(doubles(r.getAsJsonArray("normsBefore")));
  }

  @Test
  void refusalsAnswer4xxAndChangeNothing() throws Exception {
    String model = freshModel();
    String classes = head(model) + "/classes";
    float[] huge = new float[64];
    huge[3] = 1e30f;
    Map<String, Integer> refusals = new LinkedHashMap<>();
    refusals.put(rowsJson(List.of("x"), List.of(new float[32])), 400); // feature dimension
    refusals.put(rowsJson(List.of("3"), List.of(WaFixtures.head(0).row(3))), 409); // label exists
    refusals.put("{\"labels\":[],\"weight\":[]}", 400); // empty
    refusals.put(rowsJson(List.of("x"), List.of(huge)).replace("1.0E30", "1e39"), 400); // inf
    refusals.put(rowsJson(List.of("x", "y"), List.of(WaFixtures.head(1).row(4))), 400); // labels
    refusals.put(
        rowsJson(List.of("x"), List.of(WaFixtures.head(1).row(4)))
            .replace("]]}", "]],\"bias\":[0,0]}"),
        400); // biases vs rows
    refusals.put(rowsJson(List.of("x"), List.of(new float[64])), 400); // all-zero rows under WA

    for (Map.Entry<String, Integer> e : refusals.entrySet()) {
      HttpResponse<String> r =
          server.post(classes, e.getKey().getBytes(StandardCharsets.UTF_8), JSON);
      assertError(r, e.getValue(), e.getKey().substring(0, Math.min(80, e.getKey().length())));
    }
    assertError(server.post(classes, new byte[0], OCTETS), 400, "empty body");
    assertError(server.post(classes, new byte[] {1, 2, 3}, OCTETS), 400, "not safetensors");
    assertError(
        server.post(classes + "?align=maybe", WaFixtures.headBytes(1), OCTETS), 400, "align");
    assertError(
        server.post("/models/" + model + "/heads/nope/classes", WaFixtures.headBytes(1), OCTETS),
        404,
        "unknown head");
    assertError(
        server.post("/models/nope/heads/digits/classes", WaFixtures.headBytes(1), OCTETS),
        404,
        "unknown model");
    assertError(server.get("/models/" + model + "/heads/nope"), 404, "unknown head");

    JsonObject after = server.getOk(head(model));
    assertThat(after.get("version").getAsInt()).as("no refusal made a version").isEqualTo(1);
    assertThat(after.get("classes").getAsInt()).isEqualTo(4);
    assertThat(server.getOk(head(model) + "/history").getAsJsonArray("versions")).hasSize(1);
  }

  @Test
  void rollbackReturnsToTheParentAndHistoryListsTheVersions() throws Exception {
    String model = freshModel();
    server.postOk(head(model) + "/classes", WaFixtures.headBytes(1), OCTETS);
    assertThat(server.get("/metrics").body())
        .contains("graft_head_version{head=\"digits\",model=\"" + model + "\"} 2.0");

    JsonObject back = server.postOk(head(model) + "/rollback", new byte[0], "text/plain");

    assertThat(back.get("version").getAsInt()).isEqualTo(1);
    assertThat(back.get("rolledBackFrom").getAsInt()).isEqualTo(2);
    assertThat(back.get("weights").getAsString()).isEqualTo("base;head:digits@v1");
    assertThat(server.get("/metrics").body())
        .as("the metric follows the version that answers")
        .contains("graft_head_version{head=\"digits\",model=\"" + model + "\"} 1.0");
    assertError(
        server.post(head(model) + "/rollback", new byte[0], "text/plain"), 400, "at v1 already");
    JsonObject history = server.getOk(head(model) + "/history");
    assertThat(history.get("current").getAsInt()).isEqualTo(1);
    JsonArray versions = history.getAsJsonArray("versions");
    assertThat(versions).hasSize(2);
    JsonObject v2 = versions.get(1).getAsJsonObject();
    assertThat(v2.get("tag").getAsString()).isEqualTo("head:digits@v2");
    assertThat(v2.get("current").getAsBoolean()).isFalse();
    assertThat(v2.getAsJsonObject("step").get("gamma").getAsDouble())
        .isCloseTo(WaFixtures.GAMMA_1, within(1e-4));
  }

  @Test
  void predictionsAnswerWithTheHeadLabelsOfTheVersionInTheHeader() throws Exception {
    String model = freshModel();
    int[] labels = Fixtures.testLabels(50);
    int six = 0;
    while (labels[six] != 6) {
      six++;
    }
    byte[] png = png(Fixtures.testImageBytes(six));

    HttpResponse<String> v1 = server.post("/predictions/" + model, png, "image/png");
    server.postOk(head(model) + "/classes", WaFixtures.headBytes(1), OCTETS);
    HttpResponse<String> v2 = server.post("/predictions/" + model, png, "image/png");

    assertThat(v1.headers().firstValue("X-Graft-Weights")).hasValue("base;head:digits@v1");
    assertThat(classNames(v1))
        .as("only the 4 classes of v1")
        .containsExactlyInAnyOrder("0", "1", "2", "3");
    assertThat(v2.headers().firstValue("X-Graft-Weights")).hasValue("base;head:digits@v2");
    assertThat(classNames(v2)).as("top 5 of the 7 classes of v2").hasSize(5);
    HeadServer.Inference logits =
        server.infer(model, Fixtures.testImages("", six + 1), six, 1, "logits");
    assertThat(logits.shape()).containsExactly(1, 7);
    assertThat(classNames(v2).get(0))
        .as("top-1 is the label of the largest v2 logit of the same image")
        .isEqualTo(Integer.toString(argmax(logits.data())));
  }

  private static int argmax(float[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }

  @Test
  void wrongMethodsAre405() throws Exception {
    assertError(server.get(head(WaFixtures.MODEL) + "/classes"), 405, "GET classes");
    assertError(server.post(head(WaFixtures.MODEL), new byte[0], JSON), 405, "POST head");
  }

  private static void assertError(HttpResponse<String> r, int status, String what) {
    assertThat(r.statusCode()).as("%s -> %s", what, r.body()).isEqualTo(status);
    JsonObject body = JsonParser.parseString(r.body()).getAsJsonObject();
    assertThat(body.get("code").getAsInt()).as("error body of %s", what).isEqualTo(status);
    assertThat(body.get("message").getAsString()).as("a message for %s", what).isNotBlank();
  }

  private static byte[] json(ClassifierHead h) {
    List<float[]> rows = new ArrayList<>();
    for (int i = 0; i < h.classes(); i++) {
      rows.add(h.row(i));
    }
    return rowsJson(h.labels(), rows).getBytes(StandardCharsets.UTF_8);
  }

  private static String rowsJson(List<String> labels, List<float[]> rows) {
    StringBuilder sb = new StringBuilder("{\"labels\":[");
    for (int i = 0; i < labels.size(); i++) {
      sb.append(i == 0 ? "\"" : ",\"").append(labels.get(i)).append('"');
    }
    sb.append("],\"weight\":[");
    for (int r = 0; r < rows.size(); r++) {
      sb.append(r == 0 ? "[" : ",[");
      for (int d = 0; d < rows.get(r).length; d++) {
        sb.append(d == 0 ? "" : ",").append(rows.get(r)[d]);
      }
      sb.append(']');
    }
    return sb.append("]}").toString();
  }

  private static List<String> classNames(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<String> names = new ArrayList<>();
    for (JsonElement e : JsonParser.parseString(r.body()).getAsJsonArray()) {
      names.add(e.getAsJsonObject().get("className").getAsString());
    }
    return names;
  }

  private static List<String> strings(JsonArray a) {
    List<String> out = new ArrayList<>();
    a.forEach(e -> out.add(e.getAsString()));
    return out;
  }

  private static List<String> names(JsonArray a) {
    List<String> out = new ArrayList<>();
    a.forEach(e -> out.add(e.getAsJsonObject().get("name").getAsString()));
    return out;
  }

  private static List<Double> doubles(JsonArray a) {
    List<Double> out = new ArrayList<>();
    a.forEach(e -> out.add(e.getAsDouble()));
    return out;
  }

  private static List<Double> toList(double[] values) {
    List<Double> out = new ArrayList<>();
    for (double v : values) {
      out.add(v);
    }
    return out;
  }

  private static byte[] png(byte[] pixels) throws Exception {
    BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    img.getRaster().setDataElements(0, 0, 28, 28, pixels);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }
}
