package dev.graft.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.UnsafeByteOperations;
import dev.graft.onnx.internal.Digests;
import dev.graft.onnx.internal.LayerFinder;
import dev.graft.onnx.internal.TensorData;
import dev.graft.onnx.proto.AttributeProto;
import dev.graft.onnx.proto.GraphProto;
import dev.graft.onnx.proto.ModelProto;
import dev.graft.onnx.proto.NodeProto;
import dev.graft.onnx.proto.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An ONNX model: the parsed {@link ModelProto} plus the folder its external data lives in.
 *
 * <p>Instances are immutable and thread safe. Loading reads the file into one heap array and parses
 * it with aliasing, so every {@code raw_data} is a view of that array rather than a copy: a model
 * costs its file size in heap, plus the tensors a caller decodes from it. Weights may live in
 * {@code raw_data}, in the typed fields ({@code float_data}...), in external data files next to the
 * model, or in {@code Constant} nodes; {@link #floatTensor} reads all of them.
 */
public final class OnnxModel {
  private final ModelProto proto;
  private final Path baseDir;
  private final String source;
  private final Map<String, TensorProto> tensors;

  private OnnxModel(ModelProto proto, Path baseDir, String source) {
    this.proto = proto;
    this.baseDir = baseDir;
    this.source = source;
    this.tensors = Collections.unmodifiableMap(indexTensors(proto.getGraph()));
  }

  /**
   * Loads a model file.
   *
   * @throws GraftException {@code NOT_FOUND} when the file is missing, {@code INVALID_ARGUMENT}
   *     when it is not an ONNX model
   */
  public static OnnxModel load(Path file) {
    ByteBuffer mapped;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size == 0) {
        throw GraftException.invalid("%s: not an ONNX model (empty file)", file);
      }
      if (size > Integer.MAX_VALUE) {
        throw GraftException.invalid(
            "%s: %d bytes is over the 2 GiB protobuf limit; store weights as external data",
            file, size);
      }
      mapped = ByteBuffer.allocate((int) size);
      while (mapped.hasRemaining() && ch.read(mapped) >= 0) {
        // read the whole file: the parsed model aliases this one array
      }
      mapped.flip();
    } catch (NoSuchFileException e) {
      throw GraftException.notFound("%s: no such file", file);
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT, file + ": cannot read (" + e.getMessage() + ")", e);
    }
    Path dir = file.toAbsolutePath().getParent();
    return parse(mapped, dir, file.toString());
  }

  /** Parses serialized model bytes; external data, if any, is resolved against {@code baseDir}. */
  public static OnnxModel parse(ByteBuffer bytes, Path baseDir, String source) {
    ModelProto proto;
    try {
      // protobuf-java 4.x copies direct (mapped) buffers before parsing, and only aliases a heap
      // array it
      // is told is immutable: wrap, then parse with aliasing so raw_data fields are views of one
      // array.
      byte[] array;
      if (bytes.hasArray()
          && bytes.arrayOffset() == 0
          && bytes.position() == 0
          && bytes.remaining() == bytes.array().length) {
        array = bytes.array();
      } else {
        array = new byte[bytes.remaining()];
        bytes.duplicate().get(array);
      }
      CodedInputStream in = UnsafeByteOperations.unsafeWrap(array).newCodedInput();
      in.enableAliasing(true);
      proto = ModelProto.parseFrom(in, ExtensionRegistryLite.getEmptyRegistry());
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          source + ": not an ONNX model or truncated (" + e.getMessage() + ")",
          e);
    }
    if (!proto.hasGraph() || !proto.hasIrVersion() || proto.getGraph().getNodeCount() == 0) {
      throw GraftException.invalid("%s: not an ONNX model (no graph or no IR version)", source);
    }
    return new OnnxModel(proto, baseDir, source);
  }

  /** Parses serialized model bytes held on the heap. */
  public static OnnxModel parse(byte[] bytes, Path baseDir, String source) {
    return parse(ByteBuffer.wrap(bytes), baseDir, source);
  }

  public ModelProto proto() {
    return proto;
  }

  /** Where the model came from (a path or a description), for messages. */
  public String source() {
    return source;
  }

  /**
   * The folder external data is resolved against; may be {@code null} for models built in memory.
   */
  public Path baseDir() {
    return baseDir;
  }

  /** Wraps an in-memory proto, e.g. one built by a generator or a surgery step. */
  public static OnnxModel of(ModelProto proto, Path baseDir, String source) {
    return new OnnxModel(proto, baseDir, source);
  }

  /**
   * Every constant tensor of the main graph in file order: initializers first, then the values of
   * {@code Constant} nodes (named by the node's output).
   */
  public Map<String, TensorProto> tensors() {
    return tensors;
  }

  /** The constant tensor with this name, if the graph has one. */
  public Optional<TensorProto> tensor(String name) {
    return Optional.ofNullable(tensors.get(name));
  }

  /** Names of the graph's initializers, in file order (without Constant node outputs). */
  public List<String> initializerNames() {
    List<String> names = new ArrayList<>();
    for (TensorProto t : proto.getGraph().getInitializerList()) {
      names.add(t.getName());
    }
    return names;
  }

  /** The shape of a constant tensor. */
  public long[] dims(String name) {
    TensorProto t = require(name);
    return t.getDimsList().stream().mapToLong(Long::longValue).toArray();
  }

  /**
   * Decodes a constant tensor to float32.
   *
   * @throws GraftException {@code NOT_FOUND} for an unknown name, {@code INVALID_ARGUMENT} for a
   *     type that is not floating point or data that does not match the shape
   */
  public FloatTensor floatTensor(String name) {
    TensorProto t = require(name);
    return new FloatTensor(name, dims(name), TensorData.toFloats(t, baseDir, source));
  }

  /** The weight-bearing layers in topological order. */
  public List<WeightLayer> layers() {
    return LayerFinder.find(proto.getGraph(), tensors.keySet());
  }

  /**
   * Returns a model whose named tensors hold new float32 values, written as {@code raw_data}; every
   * other byte of the model is unchanged. Shapes must match the existing tensors.
   */
  public OnnxModel withTensors(Collection<FloatTensor> replacements) {
    Map<String, FloatTensor> byName = new LinkedHashMap<>();
    for (FloatTensor t : replacements) {
      TensorProto old = require(t.name());
      if (!java.util.Arrays.equals(dims(t.name()), t.dims())) {
        throw GraftException.precondition(
            "%s: tensor %s has shape %s, replacement has %s",
            source, t.name(), java.util.Arrays.toString(dims(t.name())), t.shapeString());
      }
      if (old.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
        throw GraftException.precondition(
            "%s: tensor %s is not float32 (data type %d)", source, t.name(), old.getDataType());
      }
      byName.put(t.name(), t);
    }
    GraphProto.Builder graph = proto.getGraph().toBuilder();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      FloatTensor r = byName.remove(graph.getInitializer(i).getName());
      if (r != null) {
        graph.setInitializer(i, TensorData.floatProto(graph.getInitializer(i), r.data()));
      }
    }
    for (int i = 0; i < graph.getNodeCount() && !byName.isEmpty(); i++) {
      NodeProto node = graph.getNode(i);
      if (!"Constant".equals(node.getOpType()) || node.getOutputCount() != 1) {
        continue;
      }
      FloatTensor r = byName.remove(node.getOutput(0));
      if (r == null) {
        continue;
      }
      NodeProto.Builder nb = node.toBuilder();
      for (int a = 0; a < nb.getAttributeCount(); a++) {
        AttributeProto attr = nb.getAttribute(a);
        if ("value".equals(attr.getName())) {
          nb.setAttribute(a, attr.toBuilder().setT(TensorData.floatProto(attr.getT(), r.data())));
        }
      }
      graph.setNode(i, nb);
    }
    return new OnnxModel(proto.toBuilder().setGraph(graph).build(), baseDir, source);
  }

  /** Serialized bytes (external data references are kept as they are). */
  public byte[] toByteArray() {
    return proto.toByteArray();
  }

  /**
   * Writes the model atomically: to a temporary file in the target's folder, flushed to disk, then
   * renamed over the target. A failure leaves no partial file behind.
   */
  public void save(Path target) {
    writeAtomically(target, toByteArray());
  }

  /** Writes bytes to {@code target} through a synced temporary file and an atomic rename. */
  public static void writeAtomically(Path target, byte[] bytes) {
    Path dir = target.toAbsolutePath().getParent();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
      // createTempFile makes the file private (0600); a written model or signature is an ordinary
      // file.
      try {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
      } catch (UnsupportedOperationException e) {
        // not a POSIX file system: keep its defaults
      }
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      try {
        Files.move(
            tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      tmp = null;
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INTERNAL, target + ": cannot write (" + e.getMessage() + ")", e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // best effort: the temp file is hidden and the next write replaces nothing of it
        }
      }
    }
  }

  /**
   * SHA-256 (hex) over the names, shapes, data types and float values of every floating-point
   * constant tensor, in file order: identifies the exact weights a signature was extracted against.
   */
  public String weightsDigest() {
    Digests.Sha256 sha = new Digests.Sha256();
    for (Map.Entry<String, TensorProto> e : tensors.entrySet()) {
      TensorProto t = e.getValue();
      sha.update(e.getKey());
      for (long d : t.getDimsList()) {
        sha.update(d);
      }
      sha.update(t.getDataType());
      if (TensorData.isFloatingPoint(t.getDataType())) {
        sha.update(TensorData.toFloats(t, baseDir, source));
      }
    }
    return sha.hex();
  }

  /** The raw bytes of an inline tensor's {@code raw_data}, for digests of non-float data. */
  public ByteString rawData(String name) {
    return require(name).getRawData();
  }

  private TensorProto require(String name) {
    TensorProto t = tensors.get(name);
    if (t == null) {
      throw GraftException.notFound("%s: no tensor named '%s'", source, name);
    }
    return t;
  }

  private static Map<String, TensorProto> indexTensors(GraphProto graph) {
    Map<String, TensorProto> map = new LinkedHashMap<>();
    for (TensorProto t : graph.getInitializerList()) {
      map.put(t.getName(), t);
    }
    for (NodeProto node : graph.getNodeList()) {
      if ("Constant".equals(node.getOpType()) && node.getOutputCount() == 1) {
        for (AttributeProto attr : node.getAttributeList()) {
          if ("value".equals(attr.getName()) && attr.hasT()) {
            map.putIfAbsent(node.getOutput(0), attr.getT());
          }
        }
      }
    }
    return map;
  }
}
