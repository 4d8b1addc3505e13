package dev.graft.onnx;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the repository's {@code fixtures/} folder from the test's working directory. */
public final class Fixtures {
  private Fixtures() {}

  public static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      if (Files.isDirectory(dir.resolve("fixtures/rws"))) {
        return dir.resolve("fixtures");
      }
      dir = dir.getParent();
    }
    throw new IllegalStateException("no fixtures/ folder above " + Path.of("").toAbsolutePath());
  }

  public static Path rws(String file) {
    return root().resolve("rws").resolve(file);
  }

  public static Path ofq(String file) {
    return root().resolve("ofq").resolve(file);
  }

  public static Path vgg(String variant) {
    return rws("mnist-vgg-" + variant + ".onnx");
  }

  public static Path testImages(String corruption) {
    return rws(
        "data/test-images" + (corruption.isEmpty() ? "" : "-" + corruption) + ".idx3-ubyte.gz");
  }

  public static Path testLabels() {
    return rws("data/test-labels.idx1-ubyte.gz");
  }
}
