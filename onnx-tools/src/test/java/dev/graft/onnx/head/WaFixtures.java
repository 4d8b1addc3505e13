package dev.graft.onnx.head;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the repository's {@code fixtures/} folder by walking up from the working directory. */
final class WaFixtures {
  private WaFixtures() {}

  static Path root() {
    for (Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        dir != null;
        dir = dir.getParent()) {
      Path candidate = dir.resolve("fixtures");
      if (Files.isDirectory(candidate.resolve("wa"))) {
        return candidate;
      }
    }
    throw new IllegalStateException(
        "no fixtures/wa folder above " + System.getProperty("user.dir"));
  }

  static Path wa(String file) {
    return root().resolve("wa").resolve(file);
  }

  static ClassifierHead head(int task) {
    return ClassifierHead.read(wa("head-task" + task + ".safetensors"));
  }

  static Path testImages() {
    return root().resolve("rws/data/test-images.idx3-ubyte.gz");
  }

  static Path testLabels() {
    return root().resolve("rws/data/test-labels.idx1-ubyte.gz");
  }
}
