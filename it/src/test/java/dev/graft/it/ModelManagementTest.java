package dev.graft.it;

import static dev.graft.it.Checks.assertError;
import static dev.graft.it.Checks.assertOk;
import static dev.graft.it.Fixtures.VGG;
import static dev.graft.it.GraftClient.q;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code /models}: list, describe, register and unregister, and their refusals. */
class ModelManagementTest extends AbstractServerTest {
  private final Batch probe = Vgg.probe(4);

  @Override
  protected GraftServer.Builder serverBuilder(String name) {
    return GraftServer.builder(name)
        .exampleModel(VGG)
        .file("extra/mnist-vgg-v2.onnx", Fixtures.vgg("clean-v2"))
        .loadModels(VGG);
  }

  @Test
  void listModelsShowsStartupModelReady() {
    JsonObject body = assertOk(client.get("/models"), "GET /models").jsonObject();
    JsonObject vgg = find(body.getAsJsonArray("models"), VGG);
    assertThat(vgg).as("%s in GET /models: %s", VGG, body).isNotNull();
    assertThat(vgg.get("status").getAsString()).as("status of %s", VGG).isEqualTo("READY");
    assertThat(vgg.has("modelUrl")).as("modelUrl in %s", vgg).isTrue();
  }

  @Test
  void describeModelReportsIoWeightsAndLayers() {
    JsonElement body = assertOk(client.get("/models/" + VGG), "describe").json();
    assertThat(body.isJsonArray() && body.getAsJsonArray().size() == 1)
        .as("describe answers a one-element array: %s", body)
        .isTrue();
    JsonObject model = body.getAsJsonArray().get(0).getAsJsonObject();
    assertThat(model.get("modelName").getAsString()).isEqualTo(VGG);
    assertThat(model.get("status").getAsString()).as("status in %s", model).isEqualTo("READY");
    assertThat(model.get("weights").getAsString()).as("weights of a fresh model").isEqualTo("base");
    assertThat(model.getAsJsonArray("adapters")).as("adapters of a fresh model").isEmpty();
    JsonObject input = model.getAsJsonArray("inputs").get(0).getAsJsonObject();
    assertThat(input.get("name").getAsString()).as("input in %s", model).isEqualTo("input");
    assertThat(input.get("datatype").getAsString()).as("input datatype").isEqualTo("FP32");
    JsonObject output = model.getAsJsonArray("outputs").get(0).getAsJsonObject();
    assertThat(output.get("name").getAsString()).as("output in %s", model).isEqualTo("logits");
    List<String> layers = new ArrayList<>();
    model
        .getAsJsonArray("layers")
        .forEach(l -> layers.add(l.getAsJsonObject().get("name").getAsString()));
    assertThat(layers)
        .as("weight layers of the VGG in graph order (8 convs, fc)")
        .containsExactly(
            "convs.0", "convs.1", "convs.2", "convs.3", "convs.4", "convs.5", "convs.6", "convs.7",
            "fc");
  }

  @Test
  void registerModelFromStoreServesItAndUnregisterRemovesIt() {
    String name = "vgg-v2";
    JsonObject reg =
        assertOk(
                client.post("/models?url=" + q("extra/mnist-vgg-v2.onnx") + "&model_name=" + name),
                "register a bare .onnx from the store")
            .jsonObject();
    assertThat(reg.get("status").getAsString())
        .as("register status")
        .isEqualTo("Model \"" + name + "\" registered.");
    server.awaitReady(name);
    GraftClient.Inference out = client.infer(name, probe);
    assertThat(out.shape()).as("output shape").containsExactly(probe.rows(), Vgg.CLASSES);
    assertThat(Checks.differs(out.logits(), client.infer(VGG, probe).logits()))
        .as("clean-v2 and clean answer differently: the registered file is what is served")
        .isTrue();

    JsonObject del = assertOk(client.delete("/models/" + name), "unregister").jsonObject();
    assertThat(del.get("status").getAsString())
        .as("unregister status")
        .isEqualTo("Model \"" + name + "\" unregistered");
    assertError(client.get("/models/" + name), 404, "describe after unregister");
    Checks.assertV2Error(client.inferRaw(name, probe), 404, "inference after unregister");
  }

  @Test
  void registeringAnExistingNameIsConflict() {
    assertError(
        client.post("/models?url=" + VGG + "&model_name=" + VGG), 409, "register a second " + VGG);
    assertOk(client.get("/v2/models/" + VGG + "/ready"), VGG + " still ready");
  }

  @Test
  void registeringOutsideTheStoreIsRefused() {
    String outside = Fixtures.vgg("clean").toAbsolutePath().toString();
    assertError(client.post("/models?url=" + q(outside) + "&model_name=abs"), 400, "absolute path");
    assertError(
        client.post("/models?url=" + q("file:" + outside) + "&model_name=uri"), 400, "file: URI");
    assertError(client.post("/models?url=" + q("../..") + "&model_name=up"), 400, "../..");
    assertError(
        client.post("/models?url=" + q("http://example.invalid/m.onnx") + "&model_name=remote"),
        400,
        "remote URL");
    JsonObject list = assertOk(client.get("/models"), "GET /models").jsonObject();
    for (String name : List.of("abs", "uri", "up", "remote")) {
      assertThat(find(list.getAsJsonArray("models"), name))
          .as("refused model %s is not listed", name)
          .isNull();
    }
  }

  @Test
  void unknownModelIsNotFoundEverywhere() {
    assertError(client.get("/models/nope"), 404, "describe");
    assertError(client.delete("/models/nope"), 404, "unregister");
    assertError(client.get(Vgg.adaptersPath("nope")), 404, "adapter list");
    Checks.assertV2Error(client.inferRaw("nope", probe), 404, "v2 infer");
    Checks.assertV2Error(client.get("/v2/models/nope"), 404, "v2 metadata");
  }

  @Test
  void everyResponseCarriesRequestId() {
    List<GraftClient.Response> responses =
        List.of(
            client.get("/models"),
            client.get("/models/" + VGG),
            client.get("/models/nope"),
            client.inferRaw(VGG, probe),
            client.get("/v2/models/" + VGG + "/ready"));
    for (GraftClient.Response r : responses) {
      assertThat(r.header("x-request-id")).as("x-request-id on %s", r).isPresent();
    }
  }

  private static JsonObject find(JsonArray models, String name) {
    for (JsonElement e : models) {
      if (e.getAsJsonObject().get("modelName").getAsString().equals(name)) {
        return e.getAsJsonObject();
      }
    }
    return null;
  }
}
