package dev.graft.onnx.internal;

import com.google.protobuf.ByteString;
import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.proto.StringStringEntryProto;
import dev.graft.onnx.proto.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Decodes and encodes tensor payloads in every layout ONNX exporters write. */
public final class TensorData {
  private TensorData() {}

  public static boolean isFloatingPoint(int dataType) {
    return dataType == TensorProto.DataType.FLOAT_VALUE
        || dataType == TensorProto.DataType.DOUBLE_VALUE
        || dataType == TensorProto.DataType.FLOAT16_VALUE
        || dataType == TensorProto.DataType.BFLOAT16_VALUE;
  }

  /** Decodes a floating-point tensor to float32 values. */
  public static float[] toFloats(TensorProto t, Path baseDir, String source) {
    long count;
    try {
      count =
          FloatTensor.elementCount(t.getDimsList().stream().mapToLong(Long::longValue).toArray());
    } catch (GraftException bad) {
      throw GraftException.invalid("%s: tensor %s: %s", source, t.getName(), bad.getMessage());
    }
    if (count > Integer.MAX_VALUE - 8) {
      throw GraftException.invalid(
          "%s: tensor %s has %d elements, too many", source, t.getName(), count);
    }
    int n = (int) count;
    int type = t.getDataType();
    if (!isFloatingPoint(type)) {
      throw GraftException.invalid(
          "%s: tensor %s has data type %s, not floating point",
          source, t.getName(), typeName(type));
    }
    ByteBuffer raw = rawBytes(t, baseDir, source);
    if (raw != null) {
      int width = elementSize(type);
      if ((long) raw.remaining() != (long) n * width) {
        throw GraftException.invalid(
            "%s: tensor %s should hold %d bytes of data, has %d",
            source, t.getName(), (long) n * width, raw.remaining());
      }
      float[] out = new float[n]; // only now: the shape's claim is backed by data
      raw.order(ByteOrder.LITTLE_ENDIAN);
      switch (type) {
        case TensorProto.DataType.FLOAT_VALUE -> raw.asFloatBuffer().get(out);
        case TensorProto.DataType.DOUBLE_VALUE -> {
          for (int i = 0; i < n; i++) {
            out[i] = (float) raw.getDouble(i * 8);
          }
        }
        case TensorProto.DataType.FLOAT16_VALUE -> {
          for (int i = 0; i < n; i++) {
            out[i] = halfToFloat(raw.getShort(i * 2));
          }
        }
        default -> {
          for (int i = 0; i < n; i++) {
            out[i] = Float.intBitsToFloat((raw.getShort(i * 2) & 0xffff) << 16);
          }
        }
      }
      return out;
    }
    int typed =
        switch (type) {
          case TensorProto.DataType.FLOAT_VALUE -> t.getFloatDataCount();
          case TensorProto.DataType.DOUBLE_VALUE -> t.getDoubleDataCount();
          default -> t.getInt32DataCount();
        };
    if (typed != n) {
      throw GraftException.invalid(
          "%s: tensor %s should hold %d values, has %d", source, t.getName(), n, typed);
    }
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] =
          switch (type) {
            case TensorProto.DataType.FLOAT_VALUE -> t.getFloatData(i);
            case TensorProto.DataType.DOUBLE_VALUE -> (float) t.getDoubleData(i);
            case TensorProto.DataType.FLOAT16_VALUE -> halfToFloat((short) t.getInt32Data(i));
            default -> Float.intBitsToFloat((t.getInt32Data(i) & 0xffff) << 16);
          };
    }
    return out;
  }

  /**
   * The tensor's bytes when they are stored raw (inline {@code raw_data} or external data), else
   * {@code null} (typed fields). The returned buffer is a read-only view; callers must not keep it
   * past the model.
   */
  public static ByteBuffer rawBytes(TensorProto t, Path baseDir, String source) {
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      return external(t, baseDir, source);
    }
    if (t.hasRawData()) {
      return t.getRawData().asReadOnlyByteBuffer();
    }
    return null;
  }

  /**
   * A copy of {@code template} (name, shape, metadata) holding float32 values as inline {@code
   * raw_data}.
   */
  public static TensorProto floatProto(TensorProto template, float[] values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(values);
    return template.toBuilder()
        .setDataType(TensorProto.DataType.FLOAT_VALUE)
        .clearFloatData()
        .clearExternalData()
        .clearDataLocation()
        .setRawData(ByteString.copyFrom(buf.array()))
        .build();
  }

  /** IEEE 754 binary16 to float32 (Java 17 has no Float.float16ToFloat). */
  public static float halfToFloat(short bits) {
    int h = bits & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** Bytes per element of a fixed-width type, or -1 for sub-byte and variable-width types. */
  public static int elementSize(int dataType) {
    return switch (dataType) {
      case TensorProto.DataType.FLOAT_VALUE,
          TensorProto.DataType.INT32_VALUE,
          TensorProto.DataType.UINT32_VALUE ->
          4;
      case TensorProto.DataType.DOUBLE_VALUE,
          TensorProto.DataType.INT64_VALUE,
          TensorProto.DataType.UINT64_VALUE,
          TensorProto.DataType.COMPLEX64_VALUE ->
          8;
      case TensorProto.DataType.FLOAT16_VALUE,
          TensorProto.DataType.BFLOAT16_VALUE,
          TensorProto.DataType.INT16_VALUE,
          TensorProto.DataType.UINT16_VALUE ->
          2;
      case TensorProto.DataType.INT8_VALUE,
          TensorProto.DataType.UINT8_VALUE,
          TensorProto.DataType.BOOL_VALUE ->
          1;
      default -> -1;
    };
  }

  public static String typeName(int dataType) {
    TensorProto.DataType dt = TensorProto.DataType.forNumber(dataType);
    return dt == null ? "type " + dataType : dt.name();
  }

  private static ByteBuffer external(TensorProto t, Path baseDir, String source) {
    String location = null;
    long offset = 0;
    long length = -1;
    for (StringStringEntryProto e : t.getExternalDataList()) {
      switch (e.getKey()) {
        case "location" -> location = e.getValue();
        case "offset" -> offset = parseLong(e.getValue(), t, source);
        case "length" -> {
          length = parseLong(e.getValue(), t, source);
          if (length < 0) {
            throw GraftException.invalid(
                "%s: tensor %s: external data length %d is negative", source, t.getName(), length);
          }
        }
        default -> {
          // "checksum" and unknown keys carry nothing we need
        }
      }
    }
    if (location == null || baseDir == null) {
      throw GraftException.invalid(
          "%s: tensor %s is external but names no data file", source, t.getName());
    }
    Path file;
    try {
      file = baseDir.resolve(location).normalize();
    } catch (InvalidPathException e) { // e.g. a NUL character
      throw GraftException.invalid(
          "%s: tensor %s: external data path '%s' is not a valid path",
          source, t.getName(), location.replace("\0", "\\0"));
    }
    if (!file.startsWith(baseDir.normalize())) {
      throw GraftException.invalid(
          "%s: tensor %s: external data path '%s' leaves the model folder",
          source, t.getName(), location);
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      long len = length < 0 ? size - offset : length;
      // offset + len may overflow a long: compare against what is left after the offset instead
      if (offset < 0
          || offset > size
          || len < 0
          || len > size - offset
          || len > Integer.MAX_VALUE) {
        throw GraftException.invalid(
            "%s: tensor %s: external data [%d, +%d) is outside %s (%d bytes)",
            source, t.getName(), offset, len, location, size);
      }
      return ch.map(FileChannel.MapMode.READ_ONLY, offset, len);
    } catch (NoSuchFileException e) {
      throw GraftException.notFound(
          "%s: tensor %s: external data file %s is missing", source, t.getName(), location);
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          source
              + ": tensor "
              + t.getName()
              + ": cannot read "
              + location
              + " ("
              + e.getMessage()
              + ")",
          e);
    }
  }

  private static long parseLong(String v, TensorProto t, String source) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw GraftException.invalid(
          "%s: tensor %s: external data offset/length '%s' is not a number",
          source, t.getName(), v);
    }
  }
}
