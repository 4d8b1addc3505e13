package dev.graft.plugin.http;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.graft.onnx.GraftException;
import dev.graft.plugin.kserve.InferRequest;
import dev.graft.plugin.runtime.DataType;
import dev.graft.plugin.runtime.Tensor;
import dev.graft.plugin.runtime.TensorBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads KServe v2 REST inference requests: JSON, or JSON followed by binary tensor data (the binary
 * tensor extension: header {@value #HEADER_LENGTH} gives the JSON's length, and each input with
 * parameter {@value #BINARY_DATA_SIZE} takes that many bytes of the rest, in input order).
 *
 * <p>JSON {@code data} may be flat or nested (row-major); its elements must suit the datatype:
 * booleans for BOOL, integers within range for the integer types, numbers for the float types
 * (parsed from their text, so every float32 round-trips exactly), strings for BYTES (UTF-8).
 * Elements are converted straight into the raw form while streaming when the datatype comes before
 * the data, as clients write it. Stateless.
 */
final class KServeCodec {
  static final String HEADER_LENGTH = "Inference-Header-Content-Length";
  static final String BINARY_DATA_SIZE = "binary_data_size";

  private static final BigInteger UINT64_MAX =
      BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  /**
   * Reads a JSON value as a tree in the reader's own (strict) mode; unlike {@code
   * JsonParser.parseReader} it does not switch the reader to lenient and reports malformed or too
   * deeply nested input as an {@link IOException}. Stateless, shared.
   */
  private static final TypeAdapter<JsonElement> JSON_TREE =
      new Gson().getAdapter(JsonElement.class);

  private KServeCodec() {}

  /**
   * Parses a request.
   *
   * @param jsonLength the JSON's length for a binary request, or -1 when the whole body is JSON
   * @throws GraftException {@code INVALID_ARGUMENT} for a malformed request or data that does not
   *     fit its datatype and shape
   */
  static InferRequest read(String model, String version, byte[] body, int jsonLength) {
    if (body.length == 0) {
      throw GraftException.invalid("the request body is empty; expected a KServe v2 JSON request");
    }
    if (jsonLength > body.length) {
      throw GraftException.invalid(
          "%s is %d but the body has %d bytes", HEADER_LENGTH, jsonLength, body.length);
    }
    int json = jsonLength < 0 ? body.length : jsonLength;
    try (JsonReader in =
        new JsonReader(
            new InputStreamReader(
                new ByteArrayInputStream(body, 0, json), StandardCharsets.UTF_8))) {
      in.setStrictness(Strictness.STRICT);
      String id = null;
      Map<String, Object> parameters = Map.of();
      List<PendingInput> inputs = new ArrayList<>();
      List<InferRequest.RequestedOutput> outputs = new ArrayList<>();
      in.beginObject();
      while (in.hasNext()) {
        switch (in.nextName()) {
          case "id" -> id = in.nextString();
          case "parameters" -> parameters = readParameters(in);
          case "inputs" -> {
            in.beginArray();
            while (in.hasNext()) {
              inputs.add(readInput(in));
            }
            in.endArray();
          }
          case "outputs" -> {
            in.beginArray();
            while (in.hasNext()) {
              outputs.add(readOutput(in));
            }
            in.endArray();
          }
          default -> in.skipValue();
        }
      }
      in.endObject();
      if (in.peek() != JsonToken.END_DOCUMENT) {
        throw GraftException.invalid("unexpected content after the request object");
      }
      if (inputs.isEmpty()) {
        throw GraftException.invalid("the request has no inputs");
      }
      List<Tensor> tensors = resolve(inputs, ByteBuffer.wrap(body, json, body.length - json));
      return new InferRequest(model, version, id, parameters, tensors, outputs);
    } catch (IOException
        | IllegalStateException
        | NumberFormatException
        | JsonParseException e) { // Gson's unchecked form of a malformed document
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          "malformed KServe v2 request: " + e.getMessage(),
          e);
    }
  }

  /** An input as read from the JSON; its data are converted, deferred, or binary. */
  private static final class PendingInput {
    String name;
    DataType type;
    long[] shape;
    Map<String, Object> parameters = Map.of();
    TensorBuilder data; // converted while streaming
    JsonElement deferred; // data that came before the datatype

    Tensor toTensor(ByteBuffer binary) throws IOException {
      if (name == null || shape == null || type == null) {
        throw GraftException.invalid("every input needs name, shape and datatype");
      }
      Object size = parameters.get(BINARY_DATA_SIZE);
      boolean hasData = data != null || deferred != null;
      if (size != null) {
        if (hasData) {
          throw GraftException.invalid(
              "input %s has both data and %s; give one", name, BINARY_DATA_SIZE);
        }
        if (!(size instanceof Long n) || n < 0 || n > binary.remaining()) {
          throw GraftException.invalid(
              "input %s: %s %s does not fit the %d binary bytes left",
              name, BINARY_DATA_SIZE, size, binary.remaining());
        }
        ByteBuffer slice = binary.slice().limit((int) (long) n);
        binary.position(binary.position() + (int) (long) n);
        return new Tensor(name, type, shape, slice);
      }
      if (!hasData) {
        throw GraftException.invalid("input %s has no data", name);
      }
      if (deferred != null) {
        data = new TensorBuilder(name, type, 0);
        try (JsonReader tree = new JsonReader(new StringReader(deferred.toString()))) {
          readData(tree, data);
        }
      }
      long expected = Tensor.elementCountOf(name, shape);
      if (data.count() != expected) {
        throw GraftException.invalid(
            "input %s: shape %s holds %d elements but data has %d",
            name, Arrays.toString(shape), expected, data.count());
      }
      return data.build(shape);
    }
  }

  private static List<Tensor> resolve(List<PendingInput> inputs, ByteBuffer binary)
      throws IOException {
    List<Tensor> tensors = new ArrayList<>();
    for (PendingInput p : inputs) {
      tensors.add(p.toTensor(binary));
    }
    if (binary.hasRemaining()) {
      throw GraftException.invalid(
          "%d bytes of binary data are not claimed by any input's %s",
          binary.remaining(), BINARY_DATA_SIZE);
    }
    return tensors;
  }

  private static PendingInput readInput(JsonReader in) throws IOException {
    PendingInput p = new PendingInput();
    in.beginObject();
    while (in.hasNext()) {
      switch (in.nextName()) {
        case "name" -> p.name = in.nextString();
        case "datatype" -> p.type = DataType.parse(in.nextString());
        case "shape" -> p.shape = readShape(in);
        case "parameters" -> p.parameters = readParameters(in);
        case "data" -> {
          if (p.type == null) {
            p.deferred = JSON_TREE.read(in);
          } else {
            p.data = new TensorBuilder(p.name, p.type, 1024);
            readData(in, p.data);
          }
        }
        default -> in.skipValue();
      }
    }
    in.endObject();
    return p;
  }

  private static long[] readShape(JsonReader in) throws IOException {
    List<Long> dims = new ArrayList<>();
    in.beginArray();
    while (in.hasNext()) {
      dims.add(in.nextLong());
    }
    in.endArray();
    return dims.stream().mapToLong(Long::longValue).toArray();
  }

  /** Flattens nested arrays row-major into {@code out}. */
  private static void readData(JsonReader in, TensorBuilder out) throws IOException {
    JsonToken token = in.peek();
    if (token == JsonToken.BEGIN_ARRAY) {
      in.beginArray();
      while (in.hasNext()) {
        readData(in, out);
      }
      in.endArray();
      return;
    }
    switch (out.type()) {
      case BOOL -> {
        expect(token, JsonToken.BOOLEAN, out);
        out.addBool(in.nextBoolean());
      }
      case FP32, FP16, BF16 -> {
        expect(token, JsonToken.NUMBER, out);
        out.addFloat(Float.parseFloat(in.nextString()));
      }
      case FP64 -> {
        expect(token, JsonToken.NUMBER, out);
        out.addDouble(Double.parseDouble(in.nextString()));
      }
      case BYTES -> {
        expect(token, JsonToken.STRING, out);
        out.addBytes(in.nextString().getBytes(StandardCharsets.UTF_8));
      }
      case UINT64 -> {
        expect(token, JsonToken.NUMBER, out);
        BigInteger v = integer(in.nextString(), out);
        if (v.signum() < 0 || v.compareTo(UINT64_MAX) > 0) {
          throw GraftException.invalid("element %d: %s is outside UINT64", out.count(), v);
        }
        out.addLong(v.longValue());
      }
      default -> {
        expect(token, JsonToken.NUMBER, out);
        BigInteger v = integer(in.nextString(), out);
        if (v.bitLength() > 63) {
          throw GraftException.invalid("element %d: %s is outside %s", out.count(), v, out.type());
        }
        out.addLong(v.longValue());
      }
    }
  }

  private static BigInteger integer(String text, TensorBuilder out) {
    try {
      return new BigDecimal(text).toBigIntegerExact();
    } catch (ArithmeticException e) {
      throw GraftException.invalid(
          "%s data must hold integers, found %s (element %d)", out.type(), text, out.count());
    }
  }

  private static void expect(JsonToken token, JsonToken wanted, TensorBuilder out) {
    if (token != wanted) {
      throw GraftException.invalid(
          "%s data must hold %s values, found %s (element %d)",
          out.type(), wanted.name().toLowerCase(Locale.ROOT), token, out.count());
    }
  }

  private static InferRequest.RequestedOutput readOutput(JsonReader in) throws IOException {
    String name = null;
    Map<String, Object> parameters = Map.of();
    in.beginObject();
    while (in.hasNext()) {
      switch (in.nextName()) {
        case "name" -> name = in.nextString();
        case "parameters" -> parameters = readParameters(in);
        default -> in.skipValue();
      }
    }
    in.endObject();
    if (name == null) {
      throw GraftException.invalid("every requested output needs a name");
    }
    return new InferRequest.RequestedOutput(name, parameters);
  }

  /** A parameters object: booleans, integers (as Long), other numbers (Double) and strings. */
  static Map<String, Object> readParameters(JsonReader in) throws IOException {
    Map<String, Object> values = new LinkedHashMap<>();
    in.beginObject();
    while (in.hasNext()) {
      String key = in.nextName();
      switch (in.peek()) {
        case BOOLEAN -> values.put(key, in.nextBoolean());
        case STRING -> values.put(key, in.nextString());
        case NUMBER -> {
          String text = in.nextString();
          try {
            values.put(key, Long.parseLong(text));
          } catch (NumberFormatException e) {
            values.put(key, Double.parseDouble(text));
          }
        }
        case NULL -> in.nextNull();
        default ->
            throw GraftException.invalid("parameter %s must be a boolean, number or string", key);
      }
    }
    in.endObject();
    return values;
  }
}
