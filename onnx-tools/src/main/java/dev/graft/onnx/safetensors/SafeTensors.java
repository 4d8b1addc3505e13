package dev.graft.onnx.safetensors;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed safetensors file: an 8-byte little-endian header length, a JSON header mapping tensor
 * names to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (plus optional string {@code
 * "__metadata__"}), then the data. Every size is validated against the bytes actually present
 * before anything is allocated. Immutable.
 */
public final class SafeTensors {
  /** Header JSON larger than this is refused (the format's own limit is 100 MB). */
  private static final long MAX_HEADER = 100L << 20;

  /** One tensor's entry. */
  public record Entry(String name, String dtype, long[] shape, long begin, long end) {}

  private final Map<String, Entry> entries;
  private final Map<String, String> metadata;
  private final ByteBuffer data;
  private final String source;

  private SafeTensors(
      Map<String, Entry> entries, Map<String, String> metadata, ByteBuffer data, String source) {
    this.entries = entries;
    this.metadata = metadata;
    this.data = data;
    this.source = source;
  }

  public static SafeTensors read(Path file) {
    try {
      return parse(Files.readAllBytes(file), file.toString());
    } catch (NoSuchFileException e) {
      throw GraftException.notFound("%s: no such file", file);
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT, file + ": cannot read (" + e.getMessage() + ")", e);
    }
  }

  /**
   * Parses safetensors bytes.
   *
   * @throws GraftException {@code INVALID_ARGUMENT} naming {@code source} for anything malformed
   */
  public static SafeTensors parse(byte[] bytes, String source) {
    if (bytes.length < 8) {
      throw GraftException.invalid("%s: not a safetensors file (%d bytes)", source, bytes.length);
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long headerLen = buf.getLong(0);
    if (headerLen < 2 || headerLen > MAX_HEADER || headerLen > bytes.length - 8) {
      throw GraftException.invalid(
          "%s: not a safetensors file or truncated (header length %d, file %d" + " bytes)",
          source, headerLen, bytes.length);
    }
    JsonObject header;
    try {
      JsonElement e =
          JsonParser.parseString(new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8));
      if (!e.isJsonObject()) {
        throw GraftException.invalid("%s: safetensors header is not a JSON object", source);
      }
      header = e.getAsJsonObject();
    } catch (JsonParseException | IllegalStateException e) {
      throw GraftException.invalid(
          "%s: safetensors header is not valid JSON (%s)", source, e.getMessage());
    }
    ByteBuffer payload =
        ByteBuffer.wrap(bytes, 8 + (int) headerLen, bytes.length - 8 - (int) headerLen)
            .slice()
            .order(ByteOrder.LITTLE_ENDIAN);
    Map<String, Entry> entries = new LinkedHashMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : header.entrySet()) {
      try {
        if (e.getKey().equals("__metadata__")) {
          for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet()) {
            metadata.put(m.getKey(), m.getValue().getAsString());
          }
          continue;
        }
        JsonObject o = e.getValue().getAsJsonObject();
        String dtype = o.get("dtype").getAsString();
        List<Long> shapeList = new ArrayList<>();
        for (JsonElement d : o.getAsJsonArray("shape")) {
          shapeList.add(d.getAsLong());
        }
        long[] shape = shapeList.stream().mapToLong(Long::longValue).toArray();
        long begin = o.getAsJsonArray("data_offsets").get(0).getAsLong();
        long end = o.getAsJsonArray("data_offsets").get(1).getAsLong();
        long count;
        try {
          count = FloatTensor.elementCount(shape);
        } catch (GraftException bad) {
          throw GraftException.invalid("%s: tensor %s: %s", source, e.getKey(), bad.getMessage());
        }
        int width = width(dtype, source, e.getKey());
        if (begin < 0
            || end < begin
            || end > payload.capacity()
            || Math.multiplyExact(count, (long) width) != end - begin) {
          throw GraftException.invalid(
              "%s: tensor %s: data offsets [%d, %d) do not fit shape %s of %s"
                  + " in %d data bytes",
              source, e.getKey(), begin, end, Arrays.toString(shape), dtype, payload.capacity());
        }
        entries.put(e.getKey(), new Entry(e.getKey(), dtype, shape, begin, end));
      } catch (NullPointerException
          | IllegalStateException
          | ClassCastException
          | IndexOutOfBoundsException
          | NumberFormatException
          | ArithmeticException
          | UnsupportedOperationException ex) { // gson's getAsX on an object, array or null
        throw GraftException.invalid("%s: malformed header entry %s (%s)", source, e.getKey(), ex);
      }
    }
    return new SafeTensors(
        java.util.Collections.unmodifiableMap(entries),
        java.util.Collections.unmodifiableMap(metadata),
        payload,
        source);
  }

  public Map<String, Entry> entries() {
    return entries;
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  public boolean has(String name) {
    return entries.containsKey(name);
  }

  /** A tensor decoded to float32 (F32, F16, BF16, F64, and integer types are converted). */
  public FloatTensor floatTensor(String name) {
    Entry e = require(name);
    int n = (int) ((e.end() - e.begin()) / width(e.dtype(), source, name));
    float[] out = new float[n];
    int at = (int) e.begin();
    for (int i = 0; i < n; i++) {
      out[i] =
          switch (e.dtype()) {
            case "F32" -> data.getFloat(at + 4 * i);
            case "F64" -> (float) data.getDouble(at + 8 * i);
            case "F16" -> dev.graft.onnx.internal.TensorData.halfToFloat(data.getShort(at + 2 * i));
            case "BF16" -> Float.intBitsToFloat((data.getShort(at + 2 * i) & 0xffff) << 16);
            case "I8" -> data.get(at + i);
            case "U8", "BOOL" -> data.get(at + i) & 0xff;
            case "I16" -> data.getShort(at + 2 * i);
            case "I32" -> data.getInt(at + 4 * i);
            case "I64" -> data.getLong(at + 8 * i);
            default ->
                throw GraftException.invalid("%s: tensor %s: dtype %s", source, name, e.dtype());
          };
    }
    return new FloatTensor(name, e.shape(), out);
  }

  /** An integer tensor (I8, U8, I16, I32, I64) as int values. */
  public int[] intTensor(String name) {
    Entry e = require(name);
    int n = (int) ((e.end() - e.begin()) / width(e.dtype(), source, name));
    int[] out = new int[n];
    int at = (int) e.begin();
    for (int i = 0; i < n; i++) {
      out[i] =
          switch (e.dtype()) {
            case "I8" -> data.get(at + i);
            case "U8", "BOOL" -> data.get(at + i) & 0xff;
            case "I16" -> data.getShort(at + 2 * i);
            case "I32" -> data.getInt(at + 4 * i);
            case "I64" -> toInt(data.getLong(at + 8 * i), source, name);
            default ->
                throw GraftException.invalid(
                    "%s: tensor %s is %s, not an integer type", source, name, e.dtype());
          };
    }
    return out;
  }

  private static int toInt(long v, String source, String name) {
    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
      throw GraftException.invalid("%s: tensor %s: value %d does not fit an int", source, name, v);
    }
    return (int) v;
  }

  private Entry require(String name) {
    Entry e = entries.get(name);
    if (e == null) {
      throw GraftException.notFound(
          "%s: no tensor named '%s' (has %s)", source, name, entries.keySet());
    }
    return e;
  }

  private static int width(String dtype, String source, String name) {
    return switch (dtype) {
      case "F64", "I64", "U64" -> 8;
      case "F32", "I32", "U32" -> 4;
      case "F16", "BF16", "I16", "U16" -> 2;
      case "I8", "U8", "BOOL" -> 1;
      default ->
          throw GraftException.invalid(
              "%s: tensor %s has unsupported dtype %s", source, name, dtype);
    };
  }

  /** Serialises float32 tensors (in the given order) with string metadata. */
  public static byte[] write(List<FloatTensor> tensors, Map<String, String> metadata) {
    JsonObject header = new JsonObject();
    if (!metadata.isEmpty()) {
      JsonObject m = new JsonObject();
      metadata.forEach(m::addProperty);
      header.add("__metadata__", m);
    }
    long offset = 0;
    for (FloatTensor t : tensors) {
      JsonObject o = new JsonObject();
      o.addProperty("dtype", "F32");
      com.google.gson.JsonArray shape = new com.google.gson.JsonArray();
      for (long d : t.dims()) {
        shape.add(d);
      }
      o.add("shape", shape);
      com.google.gson.JsonArray offs = new com.google.gson.JsonArray();
      offs.add(offset);
      offs.add(offset + 4L * t.data().length);
      o.add("data_offsets", offs);
      header.add(t.name(), o);
      offset += 4L * t.data().length;
    }
    byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
    int pad = (8 - json.length % 8) % 8;
    ByteBuffer out =
        ByteBuffer.allocate(8 + json.length + pad + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(json.length + pad).put(json);
    for (int i = 0; i < pad; i++) {
      out.put((byte) ' ');
    }
    for (FloatTensor t : tensors) {
      for (float v : t.data()) {
        out.putFloat(v);
      }
    }
    return out.array();
  }
}
