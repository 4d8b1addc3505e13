package dev.graft.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.graft.onnx.eval.Idx;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/** The fixture VGG over HTTP: test sets, whole-set inference, the observable model state. */
public final class Vgg {
  /** Images per {@code /v2} request when a whole test set is scored. */
  public static final int BATCH = 200;

  public static final int CLASSES = 10;

  private Vgg() {}

  /** A test set: {@code null} for the clean one, else a corruption name. */
  public static Idx.Images images(String corruption) {
    return Idx.readImages(Fixtures.testImages(corruption));
  }

  public static int[] labels() {
    return Idx.readLabels(Fixtures.testLabels());
  }

  /** A small fixed batch (the first {@code n} clean test images) for state comparisons. */
  public static Batch probe(int n) {
    return Batch.of(images(null), 0, n);
  }

  /**
   * Image {@code index} of {@code images} as an 8-bit grayscale PNG, the bytes the IDX file holds.
   */
  public static byte[] png(Idx.Images images, int index) {
    int width = images.width();
    int height = images.height();
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    float[] pixels = images.pixels();
    int first = index * width * height;
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        // the reader stores byte/255f; times 255 is within 1e-4 of the byte, so rounding restores
        // it
        int value = Math.round(pixels[first + y * width + x] * 255f);
        img.getRaster().setSample(x, y, 0, value);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(img, "png", out)) {
        throw new IllegalStateException("no PNG writer");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * The logits of every image of {@code images}, in {@link #BATCH}-image requests; asserts that
   * every response was computed by the weights named {@code expectedWeights}.
   */
  public static float[] logits(
      GraftClient client, String model, Idx.Images images, String expectedWeights) {
    float[] all = new float[images.count() * CLASSES];
    for (int from = 0; from < images.count(); from += BATCH) {
      int n = Math.min(BATCH, images.count() - from);
      GraftClient.Inference r = client.infer(model, Batch.of(images, from, n));
      assertThat(r.shape()).as("output shape of a %d-image batch", n).containsExactly(n, CLASSES);
      assertThat(r.weights())
          .as("X-Graft-Weights of images %d..%d", from, from + n)
          .isEqualTo(expectedWeights);
      System.arraycopy(r.logits(), 0, all, from * CLASSES, n * CLASSES);
    }
    return all;
  }

  /** What a client can observe of a model: its adapters, weight state and outputs on a batch. */
  public record State(JsonElement adapters, String weights, float[] logits) {}

  public static State state(GraftClient client, String model, Batch probe) {
    GraftClient.Response list = Checks.assertOk(client.get(adaptersPath(model)), "adapter list");
    JsonObject body = list.jsonObject();
    GraftClient.Inference out = client.infer(model, probe);
    return new State(body.get("adapters"), out.weights(), out.logits());
  }

  /** Asserts that nothing a client can observe changed since {@code before}. */
  public static void assertUnchanged(
      GraftClient client, String model, Batch probe, State before, String after) {
    State now = state(client, model, probe);
    assertThat(now.adapters())
        .as("adapters of %s after %s", model, after)
        .isEqualTo(before.adapters());
    assertThat(now.weights())
        .as("X-Graft-Weights of %s after %s", model, after)
        .isEqualTo(before.weights());
    Checks.assertBitwiseEqual(
        now.logits(), before.logits(), "outputs of " + model + " after " + after);
  }

  public static String adaptersPath(String model) {
    return "/models/" + model + "/adapters";
  }

  /** Removes every adapter of {@code model}, asserting each removal succeeds. */
  public static void removeAllAdapters(GraftClient client, String model) {
    JsonObject body = Checks.assertOk(client.get(adaptersPath(model)), "list").jsonObject();
    List<String> names = new ArrayList<>();
    body.getAsJsonArray("adapters")
        .forEach(a -> names.add(a.getAsJsonObject().get("name").getAsString()));
    for (String name : names) {
      Checks.assertOk(client.delete(adaptersPath(model) + "/" + name), "removing " + name);
    }
  }
}
