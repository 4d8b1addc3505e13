package dev.graft.plugin.http;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonWriter;
import dev.graft.plugin.kserve.InferRequest;
import dev.graft.plugin.kserve.InferResponse;
import dev.graft.plugin.kserve.ModelMetadata;
import dev.graft.plugin.runtime.Float16;
import dev.graft.plugin.runtime.Tensor;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes KServe v2 REST replies. An inference reply is JSON, or, when the request asked for binary
 * outputs (request parameter {@value #BINARY_DATA_OUTPUT}, or per output {@value #BINARY_DATA}),
 * JSON followed by those outputs' raw data in output order, the JSON's length in header {@value
 * KServeCodec#HEADER_LENGTH} and each binary output's size in its {@value
 * KServeCodec#BINARY_DATA_SIZE} parameter. Stateless.
 */
final class KServeReplies {
  static final String BINARY_DATA_OUTPUT = "binary_data_output";
  static final String BINARY_DATA = "binary_data";
  static final String OCTET_STREAM = "application/octet-stream";

  private KServeReplies() {}

  /** The inference reply, with {@code X-Graft-Weights}. */
  static HttpReply infer(InferResponse response, InferRequest request) {
    boolean allBinary = Boolean.TRUE.equals(request.parameters().get(BINARY_DATA_OUTPUT));
    Map<String, Boolean> perOutput = new LinkedHashMap<>();
    for (InferRequest.RequestedOutput o : request.outputs()) {
      if (o.parameters().get(BINARY_DATA) instanceof Boolean b) {
        perOutput.put(o.name(), b);
      }
    }
    ByteArrayOutputStream json = new ByteArrayOutputStream();
    ByteArrayOutputStream binary = new ByteArrayOutputStream();
    try (Writer w = new OutputStreamWriter(json, StandardCharsets.UTF_8);
        JsonWriter out = new JsonWriter(w)) {
      out.setStrictness(Strictness.LENIENT); // NaN and infinities are written, not refused
      out.beginObject();
      out.name("model_name").value(response.model());
      out.name("model_version").value(response.version());
      if (response.id() != null) {
        out.name("id").value(response.id());
      }
      out.name("parameters").beginObject();
      out.name(InferResponse.WEIGHTS_PARAMETER).value(response.weights());
      out.endObject();
      out.name("outputs").beginArray();
      for (Tensor t : response.outputs()) {
        boolean asBinary = perOutput.getOrDefault(t.name(), allBinary);
        writeOutput(out, t, asBinary);
        if (asBinary) {
          binary.writeBytes(t.bytes());
        }
      }
      out.endArray();
      out.endObject();
    } catch (IOException e) {
      throw new IllegalStateException("writing to memory cannot fail", e);
    }
    HttpReply reply;
    if (binary.size() == 0 && !perOutput.containsValue(true) && !allBinary) {
      reply = new HttpReply(HttpResponseStatus.OK, HttpReply.JSON, json.toByteArray(), Map.of());
    } else {
      byte[] head = json.toByteArray();
      byte[] body = new byte[head.length + binary.size()];
      System.arraycopy(head, 0, body, 0, head.length);
      System.arraycopy(binary.toByteArray(), 0, body, head.length, binary.size());
      reply =
          new HttpReply(
              HttpResponseStatus.OK,
              OCTET_STREAM,
              body,
              Map.of(KServeCodec.HEADER_LENGTH, Integer.toString(head.length)));
    }
    return reply.withHeader(HttpReply.X_GRAFT_WEIGHTS, response.weights());
  }

  private static void writeOutput(JsonWriter out, Tensor t, boolean binary) throws IOException {
    out.beginObject();
    out.name("name").value(t.name());
    out.name("datatype").value(t.type().name());
    out.name("shape").beginArray();
    for (long d : t.shape()) {
      out.value(d);
    }
    out.endArray();
    if (binary) {
      out.name("parameters").beginObject();
      out.name(KServeCodec.BINARY_DATA_SIZE).value(t.byteSize());
      out.endObject();
    } else {
      out.name("data").beginArray();
      writeData(out, t);
      out.endArray();
    }
    out.endObject();
  }

  /** The elements, flat row-major, as JSON values of the datatype. */
  private static void writeData(JsonWriter out, Tensor t) throws IOException {
    ByteBuffer b = t.data();
    switch (t.type()) {
      case BOOL -> {
        while (b.hasRemaining()) {
          out.value(b.get() != 0);
        }
      }
      case INT8 -> {
        while (b.hasRemaining()) {
          out.value(b.get());
        }
      }
      case UINT8 -> {
        while (b.hasRemaining()) {
          out.value(Byte.toUnsignedInt(b.get()));
        }
      }
      case INT16 -> {
        while (b.hasRemaining()) {
          out.value(b.getShort());
        }
      }
      case UINT16 -> {
        while (b.hasRemaining()) {
          out.value(Short.toUnsignedInt(b.getShort()));
        }
      }
      case INT32 -> {
        while (b.hasRemaining()) {
          out.value(b.getInt());
        }
      }
      case UINT32 -> {
        while (b.hasRemaining()) {
          out.value(Integer.toUnsignedLong(b.getInt()));
        }
      }
      case INT64 -> {
        while (b.hasRemaining()) {
          out.value(b.getLong());
        }
      }
      case UINT64 -> {
        while (b.hasRemaining()) {
          out.value(new BigInteger(Long.toUnsignedString(b.getLong())));
        }
      }
      case FP16 -> {
        while (b.hasRemaining()) {
          out.value(Float16.fromFp16(b.getShort()));
        }
      }
      case BF16 -> {
        while (b.hasRemaining()) {
          out.value(Float16.fromBf16(b.getShort()));
        }
      }
      case FP32 -> {
        while (b.hasRemaining()) {
          out.value(b.getFloat());
        }
      }
      case FP64 -> {
        while (b.hasRemaining()) {
          out.value(b.getDouble());
        }
      }
      case BYTES -> {
        while (b.hasRemaining()) {
          byte[] element = new byte[b.getInt()];
          b.get(element);
          out.value(new String(element, StandardCharsets.UTF_8));
        }
      }
    }
  }

  /** {@code GET /v2/models/{m}}. */
  static HttpReply metadata(ModelMetadata m) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", m.name());
    v.put("versions", m.versions());
    v.put("platform", m.platform());
    v.put("inputs", Views.specs(m.inputs()));
    v.put("outputs", Views.specs(m.outputs()));
    return HttpReply.ok(v);
  }

  /** A {@code {"live": b}} or {@code {"ready": b}} reply: 200 when true, else 503. */
  static HttpReply health(String field, boolean value) {
    return HttpReply.json(
        value ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
        Map.of(field, value));
  }
}
