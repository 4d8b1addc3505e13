package dev.graft.plugin.testing;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Builds KServe v2 JSON requests and reads responses in tests. */
public final class V2Json {
  private V2Json() {}

  /** A request with one FP32 input {@code input} of {@code n} VGG images, flat data. */
  public static String vggRequest(float[] images, int n, String extraTopLevel) {
    StringBuilder data = new StringBuilder("[");
    for (int i = 0; i < n * 784; i++) {
      data.append(i == 0 ? "" : ",").append(images[i]);
    }
    data.append("]");
    return "{"
        + (extraTopLevel.isEmpty() ? "" : extraTopLevel + ",")
        + "\"inputs\":[{\"name\":\"input\",\"shape\":["
        + n
        + ",1,28,28],\"datatype\":\"FP32\",\"data\":"
        + data
        + "}]}";
  }

  public static JsonObject object(byte[] body) {
    return JsonParser.parseString(new String(body, StandardCharsets.UTF_8)).getAsJsonObject();
  }

  /** The JSON part of a binary-extension body. */
  public static JsonObject head(byte[] body, int jsonLength) {
    return JsonParser.parseString(
            new String(Arrays.copyOf(body, jsonLength), StandardCharsets.UTF_8))
        .getAsJsonObject();
  }

  /** The first output's data as floats. */
  public static float[] firstOutput(JsonObject response) {
    JsonArray data =
        response.getAsJsonArray("outputs").get(0).getAsJsonObject().getAsJsonArray("data");
    float[] out = new float[data.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = Float.parseFloat(data.get(i).getAsString());
    }
    return out;
  }

  public static String utf8(byte[] body) {
    return new String(body, StandardCharsets.UTF_8);
  }
}
