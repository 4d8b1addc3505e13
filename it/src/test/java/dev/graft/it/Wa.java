package dev.graft.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * The WA fixtures over HTTP: the example model {@code model-store/mnist-wa} (the frozen backbone
 * with head {@code digits}), the step heads {@code fixtures/wa/head-task<t>.safetensors} and their
 * reference figures (fixtures/README.md).
 */
public final class Wa {
  public static final String MODEL = "mnist-wa";
  public static final String HEAD = "digits";

  /** γ of steps 1 and 2. */
  public static final double GAMMA_1 = 0.75817;

  public static final double GAMMA_2 = 0.70734;

  /** Accuracy over the test images of the classes seen so far, by step (0, 1, 2). */
  public static final double[] ACCURACY_WITHOUT_WA = {0.8950, 0.7429, 0.5815};

  public static final double[] ACCURACY_WITH_WA = {0.8950, 0.8164, 0.7165};

  private Wa() {}

  /** The bytes of {@code fixtures/wa/head-task<t>.safetensors}. */
  public static byte[] headFile(int task) {
    try {
      return Files.readAllBytes(Fixtures.fixture("wa/head-task" + task + ".safetensors"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code /models/{model}/heads/digits}. */
  public static String headPath(String model) {
    return "/models/" + model + "/heads/" + HEAD;
  }

  /** Posts a step head as safetensors with {@code ?align=}; the 200 answer's body. */
  public static JsonObject addClasses(GraftClient client, String model, int task, String align) {
    GraftClient.Response r =
        client.post(
            headPath(model) + "/classes?align=" + align,
            "application/octet-stream",
            headFile(task));
    return Checks.assertOk(r, "adding head-task" + task + " to " + model).jsonObject();
  }

  /** The labels of the head's current version, in row (logit) order. */
  public static List<String> labels(GraftClient client, String model) {
    JsonArray array =
        Checks.assertOk(client.get(headPath(model)), "head of " + model)
            .jsonObject()
            .getAsJsonArray("labels");
    List<String> labels = new ArrayList<>();
    array.forEach(e -> labels.add(e.getAsString()));
    return labels;
  }

  /** The two outputs of a head model's {@code /v2} answer: logits {@code [N, C]}, features. */
  public record HeadOutputs(String weights, long[] shape, float[] logits, float[] features) {
    public int classes() {
      return (int) shape[1];
    }
  }

  /** Reads a 200 {@code /v2} answer of a head model (outputs {@code logits}, {@code features}). */
  public static HeadOutputs outputs(GraftClient.Response r) {
    JsonArray outputs = r.jsonObject().getAsJsonArray("outputs");
    assertThat(outputs).as("outputs of %s", r).hasSize(2);
    JsonObject logits = outputs.get(0).getAsJsonObject();
    assertThat(logits.get("name").getAsString()).as("first output").isEqualTo("logits");
    JsonArray shape = logits.getAsJsonArray("shape");
    return new HeadOutputs(
        r.weights(),
        new long[] {shape.get(0).getAsLong(), shape.get(1).getAsLong()},
        floats(logits.getAsJsonArray("data")),
        floats(outputs.get(1).getAsJsonObject().getAsJsonArray("data")));
  }

  private static float[] floats(JsonArray data) {
    float[] values = new float[data.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = Float.parseFloat(data.get(i).getAsString());
    }
    return values;
  }
}
