package dev.graft.plugin.head.http;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.head.ClassifierHead;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads the rows of an add-classes request: a safetensors file (as {@code head-task<t>} in the
 * fixtures: {@code weight [C, D]}, {@code bias [C]}, metadata {@code classes}) or JSON {@code
 * {"labels": [...], "weight": [[...], ...], "bias": [...]}} ({@code bias} optional, zeros when
 * absent). Numbers are parsed from their text with {@link Float#parseFloat}. Stateless.
 */
public final class HeadUpload {
  static final String JSON = "application/json";

  private HeadUpload() {}

  /**
   * Parses a request body.
   *
   * @param mediaType the body's media type, lower case without parameters ({@code application/json}
   *     for JSON, anything else, or none, for safetensors unless the body is plainly JSON, see
   *     {@link #looksLikeJson})
   * @throws GraftException {@code INVALID_ARGUMENT} for an empty or malformed body, or rows that
   *     are not a valid head (no rows, rows of unequal length, non-finite values, counts of labels,
   *     rows and biases that differ, a repeated label)
   */
  public static ClassifierHead parse(byte[] body, String mediaType) {
    if (body.length == 0) {
      throw GraftException.invalid(
          "the request has no body; send a safetensors head (application/octet-stream) or JSON"
              + " {\"labels\", \"weight\", \"bias\"}");
    }
    boolean json =
        mediaType.equals(JSON)
            || mediaType.endsWith("+json")
            || (!mediaType.equals("application/octet-stream") && looksLikeJson(body));
    return json ? parseJson(body) : ClassifierHead.parse(body, "request body");
  }

  /**
   * Whether a body without a decisive media type is JSON: it opens with {@code {} (after blanks)
   * and its eighth byte is not zero. A safetensors file opens with its header length as a
   * little-endian u64, whose eighth byte is zero for any header under 2^56 bytes.
   */
  static boolean looksLikeJson(byte[] body) {
    int i = 0;
    while (i < body.length && Character.isWhitespace(body[i])) {
      i++;
    }
    return i < body.length && body[i] == '{' && (body.length < 8 || body[7] != 0);
  }

  private static ClassifierHead parseJson(byte[] body) {
    List<String> labels = null;
    List<float[]> rows = null;
    float[] bias = null;
    try (JsonReader in =
        new JsonReader(
            new InputStreamReader(new ByteArrayInputStream(body), StandardCharsets.UTF_8))) {
      in.setStrictness(Strictness.STRICT);
      in.beginObject();
      while (in.hasNext()) {
        switch (in.nextName()) {
          case "labels" -> labels = readLabels(in);
          case "weight" -> rows = readRows(in);
          case "bias" -> bias = readFloats(in, "bias");
          default -> in.skipValue();
        }
      }
      in.endObject();
      if (in.peek() != JsonToken.END_DOCUMENT) {
        throw GraftException.invalid("unexpected content after the JSON object");
      }
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT, "malformed head JSON: " + e.getMessage(), e);
    }
    if (labels == null || rows == null) {
      throw GraftException.invalid(
          "head JSON needs \"labels\" and \"weight\" (rows of equal length); \"bias\" is optional");
    }
    if (bias == null) {
      bias = new float[rows.size()];
    }
    return ClassifierHead.ofRows(labels, rows.toArray(new float[0][]), bias);
  }

  private static List<String> readLabels(JsonReader in) throws IOException {
    List<String> labels = new ArrayList<>();
    in.beginArray();
    while (in.hasNext()) {
      if (in.peek() != JsonToken.STRING) {
        throw GraftException.invalid("labels must be strings, found %s", in.peek());
      }
      labels.add(in.nextString());
    }
    in.endArray();
    return labels;
  }

  private static List<float[]> readRows(JsonReader in) throws IOException {
    List<float[]> rows = new ArrayList<>();
    in.beginArray();
    while (in.hasNext()) {
      rows.add(readFloats(in, "weight row " + rows.size()));
    }
    in.endArray();
    return rows;
  }

  private static float[] readFloats(JsonReader in, String what) throws IOException {
    float[] values = new float[64];
    int n = 0;
    in.beginArray();
    while (in.hasNext()) {
      if (in.peek() != JsonToken.NUMBER) {
        throw GraftException.invalid("%s must hold numbers, found %s", what, in.peek());
      }
      if (n == values.length) {
        values = Arrays.copyOf(values, n * 2);
      }
      values[n++] = Float.parseFloat(in.nextString());
    }
    in.endArray();
    return Arrays.copyOf(values, n);
  }
}
