package dev.graft.plugin.http;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads KServe v2 JSON inference requests and writes responses, streaming (a request's {@code data}
 * goes straight into a float array, no JSON tree). Numbers are parsed from their text with {@link
 * Float#parseFloat}, so every float32 a client prints round-trips exactly. Stateless.
 */
final class KServeCodec {
  private KServeCodec() {}

  /** A parsed request. */
  record Request(String id, Map<String, FloatTensor> inputs, Set<String> outputs) {}

  static Request read(byte[] body) {
    if (body.length == 0) {
      throw GraftException.invalid("the request body is empty; expected a KServe v2 JSON request");
    }
    try (JsonReader in =
        new JsonReader(
            new InputStreamReader(new ByteArrayInputStream(body), StandardCharsets.UTF_8))) {
      in.setStrictness(Strictness.STRICT);
      String id = null;
      Map<String, FloatTensor> inputs = new LinkedHashMap<>();
      Set<String> outputs = new LinkedHashSet<>();
      in.beginObject();
      while (in.hasNext()) {
        switch (in.nextName()) {
          case "id" -> id = in.nextString();
          case "inputs" -> {
            in.beginArray();
            while (in.hasNext()) {
              FloatTensor t = readInput(in);
              if (inputs.put(t.name(), t) != null) {
                throw GraftException.invalid("input %s is given twice", t.name());
              }
            }
            in.endArray();
          }
          case "outputs" -> {
            in.beginArray();
            while (in.hasNext()) {
              outputs.add(readOutputName(in));
            }
            in.endArray();
          }
          default -> in.skipValue();
        }
      }
      in.endObject();
      if (inputs.isEmpty()) {
        throw GraftException.invalid("the request has no inputs");
      }
      return new Request(id, inputs, outputs);
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          "malformed KServe v2 request: " + e.getMessage(),
          e);
    }
  }

  private static FloatTensor readInput(JsonReader in) throws IOException {
    String name = null;
    long[] shape = null;
    String datatype = null;
    FloatList data = null;
    in.beginObject();
    while (in.hasNext()) {
      switch (in.nextName()) {
        case "name" -> name = in.nextString();
        case "datatype" -> datatype = in.nextString();
        case "shape" -> {
          List<Long> dims = new ArrayList<>();
          in.beginArray();
          while (in.hasNext()) {
            dims.add(in.nextLong());
          }
          in.endArray();
          shape = dims.stream().mapToLong(Long::longValue).toArray();
        }
        case "data" -> {
          data = new FloatList();
          readData(in, data);
        }
        default -> in.skipValue();
      }
    }
    in.endObject();
    if (name == null || shape == null || datatype == null || data == null) {
      throw GraftException.invalid("every input needs name, shape, datatype and data");
    }
    if (!"FP32".equals(datatype)) {
      throw GraftException.invalid(
          "input %s has datatype %s; this model takes FP32", name, datatype);
    }
    long count;
    try {
      count = FloatTensor.elementCount(shape);
    } catch (ArithmeticException e) {
      throw GraftException.invalid("input %s: shape %s is too large", name, Arrays.toString(shape));
    }
    if (count != data.size()) {
      throw GraftException.invalid(
          "input %s: shape %s holds %d elements but data has %d",
          name, Arrays.toString(shape), count, data.size());
    }
    return new FloatTensor(name, shape, data.toArray());
  }

  /** Flattens nested arrays row-major. */
  private static void readData(JsonReader in, FloatList out) throws IOException {
    JsonToken token = in.peek();
    if (token == JsonToken.BEGIN_ARRAY) {
      in.beginArray();
      while (in.hasNext()) {
        readData(in, out);
      }
      in.endArray();
    } else if (token == JsonToken.NUMBER) {
      out.add(Float.parseFloat(in.nextString()));
    } else {
      throw GraftException.invalid("FP32 data must hold numbers, found %s", token);
    }
  }

  private static String readOutputName(JsonReader in) throws IOException {
    String name = null;
    in.beginObject();
    while (in.hasNext()) {
      if ("name".equals(in.nextName())) {
        name = in.nextString();
      } else {
        in.skipValue();
      }
    }
    in.endObject();
    if (name == null) {
      throw GraftException.invalid("every requested output needs a name");
    }
    return name;
  }

  /** The response body: outputs with flat row-major data. */
  static byte[] write(String model, String id, List<FloatTensor> outputs) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (Writer w = new OutputStreamWriter(bytes, StandardCharsets.UTF_8);
        JsonWriter out = new JsonWriter(w)) {
      out.setStrictness(Strictness.LENIENT); // NaN and infinities are written, not refused
      out.beginObject();
      out.name("model_name").value(model);
      out.name("model_version").value("1");
      if (id != null) {
        out.name("id").value(id);
      }
      out.name("outputs").beginArray();
      for (FloatTensor t : outputs) {
        out.beginObject();
        out.name("name").value(t.name());
        out.name("shape").beginArray();
        for (long d : t.dims()) {
          out.value(d);
        }
        out.endArray();
        out.name("datatype").value("FP32");
        out.name("data").beginArray();
        for (float v : t.data()) {
          out.value(v);
        }
        out.endArray();
        out.endObject();
      }
      out.endArray();
      out.endObject();
    } catch (IOException e) {
      throw new IllegalStateException("writing to memory cannot fail", e);
    }
    return bytes.toByteArray();
  }

  /** A growable float array. */
  private static final class FloatList {
    private float[] values = new float[1024];
    private int size;

    void add(float v) {
      if (size == values.length) {
        values = Arrays.copyOf(values, values.length * 2);
      }
      values[size++] = v;
    }

    int size() {
      return size;
    }

    float[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }
}
