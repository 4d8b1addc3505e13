package dev.graft.it;

import static dev.graft.it.Checks.assertOk;
import static dev.graft.it.Fixtures.VGG;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code max_request_size}: bodies over it are refused with 413 and change nothing. */
class RequestSizeLimitTest extends AbstractServerTest {
  /** Large enough for a one-image inference request, smaller than a 4-layer VGG signature. */
  private static final int MAX = 12 * 1024;

  private final Batch probe = Vgg.probe(1);

  @Override
  protected GraftServer.Builder serverBuilder(String name) {
    return GraftServer.builder(name)
        .exampleModel(VGG)
        .loadModels(VGG)
        .property("max_request_size", Integer.toString(MAX));
  }

  @Test
  void adapterUploadOverMaxRequestSizeIsTooLarge() {
    byte[] signature = Signatures.forClean("gaussian_noise").toByteArray();
    assertThat(signature.length).as("the signature must exceed the limit").isGreaterThan(MAX);
    assertThat(GraftClient.v2Request("input", probe).length())
        .as("the probe request must fit the limit")
        .isLessThan(MAX);
    Vgg.State before = Vgg.state(client, VGG, probe);

    GraftClient.Response r =
        client.post(Vgg.adaptersPath(VGG) + "?name=big", "application/octet-stream", signature);

    assertThat(r.status())
        .as("upload of %d bytes over a %d limit: %s", signature.length, MAX, r)
        .isEqualTo(413);
    assertThat(r.header("x-request-id")).as("x-request-id on 413").isPresent();
    Vgg.assertUnchanged(client, VGG, probe, before, "a 413 upload");
  }

  @Test
  void inferenceOverMaxRequestSizeIsTooLarge() {
    Batch big = Vgg.probe(8);
    Vgg.State before = Vgg.state(client, VGG, probe);
    GraftClient.Response r = client.inferRaw(VGG, big);
    assertThat(r.status()).as("8-image request over a %d limit: %s", MAX, r).isEqualTo(413);
    Vgg.assertUnchanged(client, VGG, probe, before, "a 413 inference");
  }

  @Test
  void smallRequestsStillWork() {
    assertOk(client.get("/models/" + VGG), "describe");
    assertThat(client.infer(VGG, probe).logits()).hasSize(Vgg.CLASSES);
  }
}
