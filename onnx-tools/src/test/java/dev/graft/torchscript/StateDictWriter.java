package dev.graft.torchscript;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes small {@code torch.save(state_dict)}-shaped archives for tests: the pickle opcodes PyTorch
 * emits for an {@code OrderedDict} of tensors, and one storage record per tensor. Tests can give a
 * tensor strides (a transposed view), a storage type and an offset, and can corrupt the pickle.
 */
final class StateDictWriter {
  /** One tensor: a view of its own storage. */
  record Tensor(
      String name, String storageType, byte[] storage, long offset, long[] sizes, long[] strides) {}

  private final List<Tensor> tensors = new ArrayList<>();
  private String archive = "archive";
  private byte[] pickleOverride;

  StateDictWriter folder(String name) {
    this.archive = name;
    return this;
  }

  /** A contiguous float32 tensor. */
  StateDictWriter floats(String name, long[] sizes, float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return tensor(new Tensor(name, "FloatStorage", b.array(), 0, sizes, contiguous(sizes)));
  }

  StateDictWriter tensor(Tensor t) {
    tensors.add(t);
    return this;
  }

  /** Writes these bytes as {@code data.pkl} instead of the generated pickle. */
  StateDictWriter pickle(byte[] bytes) {
    this.pickleOverride = bytes;
    return this;
  }

  static long[] contiguous(long[] sizes) {
    long[] strides = new long[sizes.length];
    long s = 1;
    for (int i = sizes.length - 1; i >= 0; i--) {
      strides[i] = s;
      s *= sizes[i];
    }
    return strides;
  }

  Path write(Path file) throws IOException {
    try (OutputStream out = Files.newOutputStream(file);
        ZipOutputStream zip = new ZipOutputStream(out)) {
      put(zip, archive + "/data.pkl", pickleOverride != null ? pickleOverride : pickle());
      put(zip, archive + "/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
      for (int i = 0; i < tensors.size(); i++) {
        put(zip, archive + "/data/" + i, tensors.get(i).storage());
      }
      put(zip, archive + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
    }
    return file;
  }

  /** The pickle of {@code OrderedDict([(name, _rebuild_tensor_v2(...)), ...])}. */
  byte[] pickle() {
    Ops p = new Ops();
    p.op(0x80).op(2);
    p.global("collections", "OrderedDict").op(')').op('R');
    p.op('(');
    for (int i = 0; i < tensors.size(); i++) {
      Tensor t = tensors.get(i);
      p.unicode(t.name());
      p.global("torch._utils", "_rebuild_tensor_v2");
      p.op('(');
      p.op('(').unicode("storage").global("torch", t.storageType()).unicode(Integer.toString(i));
      p.unicode("cpu").integer(t.storage().length / elementSize(t.storageType())).op('t');
      p.op('Q');
      p.integer(t.offset());
      p.tuple(t.sizes()).tuple(t.strides());
      p.op(0x89);
      p.global("collections", "OrderedDict").op(')').op('R');
      p.op('t').op('R');
    }
    p.op('u').op('.');
    return p.bytes();
  }

  private static int elementSize(String storageType) {
    return switch (storageType) {
      case "DoubleStorage", "LongStorage" -> 8;
      case "HalfStorage", "BFloat16Storage", "ShortStorage" -> 2;
      case "ByteStorage", "CharStorage", "BoolStorage" -> 1;
      default -> 4;
    };
  }

  private static void put(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
    zip.putNextEntry(new ZipEntry(name));
    zip.write(bytes);
    zip.closeEntry();
  }

  /** Pickle opcodes, protocol 2. */
  static final class Ops {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Ops op(int code) {
      out.write(code);
      return this;
    }

    Ops global(String module, String name) {
      op('c');
      out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
      return this;
    }

    Ops unicode(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      op('X');
      out.writeBytes(
          ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
      out.writeBytes(b);
      return this;
    }

    Ops integer(long v) {
      op('J');
      out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
      return this;
    }

    Ops tuple(long[] values) {
      op('(');
      for (long v : values) {
        integer(v);
      }
      return op('t');
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }
}
