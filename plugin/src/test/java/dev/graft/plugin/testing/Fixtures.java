package dev.graft.plugin.testing;

import dev.graft.onnx.OnnxModel;
import dev.graft.onnx.rws.RwsExtractor;
import dev.graft.onnx.rws.RwsSignature;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;

/** The repository's real fixtures, found by walking up from the working directory. */
public final class Fixtures {
  private static final Map<String, RwsSignature> SIGNATURES = new ConcurrentHashMap<>();
  private static final Map<String, OnnxModel> MODELS = new ConcurrentHashMap<>();

  private Fixtures() {}

  /** The folder holding {@code fixtures/}. */
  public static Path repoRoot() {
    Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("fixtures").resolve("rws"))) {
        return p;
      }
    }
    throw new IllegalStateException("no fixtures/ folder above " + dir);
  }

  public static Path rws(String file) {
    return repoRoot().resolve("fixtures").resolve("rws").resolve(file);
  }

  /** {@code fixtures/rws/mnist-vgg-<variant>.onnx}. */
  public static Path vgg(String variant) {
    return rws("mnist-vgg-" + variant + ".onnx");
  }

  public static OnnxModel vggModel(String variant) {
    return MODELS.computeIfAbsent(variant, v -> OnnxModel.load(vgg(v)));
  }

  /** The example model folder {@code model-store/mnist-vgg}. */
  public static Path exampleModelFolder() {
    return repoRoot().resolve("model-store").resolve("mnist-vgg");
  }

  /** A keep-4, 256-level signature for a corruption, extracted against the clean model (cached). */
  public static RwsSignature signature(String corruption) {
    return SIGNATURES.computeIfAbsent(
        corruption,
        c ->
            RwsExtractor.extract(
                    vggModel("clean"),
                    vggModel("robust-" + c),
                    vggModel("pretrained"),
                    new RwsExtractor.Options(c, c, 4, List.of(), 256, false, 0.30))
                .signature());
  }

  /** Copies {@code model-store/mnist-vgg} into {@code store}. */
  public static Path copyExampleModel(Path store) throws IOException {
    Path target = Files.createDirectories(store.resolve("mnist-vgg"));
    try (var files = Files.list(exampleModelFolder())) {
      for (Path f : files.toList()) {
        Files.copy(f, target.resolve(f.getFileName()));
      }
    }
    return target;
  }

  /** The first {@code n} test images of a set ({@code ""} for clean), as pixel/255 NCHW floats. */
  public static float[] testImages(String corruption, int n) {
    String file =
        corruption.isEmpty()
            ? "test-images.idx3-ubyte.gz"
            : "test-images-" + corruption + ".idx3-ubyte.gz";
    try (InputStream raw = Files.newInputStream(rws("data").resolve(file));
        DataInputStream in = new DataInputStream(new GZIPInputStream(raw))) {
      in.readInt();
      int count = in.readInt();
      int rows = in.readInt();
      int cols = in.readInt();
      int take = Math.min(n, count);
      byte[] pixels = new byte[take * rows * cols];
      in.readFully(pixels);
      float[] out = new float[pixels.length];
      for (int i = 0; i < pixels.length; i++) {
        out[i] = (pixels[i] & 0xff) / 255f;
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The raw 28x28 pixels of clean test image {@code index}. */
  public static byte[] testImageBytes(int index) {
    try (InputStream raw = Files.newInputStream(rws("data").resolve("test-images.idx3-ubyte.gz"));
        DataInputStream in = new DataInputStream(new GZIPInputStream(raw))) {
      in.readInt();
      in.readInt();
      int rows = in.readInt();
      int cols = in.readInt();
      in.skipNBytes((long) index * rows * cols);
      byte[] pixels = new byte[rows * cols];
      in.readFully(pixels);
      return pixels;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The first {@code n} test labels. */
  public static int[] testLabels(int n) {
    try (InputStream raw = Files.newInputStream(rws("data").resolve("test-labels.idx1-ubyte.gz"));
        DataInputStream in = new DataInputStream(new GZIPInputStream(raw))) {
      in.readInt();
      int count = in.readInt();
      int take = Math.min(n, count);
      int[] labels = new int[take];
      for (int i = 0; i < take; i++) {
        labels[i] = in.readUnsignedByte();
      }
      return labels;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
