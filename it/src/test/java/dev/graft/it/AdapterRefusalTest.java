package dev.graft.it;

import static dev.graft.it.Checks.assertError;
import static dev.graft.it.Checks.assertOk;
import static dev.graft.it.Fixtures.VGG;
import static dev.graft.it.GraftClient.q;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.rws.RwsExtractor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every refusal of the adapter API. The model carries one attached adapter throughout; after each
 * refusal its adapter list, weight state and outputs must be what they were before.
 */
class AdapterRefusalTest extends AbstractServerTest {
  private static final String GOOD = "signatures/gaussian_noise.rws";

  private final Batch probe = Vgg.probe(4);
  private Vgg.State before;

  @Override
  protected GraftServer.Builder serverBuilder(String name) {
    return GraftServer.builder(name).exampleModel(VGG).loadModels(VGG);
  }

  @BeforeAll
  void setUp() {
    byte[] good = Signatures.forClean("gaussian_noise").toByteArray();
    server.putFile(GOOD, good);
    server.putFile("signatures/corrupt.rws", flipOneByte(good));
    server.putFile("signatures/truncated.rws", Arrays.copyOf(good, good.length / 2));
    server.putFile(
        "signatures/not-rws.rws", "# just a text file\n".getBytes(StandardCharsets.UTF_8));
    server.putFile(
        "signatures/clean-v2.rws", Signatures.extract("clean-v2", "gaussian_noise").toByteArray());
    server.putFile("signatures/other-architecture.rws", otherArchitectureSignature());
    // a real signature just outside the store: refused for where it is, not for what it is
    Path outside = server.modelStore().getParent().resolve("outside.rws");
    Signatures.writeForClean("gaussian_noise", outside);
    assertOk(
        client.post(Vgg.adaptersPath(VGG) + "?name=attached&src=" + GOOD), "the standing adapter");
  }

  @BeforeEach
  void snapshot() {
    before = Vgg.state(client, VGG, probe);
  }

  private void assertUnchanged(String after) {
    Vgg.assertUnchanged(client, VGG, probe, before, after);
  }

  private GraftClient.Response register(String query) {
    return client.post(Vgg.adaptersPath(VGG) + "?" + query);
  }

  @Test
  void unknownModelIsNotFound() {
    assertError(
        client.post(Vgg.adaptersPath("nope") + "?name=a&src=" + GOOD), 404, "adapter on nope");
    assertUnchanged("an adapter for an unknown model");
  }

  @Test
  void duplicateAdapterNameIsConflict() {
    assertError(register("name=attached&src=" + GOOD), 409, "second adapter named 'attached'");
    assertUnchanged("a duplicate name");
  }

  @Test
  void corruptSignatureIsBadRequest() {
    assertError(register("name=c&src=signatures/corrupt.rws"), 400, "corrupt .rws");
    assertUnchanged("a corrupt signature");
  }

  @Test
  void truncatedSignatureIsBadRequest() {
    assertError(register("name=t&src=signatures/truncated.rws"), 400, "truncated .rws");
    assertUnchanged("a truncated signature");
  }

  @Test
  void fileThatIsNotASignatureIsBadRequest() {
    assertError(register("name=n&src=signatures/not-rws.rws"), 400, "text file as .rws");
    assertUnchanged("a file that is no signature");
  }

  @Test
  void corruptUploadedBodyIsBadRequest() {
    byte[] corrupt = flipOneByte(Signatures.forClean("gaussian_noise").toByteArray());
    assertError(
        client.post(Vgg.adaptersPath(VGG) + "?name=u", "application/octet-stream", corrupt),
        400,
        "corrupt upload");
    assertUnchanged("a corrupt upload");
  }

  @Test
  void signatureOfOtherBaseWeightsIsBadRequestWithoutTransfer() {
    assertError(register("name=v2&src=signatures/clean-v2.rws"), 400, "clean-v2 signature");
    assertError(
        register("name=v2&src=signatures/clean-v2.rws&transfer=false"),
        400,
        "clean-v2 signature, transfer=false");
    assertUnchanged("a signature of other base weights");
  }

  @Test
  void signatureOfOtherArchitectureIsBadRequestEvenWithTransfer() {
    assertError(
        register("name=arch&src=signatures/other-architecture.rws"), 400, "other architecture");
    assertError(
        register("name=arch&src=signatures/other-architecture.rws&transfer=true"),
        400,
        "other architecture, transfer=true");
    assertUnchanged("a signature of another architecture");
  }

  @Test
  void nonFiniteAlphaIsBadRequestOnRegister() {
    for (String alpha : List.of("NaN", "Infinity", "-Infinity", "inf", "1e999")) {
      assertError(register("name=a&src=" + GOOD + "&alpha=" + alpha), 400, "alpha=" + alpha);
    }
    assertUnchanged("non-finite alphas on register");
  }

  @Test
  void nonFiniteAlphaIsBadRequestOnUpdate() {
    for (String alpha : List.of("NaN", "Infinity", "inf", "not-a-number")) {
      assertError(
          client.post(Vgg.adaptersPath(VGG) + "/attached/update?alpha=" + alpha),
          400,
          "update alpha=" + alpha);
    }
    assertUnchanged("non-finite alphas on update");
  }

  @Test
  void srcEscapingTheStoreIsBadRequest() {
    for (String src : List.of("../..", "../outside.rws", "signatures/../../outside.rws")) {
      assertError(register("name=e&src=" + q(src)), 400, "src=" + src);
    }
    assertUnchanged("sources outside the store");
  }

  @Test
  void absoluteSrcOutsideTheStoreIsBadRequest() {
    Path outside = server.modelStore().getParent().resolve("outside.rws").toAbsolutePath();
    assertError(register("name=abs&src=" + q(outside.toString())), 400, "absolute src");
    assertError(register("name=abs&src=" + q(outside.toUri().toString())), 400, "file: URI src");
    assertUnchanged("an absolute source outside the store");
  }

  @Test
  void missingSrcIsNotFound() {
    assertError(register("name=m&src=signatures/missing.rws"), 404, "missing .rws");
    assertUnchanged("a missing source");
  }

  @Test
  void unknownAdapterIsNotFound() {
    String path = Vgg.adaptersPath(VGG) + "/nope";
    assertError(client.get(path), 404, "GET unknown adapter");
    assertError(client.post(path + "/update?alpha=0.5"), 404, "update unknown adapter");
    assertError(client.delete(path), 404, "DELETE unknown adapter");
    assertUnchanged("requests for an unknown adapter");
  }

  /** Flips one byte in the middle of the packed codes: still parses, fails the content hash. */
  private static byte[] flipOneByte(byte[] good) {
    byte[] bad = good.clone();
    bad[bad.length / 2] ^= 0x5a;
    return bad;
  }

  /**
   * A valid signature of another architecture: the WA backbone against a copy whose first layer was
   * nudged, extracted without a pretrained model.
   */
  private static byte[] otherArchitectureSignature() {
    OnnxModel backbone = OnnxModel.load(Fixtures.fixture("wa/wa-backbone.onnx"));
    WeightLayer first = backbone.layers().get(0);
    FloatTensor w = backbone.floatTensor(first.weight());
    float[] nudged = w.data().clone();
    for (int i = 0; i < nudged.length; i++) {
      nudged[i] += 0.01f * ((i % 7) - 3);
    }
    OnnxModel other = backbone.withTensors(List.of(w.withData(nudged)));
    return RwsExtractor.extract(
            backbone,
            other,
            null,
            new RwsExtractor.Options("wa", "test", 1, List.of(), 256, false, 0.30))
        .signature()
        .toByteArray();
  }
}
