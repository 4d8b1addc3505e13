package dev.graft.torchscript.internal;

import dev.graft.onnx.GraftException;
import dev.graft.onnx.internal.TensorData;
import dev.graft.onnx.proto.TensorProto;
import dev.graft.torchscript.internal.Unpickler.Call;
import dev.graft.torchscript.internal.Unpickler.Global;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads the tensors of a PyTorch zip archive: the {@code data.pkl} object tree (a TorchScript
 * module of {@code torch.jit.save}, or a state dict of {@code torch.save}) and the {@code data/N}
 * storage records it refers to. Every storage record is read into memory, so the result no longer
 * depends on the file.
 *
 * <p>Tensors are named by their attribute path ({@code convs.0.weight}), in the order of the object
 * tree, which for modules is their registration order (PyTorch's {@code named_parameters} order). A
 * tensor or module reachable twice keeps its first name. Tensors inside lists or tuples, and the
 * constants of TorchScript code ({@code constants.pkl}), are not named and are skipped.
 */
public final class TorchArchive {
  /** One named tensor and the class of the module holding it ({@code ""} for a state dict). */
  public record Entry(String name, StoredTensor tensor, String moduleClass) {}

  private static final Set<String> CONTAINERS = Set.of("_modules", "_parameters", "_buffers");
  private static final long MAX_RECORD = Integer.MAX_VALUE - 8;
  private static final Map<String, Integer> STORAGE_TYPES =
      Map.of(
          "FloatStorage", TensorProto.DataType.FLOAT_VALUE,
          "DoubleStorage", TensorProto.DataType.DOUBLE_VALUE,
          "HalfStorage", TensorProto.DataType.FLOAT16_VALUE,
          "BFloat16Storage", TensorProto.DataType.BFLOAT16_VALUE,
          "LongStorage", TensorProto.DataType.INT64_VALUE,
          "IntStorage", TensorProto.DataType.INT32_VALUE,
          "ShortStorage", TensorProto.DataType.INT16_VALUE,
          "CharStorage", TensorProto.DataType.INT8_VALUE,
          "ByteStorage", TensorProto.DataType.UINT8_VALUE,
          "BoolStorage", TensorProto.DataType.BOOL_VALUE);

  private final String source;
  private final ZipFile zip;
  private final String prefix;
  private final Map<String, StoredTensor.Storage> storages = new HashMap<>();
  private final Map<String, Entry> entries = new LinkedHashMap<>();
  private final Set<Object> visited = Collections.newSetFromMap(new IdentityHashMap<>());

  private TorchArchive(ZipFile zip, String prefix, String source) {
    this.zip = zip;
    this.prefix = prefix;
    this.source = source;
  }

  /**
   * Reads the named tensors of an archive, in order.
   *
   * @throws GraftException {@code NOT_FOUND} for a missing file; {@code INVALID_ARGUMENT} for a
   *     file that is not a PyTorch zip archive, a big-endian archive, an unknown storage type or a
   *     view outside its storage
   */
  public static List<Entry> read(Path file) {
    String source = file.toString();
    try (ZipFile zip = new ZipFile(file.toFile())) {
      String prefix = findPrefix(zip, source);
      TorchArchive archive = new TorchArchive(zip, prefix, source);
      archive.checkByteOrder();
      Object root =
          Unpickler.load(
              archive.record("data.pkl"),
              source + ":data.pkl",
              archive::storage,
              TorchArchive::reduce);
      archive.walk(root, "", "");
      return List.copyOf(archive.entries.values());
    } catch (NoSuchFileException e) {
      throw GraftException.notFound("%s: no such file", source);
    } catch (ZipException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          source + ": not a PyTorch archive (" + e.getMessage() + ")",
          e);
    } catch (IOException e) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          source + ": cannot read (" + e.getMessage() + ")",
          e);
    }
  }

  /** The folder every record lives in ({@code <name>/}), found from {@code <name>/data.pkl}. */
  private static String findPrefix(ZipFile zip, String source) {
    String found = null;
    for (ZipEntry e : Collections.list(zip.entries())) {
      String n = e.getName();
      if (n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - "/data.pkl".length()) {
        if (found != null) {
          throw GraftException.invalid("%s: more than one data.pkl", source);
        }
        found = n.substring(0, n.length() - "data.pkl".length());
      }
    }
    if (found == null) {
      throw GraftException.invalid("%s: not a PyTorch archive (no <name>/data.pkl record)", source);
    }
    return found;
  }

  private void checkByteOrder() throws IOException {
    ZipEntry e = zip.getEntry(prefix + "byteorder");
    if (e != null) {
      String order = new String(record("byteorder"), StandardCharsets.US_ASCII).trim();
      if (!order.equals("little")) {
        throw GraftException.invalid("%s: %s-endian storages are not supported", source, order);
      }
    }
  }

  private byte[] record(String name) {
    ZipEntry e = zip.getEntry(prefix + name);
    if (e == null) {
      throw GraftException.invalid("%s: record %s is missing", source, name);
    }
    if (e.getSize() > MAX_RECORD) {
      throw new GraftException(
          GraftException.Code.TOO_LARGE,
          source + ": record " + name + " has " + e.getSize() + " bytes, over 2 GiB");
    }
    try (InputStream in = zip.getInputStream(e)) {
      byte[] bytes = in.readNBytes((int) MAX_RECORD);
      if (e.getSize() >= 0 && bytes.length != e.getSize()) {
        throw GraftException.invalid(
            "%s: record %s is truncated (%d of %d bytes)", source, name, bytes.length, e.getSize());
      }
      return bytes;
    } catch (IOException ex) {
      throw new GraftException(
          GraftException.Code.INVALID_ARGUMENT,
          source + ": cannot read record " + name + " (" + ex.getMessage() + ")",
          ex);
    }
  }

  /** Persistent ids: {@code ('storage', <type>, key, location, numel)}. */
  private Object storage(Object pid) {
    if (!(pid instanceof List<?> t)
        || t.size() < 5
        || !"storage".equals(t.get(0))
        || !(t.get(1) instanceof Global type)
        || !(t.get(2) instanceof String key)
        || !(t.get(4) instanceof Long numel)) {
      throw GraftException.invalid("%s: unsupported persistent id %s", source, pid);
    }
    Integer dataType = STORAGE_TYPES.get(type.name());
    if (dataType == null) {
      throw GraftException.invalid(
          "%s: storage %s has type %s, which Graft does not read", source, key, type.qualified());
    }
    StoredTensor.Storage s =
        storages.computeIfAbsent(
            key, k -> new StoredTensor.Storage(k, dataType, record("data/" + k)));
    long needed = numel * TensorData.elementSize(dataType);
    if (s.bytes().length < needed) {
      throw GraftException.invalid(
          "%s: storage %s holds %d bytes, %d elements of %s need %d",
          source, key, s.bytes().length, numel, TensorData.typeName(dataType), needed);
    }
    return s;
  }

  private static Object reduce(Global g, List<Object> args) {
    return switch (g.qualified()) {
      case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> tensor(args);
      case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" ->
          args.get(0);
      case "collections.OrderedDict" -> new LinkedHashMap<>();
      default -> new Call(g, args);
    };
  }

  private static StoredTensor tensor(List<Object> args) {
    if (args.size() < 4
        || !(args.get(0) instanceof StoredTensor.Storage storage)
        || !(args.get(1) instanceof Long offset)) {
      throw GraftException.invalid("unexpected tensor arguments %s", args);
    }
    return new StoredTensor(storage, offset, longs(args.get(2)), longs(args.get(3)));
  }

  private static long[] longs(Object tuple) {
    if (!(tuple instanceof List<?> list)) {
      throw GraftException.invalid("expected a tuple of sizes, got %s", tuple);
    }
    long[] out = new long[list.size()];
    for (int i = 0; i < out.length; i++) {
      if (!(list.get(i) instanceof Long v)) {
        throw GraftException.invalid("expected integer sizes, got %s", list);
      }
      out[i] = v;
    }
    return out;
  }

  /** Names the tensors under {@code node}; {@code path} ends with '.' unless empty. */
  private void walk(Object node, String path, String moduleClass) {
    if (node == null || node instanceof String || !visited.add(node)) {
      return;
    }
    if (node instanceof StoredTensor t) {
      String name = path.substring(0, path.length() - 1);
      t.validate(source + ": tensor " + name);
      entries.put(name, new Entry(name, t, moduleClass));
    } else if (node instanceof Map<?, ?> dict) {
      walkAttributes(dict, path, moduleClass);
    } else if (node instanceof Call call && call.state() instanceof Map<?, ?> attributes) {
      walkAttributes(attributes, path, call.callee().name());
    }
  }

  private void walkAttributes(Map<?, ?> attributes, String path, String className) {
    for (Map.Entry<?, ?> e : attributes.entrySet()) {
      if (e.getKey() instanceof String key) {
        // a pickled nn.Module keeps its children and tensors in these dicts; state_dict() names
        // leave them out
        String child = CONTAINERS.contains(key) ? path : path + key + ".";
        walk(e.getValue(), child, className);
      }
    }
  }
}
