package dev.graft.it;

import static dev.graft.it.Checks.assertError;
import static dev.graft.it.Checks.assertOk;
import static dev.graft.it.Fixtures.VGG;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.RwsSignature;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The adapter API on a live model: register, attach, re-scale, detach, remove. */
class AdapterLifecycleTest extends AbstractServerTest {
  private static final String NOISE_SRC = "signatures/gaussian_noise.rws";
  private static final String BLUR_SRC = "signatures/gaussian_blur.rws";
  private static final String V2_SRC = "signatures/clean-v2-gaussian_noise.rws";

  private final Batch probe = Vgg.probe(8);
  private float[] baseLogits;

  @Override
  protected GraftServer.Builder serverBuilder(String name) {
    return GraftServer.builder(name).exampleModel(VGG).loadModels(VGG);
  }

  @BeforeAll
  void setUp() {
    server.putFile(NOISE_SRC, Signatures.forClean("gaussian_noise").toByteArray());
    server.putFile(BLUR_SRC, Signatures.forClean("gaussian_blur").toByteArray());
    server.putFile(V2_SRC, Signatures.extract("clean-v2", "gaussian_noise").toByteArray());
    baseLogits = client.infer(VGG, probe).logits();
  }

  @AfterEach
  void removeAdapters() {
    Vgg.removeAllAdapters(client, VGG);
  }

  private GraftClient.Response register(String name, String src, String extra) {
    return client.post(Vgg.adaptersPath(VGG) + "?name=" + name + "&src=" + src + extra);
  }

  private JsonObject update(String name, String query) {
    return assertOk(
            client.post(Vgg.adaptersPath(VGG) + "/" + name + "/update?" + query), "update " + query)
        .jsonObject();
  }

  @Test
  void registeringAttachesByDefaultAndSwitchesWeights() {
    JsonObject adapter =
        assertOk(register("gaussian_noise", NOISE_SRC, ""), "register").jsonObject();
    assertThat(adapter.get("attached").getAsBoolean()).as("attached in %s", adapter).isTrue();
    assertThat(adapter.get("alpha").getAsDouble()).as("default alpha").isEqualTo(1.0);
    GraftClient.Inference out = client.infer(VGG, probe);
    assertThat(out.weights())
        .as("X-Graft-Weights right after the call")
        .isEqualTo("gaussian_noise@1.0");
    assertThat(Checks.differs(out.logits(), baseLogits))
        .as("patched outputs differ from the base outputs")
        .isTrue();
  }

  @Test
  void adapterObjectDescribesTheSignature() {
    RwsSignature sig = Signatures.forClean("gaussian_noise");
    JsonObject a = assertOk(register("gn", NOISE_SRC, "&alpha=0.75"), "register").jsonObject();
    assertThat(a.get("name").getAsString()).isEqualTo("gn");
    assertThat(a.get("model").getAsString()).isEqualTo(VGG);
    assertThat(a.get("src").getAsString()).as("src in %s", a).contains("gaussian_noise.rws");
    assertThat(a.get("alpha").getAsDouble()).as("alpha in %s", a).isEqualTo(0.75);
    assertThat(a.get("corruption").getAsString()).as("corruption").isEqualTo("gaussian_noise");
    assertThat(strings(a, "layers"))
        .as("patched layers: the first 4 convs")
        .containsExactly("convs.0", "convs.1", "convs.2", "convs.3");
    assertThat(strings(a, "tensors"))
        .as("patched tensors: weight and bias of each layer")
        .containsExactlyElementsOf(sig.deltas().stream().map(t -> t.name()).toList());
    assertThat(a.get("bytes").getAsLong()).as("bytes").isEqualTo(sig.serializedSize());
    assertThat(a.get("sha256").getAsString()).as("sha256 of the file").isEqualTo(sig.sha256());
    assertThat(a.get("fingerprint").getAsString())
        .as("fingerprint = the clean VGG's weights digest")
        .isEqualTo(OnnxModel.load(Fixtures.vgg("clean")).weightsDigest());
  }

  @Test
  void listAndGetReturnTheAdapterAndTheWeightState() {
    JsonObject registered =
        assertOk(register("gaussian_noise", NOISE_SRC, ""), "register").jsonObject();
    JsonObject list = assertOk(client.get(Vgg.adaptersPath(VGG)), "list").jsonObject();
    assertThat(list.getAsJsonArray("adapters")).as("adapters in %s", list).hasSize(1);
    assertThat(list.getAsJsonArray("adapters").get(0))
        .as("listed adapter = registered adapter")
        .isEqualTo(registered);
    assertThat(list.get("weights").getAsString()).as("weights").isEqualTo("gaussian_noise@1.0");
    JsonObject one =
        assertOk(client.get(Vgg.adaptersPath(VGG) + "/gaussian_noise"), "get").jsonObject();
    assertThat(one).as("GET adapter = registered adapter").isEqualTo(registered);
  }

  @Test
  void describeModelShowsAttachedAdapters() {
    assertOk(register("gaussian_noise", NOISE_SRC, ""), "register");
    JsonObject model =
        assertOk(client.get("/models/" + VGG), "describe")
            .json()
            .getAsJsonArray()
            .get(0)
            .getAsJsonObject();
    assertThat(model.get("weights").getAsString()).isEqualTo("gaussian_noise@1.0");
    assertThat(model.getAsJsonArray("adapters")).as("adapters in describe").hasSize(1);
  }

  @Test
  void updatingAlphaRescalesTheLiveWeights() {
    assertOk(register("gaussian_noise", NOISE_SRC, ""), "register");
    float[] full = client.infer(VGG, probe).logits();
    JsonObject a = update("gaussian_noise", "alpha=0.5");
    assertThat(a.get("alpha").getAsDouble()).as("alpha after update").isEqualTo(0.5);
    GraftClient.Inference half = client.infer(VGG, probe);
    assertThat(half.weights()).as("header after re-scaling").isEqualTo("gaussian_noise@0.5");
    assertThat(Checks.differs(half.logits(), full)).as("α=0.5 differs from α=1").isTrue();
    assertThat(Checks.differs(half.logits(), baseLogits)).as("α=0.5 differs from base").isTrue();
    update("gaussian_noise", "alpha=1.0");
    Checks.assertBitwiseEqual(
        client.infer(VGG, probe).logits(), full, "α back to 1.0 gives the α=1 outputs again");
  }

  @Test
  void detachingRestoresBaseOutputsBitForBit() {
    assertOk(register("gaussian_noise", NOISE_SRC, ""), "register");
    JsonObject a = update("gaussian_noise", "attach=false");
    assertThat(a.get("attached").getAsBoolean()).as("attached after detach").isFalse();
    GraftClient.Inference out = client.infer(VGG, probe);
    assertThat(out.weights()).as("header after detach").isEqualTo("base");
    Checks.assertBitwiseEqual(out.logits(), baseLogits, "outputs after detach");
    update("gaussian_noise", "attach=true");
    assertThat(client.infer(VGG, probe).weights())
        .as("re-attached")
        .isEqualTo("gaussian_noise@1.0");
  }

  @Test
  void updatingAlphaAndAttachTogether() {
    assertOk(register("gaussian_noise", NOISE_SRC, "&attach=false"), "register detached");
    JsonObject a = update("gaussian_noise", "alpha=0.5&attach=true");
    assertThat(a.get("attached").getAsBoolean()).isTrue();
    assertThat(client.infer(VGG, probe).weights()).isEqualTo("gaussian_noise@0.5");
  }

  @Test
  void removingAnAdapterDetachesAndForgetsIt() {
    assertOk(register("gaussian_noise", NOISE_SRC, ""), "register");
    JsonObject del =
        assertOk(client.delete(Vgg.adaptersPath(VGG) + "/gaussian_noise"), "delete").jsonObject();
    assertThat(del.get("status").getAsString()).isEqualTo("Adapter \"gaussian_noise\" removed");
    assertError(client.get(Vgg.adaptersPath(VGG) + "/gaussian_noise"), 404, "GET after delete");
    GraftClient.Inference out = client.infer(VGG, probe);
    assertThat(out.weights()).isEqualTo("base");
    Checks.assertBitwiseEqual(out.logits(), baseLogits, "outputs after removal");
  }

  @Test
  void registeringDetachedKeepsBaseWeights() {
    JsonObject a =
        assertOk(register("gaussian_noise", NOISE_SRC, "&attach=false"), "register").jsonObject();
    assertThat(a.get("attached").getAsBoolean()).as("attached").isFalse();
    GraftClient.Inference out = client.infer(VGG, probe);
    assertThat(out.weights()).isEqualTo("base");
    Checks.assertBitwiseEqual(out.logits(), baseLogits, "outputs with a detached adapter");
  }

  @Test
  void registeringFromTheRequestBody() {
    byte[] file = Signatures.forClean("gaussian_noise").toByteArray();
    JsonObject a =
        assertOk(
                client.post(
                    Vgg.adaptersPath(VGG) + "?name=uploaded", "application/octet-stream", file),
                "upload")
            .jsonObject();
    assertThat(a.get("attached").getAsBoolean()).isTrue();
    assertThat(client.infer(VGG, probe).weights()).isEqualTo("uploaded@1.0");
  }

  @Test
  void twoAdaptersAreNamedSortedByName() {
    assertOk(register("gaussian_noise", NOISE_SRC, ""), "register noise");
    assertOk(register("gaussian_blur", BLUR_SRC, "&alpha=0.5"), "register blur");
    GraftClient.Inference out = client.infer(VGG, probe);
    assertThat(out.weights()).isEqualTo("gaussian_blur@0.5+gaussian_noise@1.0");
    JsonObject list = assertOk(client.get(Vgg.adaptersPath(VGG)), "list").jsonObject();
    assertThat(list.get("weights").getAsString()).isEqualTo("gaussian_blur@0.5+gaussian_noise@1.0");
  }

  @Test
  void transferTrueAcceptsSignatureOfUpdatedBase() {
    JsonObject a =
        assertOk(register("from_v2", V2_SRC, "&transfer=true"), "transfer=true").jsonObject();
    assertThat(a.get("attached").getAsBoolean()).isTrue();
    GraftClient.Inference out = client.infer(VGG, probe);
    assertThat(out.weights()).isEqualTo("from_v2@1.0");
    assertThat(Checks.differs(out.logits(), baseLogits))
        .as("transferred patch changes outputs")
        .isTrue();
  }

  private static List<String> strings(JsonObject o, String key) {
    List<String> out = new ArrayList<>();
    o.getAsJsonArray(key).forEach(e -> out.add(e.getAsString()));
    return out;
  }
}
