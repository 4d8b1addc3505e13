package dev.graft.torchscript;

import dev.graft.onnx.FloatTensor;
import dev.graft.onnx.GraftException;
import dev.graft.onnx.WeightLayer;
import dev.graft.onnx.internal.Digests;
import dev.graft.onnx.internal.TensorData;
import dev.graft.torchscript.internal.TorchArchive;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The weights of a PyTorch model file ({@code .pt}): a TorchScript module saved by {@code
 * torch.jit.save}, or a state dict saved by {@code torch.save}. Read in Java from the zip archive
 * (a minimal pickle reader for {@code data.pkl} and the {@code data/N} storages), so no PyTorch
 * engine is needed to extract, inspect or fingerprint a model.
 *
 * <p>Tensors are named by attribute path ({@code convs.0.weight}, PyTorch's {@code state_dict()}
 * names) in module registration order, parameters and buffers alike; each has the ONNX data type
 * code of its storage (float32 is {@code 1}), so names, shapes, types and the {@link
 * #weightsDigest() digest} are comparable with an {@code OnnxModel}'s.
 *
 * <p>Weight layers are the modules holding a {@code weight} tensor whose class is a convolution or
 * {@code Linear} ({@code Conv}, {@code ConvTranspose} and {@code Gemm} in ONNX terms). A state dict
 * has no classes: there a rank-2 {@code weight} is taken as {@code Gemm}, a rank 3-5 one as {@code
 * Conv}. Layers come in registration order, which is the execution order for sequential models; it
 * is not read from the TorchScript code.
 *
 * <p>Immutable and thread safe. The storages are held in memory (the model's size in heap), so a
 * later change of the file cannot change the weights.
 */
public final class TorchScriptModel {
  /**
   * One tensor of the model.
   *
   * @param name its attribute path
   * @param dims its sizes
   * @param dataType the ONNX data type code of its elements
   */
  public record TensorInfo(String name, long[] dims, int dataType) {
    public TensorInfo {
      dims = dims.clone();
    }

    @Override
    public long[] dims() {
      return dims.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof TensorInfo t
          && name.equals(t.name)
          && Arrays.equals(dims, t.dims)
          && dataType == t.dataType;
    }

    @Override
    public int hashCode() {
      return (name.hashCode() * 31 + Arrays.hashCode(dims)) * 31 + dataType;
    }

    @Override
    public String toString() {
      return name + Arrays.toString(dims);
    }
  }

  private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};

  private final String source;
  private final Map<String, TorchArchive.Entry> tensors;
  private final List<TensorInfo> infos;
  private final List<WeightLayer> layers;
  private final String digest;

  private TorchScriptModel(String source, List<TorchArchive.Entry> entries) {
    this.source = source;
    Map<String, TorchArchive.Entry> byName = new LinkedHashMap<>();
    List<TensorInfo> list = new ArrayList<>();
    for (TorchArchive.Entry e : entries) {
      byName.put(e.name(), e);
      list.add(new TensorInfo(e.name(), e.tensor().dims(), e.tensor().storage().dataType()));
    }
    this.tensors = Collections.unmodifiableMap(byName);
    this.infos = List.copyOf(list);
    this.layers = findLayers(entries, byName);
    this.digest = digest();
  }

  /**
   * Reads a model file.
   *
   * @throws GraftException {@code NOT_FOUND} for a missing file, {@code INVALID_ARGUMENT} for a
   *     file that is not a PyTorch archive or holds something this reader does not understand
   */
  public static TorchScriptModel load(Path file) {
    return new TorchScriptModel(file.toString(), TorchArchive.read(file));
  }

  /** Whether a file starts like a zip archive (a PyTorch archive, as opposed to ONNX protobuf). */
  public static boolean isArchive(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return Arrays.equals(in.readNBytes(ZIP_MAGIC.length), ZIP_MAGIC);
    } catch (IOException e) {
      return false;
    }
  }

  /** Where the model came from, for messages. */
  public String source() {
    return source;
  }

  /** Every named tensor, in module registration order. */
  public List<TensorInfo> tensors() {
    return infos;
  }

  public boolean hasTensor(String name) {
    return tensors.containsKey(name);
  }

  /**
   * @throws GraftException {@code NOT_FOUND} for an unknown name
   */
  public long[] dims(String name) {
    return require(name).tensor().dims().clone();
  }

  /**
   * A tensor's values converted to float32, in row-major order.
   *
   * @throws GraftException {@code NOT_FOUND} for an unknown name, {@code INVALID_ARGUMENT} for a
   *     tensor that is not floating point
   */
  public FloatTensor floatTensor(String name) {
    TorchArchive.Entry e = require(name);
    int type = e.tensor().storage().dataType();
    if (!TensorData.isFloatingPoint(type)) {
      throw GraftException.invalid(
          "%s: tensor %s has data type %s, not floating point",
          source, name, TensorData.typeName(type));
    }
    return new FloatTensor(name, e.tensor().dims().clone(), e.tensor().toFloats());
  }

  /** The convolution and linear layers, in registration order. */
  public List<WeightLayer> layers() {
    return layers;
  }

  /**
   * SHA-256 over every tensor's name, sizes, data type and (for floating-point tensors) float32
   * values, in order: the same encoding as {@code OnnxModel.weightsDigest()}, so an ONNX export
   * whose initializers are exactly this model's tensors (names, order, shapes, values) has the same
   * digest.
   */
  public String weightsDigest() {
    return digest;
  }

  private String digest() {
    Digests.Sha256 sha = new Digests.Sha256();
    for (TensorInfo t : infos) {
      sha.update(t.name());
      for (long d : t.dims) {
        sha.update(d);
      }
      sha.update(t.dataType());
      if (TensorData.isFloatingPoint(t.dataType())) {
        sha.update(floatTensor(t.name()).data());
      }
    }
    return sha.hex();
  }

  private TorchArchive.Entry require(String name) {
    TorchArchive.Entry e = tensors.get(name);
    if (e == null) {
      throw GraftException.notFound("%s: no tensor named '%s'", source, name);
    }
    return e;
  }

  private static List<WeightLayer> findLayers(
      List<TorchArchive.Entry> entries, Map<String, TorchArchive.Entry> byName) {
    List<WeightLayer> out = new ArrayList<>();
    for (TorchArchive.Entry e : entries) {
      if (!e.name().endsWith(".weight")) {
        continue;
      }
      String module = e.name().substring(0, e.name().length() - ".weight".length());
      String op = opType(e.moduleClass(), e.tensor().dims().length);
      if (op == null) {
        continue;
      }
      String bias = byName.containsKey(module + ".bias") ? module + ".bias" : null;
      out.add(new WeightLayer(module, op, module, e.name(), bias));
    }
    return List.copyOf(out);
  }

  /** The ONNX operator a module computes, or {@code null} when it is not a weight layer. */
  static String opType(String moduleClass, int weightRank) {
    if (moduleClass.isEmpty()) {
      if (weightRank == 2) {
        return "Gemm";
      }
      return weightRank >= 3 && weightRank <= 5 ? "Conv" : null;
    }
    if (moduleClass.matches("Conv[123]d")) {
      return "Conv";
    }
    if (moduleClass.matches("ConvTranspose[123]d")) {
      return "ConvTranspose";
    }
    return moduleClass.equals("Linear") ? "Gemm" : null;
  }

  @Override
  public String toString() {
    return "TorchScriptModel[" + source + ", " + infos.size() + " tensors]";
  }
}
