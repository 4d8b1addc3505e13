package dev.graft.onnx;

import com.google.protobuf.ByteString;
import dev.graft.onnx.internal.TensorData;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.StringStringEntryProto;
import dev.graft.onnx.proto.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Moves initializers between a model file and ONNX external data files.
 *
 * <p>External data lets the big weights of a model live in a file that is memory-mapped instead of
 * parsed: ONNX Runtime can then be handed the mapped bytes ({@code
 * SessionOptions.addExternalInitializers}) and every session of the model shares one copy through
 * the page cache. Stateless and thread safe.
 */
public final class ExternalData {
  /** Offsets in a data file are multiples of this, so mapped tensors are aligned for SIMD. */
  public static final int ALIGNMENT = 64;

  private ExternalData() {}

  /**
   * Where one externalized tensor's bytes are.
   *
   * @param offset from the start of the data file, a multiple of {@link #ALIGNMENT}
   * @param length in bytes
   */
  public record Location(long offset, long length) {}

  /**
   * A model written with its big initializers as external data.
   *
   * @param model the model as written, its external tensors resolved against {@code dataFile}'s
   *     folder
   * @param modelFile the {@code .onnx} file
   * @param dataFile the data file (it exists even when no tensor was big enough)
   * @param tensors the externalized initializers and where their bytes are, in graph order
   */
  public record Externalized(
      OnnxModel model, Path modelFile, Path dataFile, Map<String, Location> tensors) {
    public Externalized {
      tensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }
  }

  /**
   * A copy of the model whose external tensors hold their bytes inline; the model itself if none.
   */
  public static OnnxModel inline(OnnxModel model) {
    GraphProto graph = model.proto().getGraph();
    if (graph.getInitializerList().stream().noneMatch(ExternalData::isExternal)) {
      return model;
    }
    GraphProto.Builder b = graph.toBuilder();
    for (int i = 0; i < b.getInitializerCount(); i++) {
      TensorProto t = b.getInitializer(i);
      if (isExternal(t)) {
        b.setInitializer(i, inlined(t, model));
      }
    }
    return OnnxModel.of(
        model.proto().toBuilder().setGraph(b).build(), model.baseDir(), model.source());
  }

  /**
   * Writes {@code dir/name.onnx} and {@code dir/name.data}: every initializer with at least {@code
   * minBytes} bytes of raw or float data goes to the data file, the rest stays inline. Both files
   * are written through temporary files and renamed, the data file first.
   *
   * @throws GraftException {@code INTERNAL} when a file cannot be written
   */
  public static Externalized externalize(OnnxModel model, Path dir, String name, long minBytes) {
    return externalize(model, dir, name, minBytes, t -> true);
  }

  /**
   * Like {@link #externalize(OnnxModel, Path, String, long)}, for the initializers {@code eligible}
   * accepts only (e.g. the data types a reader can map).
   */
  public static Externalized externalize(
      OnnxModel model, Path dir, String name, long minBytes, Predicate<TensorProto> eligible) {
    Path modelFile = dir.resolve(name + ".onnx");
    Path dataFile = dir.resolve(name + ".data");
    GraphProto.Builder graph = model.proto().getGraph().toBuilder();
    Map<String, Location> placed = new LinkedHashMap<>();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      tmp = Files.createTempFile(dir, "." + dataFile.getFileName(), ".tmp");
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        long offset = 0;
        for (int i = 0; i < graph.getInitializerCount(); i++) {
          TensorProto t = graph.getInitializer(i);
          ByteBuffer bytes = eligible.test(t) ? payload(t, model) : null;
          if (bytes == null || bytes.remaining() < minBytes) {
            if (isExternal(t)) {
              // stays in the graph: bring its bytes along, the old data file is not next to it
              graph.setInitializer(i, inlined(t, model));
            }
            continue;
          }
          long length = bytes.remaining();
          offset = align(offset);
          ch.position(offset);
          while (bytes.hasRemaining()) {
            ch.write(bytes);
          }
          placed.put(t.getName(), new Location(offset, length));
          graph.setInitializer(
              i, externalProto(t, dataFile.getFileName().toString(), offset, length));
          offset += length;
        }
        ch.force(true);
      }
      move(tmp, dataFile);
      tmp = null;
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INTERNAL, dataFile + ": cannot write (" + e.getMessage() + ")", e);
    } finally {
      deleteQuietly(tmp);
    }
    OnnxModel written =
        OnnxModel.of(
            model.proto().toBuilder().setGraph(graph).build(),
            dir.toAbsolutePath(),
            modelFile.toString());
    written.save(modelFile);
    return new Externalized(written, modelFile, dataFile, placed);
  }

  private static TensorProto inlined(TensorProto t, OnnxModel model) {
    ByteBuffer bytes = TensorData.rawBytes(t, model.baseDir(), model.source());
    return t.toBuilder()
        .clearExternalData()
        .clearDataLocation()
        .setRawData(ByteString.copyFrom(bytes))
        .build();
  }

  /** Whether a tensor's bytes live in an external file. */
  public static boolean isExternal(TensorProto t) {
    return t.getDataLocation() == TensorProto.DataLocation.EXTERNAL;
  }

  /** The tensor's little-endian bytes when stored raw, external or as float32 values, else null. */
  private static ByteBuffer payload(TensorProto t, OnnxModel model) {
    ByteBuffer raw = TensorData.rawBytes(t, model.baseDir(), model.source());
    if (raw != null) {
      return raw;
    }
    if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE && t.getFloatDataCount() > 0) {
      ByteBuffer b = ByteBuffer.allocate(t.getFloatDataCount() * Float.BYTES);
      b.order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < t.getFloatDataCount(); i++) {
        b.putFloat(t.getFloatData(i));
      }
      return b.flip();
    }
    return null;
  }

  private static TensorProto externalProto(
      TensorProto t, String location, long offset, long length) {
    return t.toBuilder()
        .clearRawData()
        .clearFloatData()
        .clearExternalData()
        .setDataLocation(TensorProto.DataLocation.EXTERNAL)
        .addExternalData(entry("location", location))
        .addExternalData(entry("offset", Long.toString(offset)))
        .addExternalData(entry("length", Long.toString(length)))
        .build();
  }

  private static StringStringEntryProto entry(String key, String value) {
    return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
  }

  private static long align(long offset) {
    return (offset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static void deleteQuietly(Path p) {
    if (p == null) {
      return;
    }
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // a hidden temporary file; the next write does not depend on it
    }
  }
}
