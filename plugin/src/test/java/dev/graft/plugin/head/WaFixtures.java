package dev.graft.plugin.head;

import dev.graft.onnx.head.ClassifierHead;
import dev.graft.plugin.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The WA fixtures ({@code fixtures/wa}) and the example model {@code model-store/mnist-wa}. */
public final class WaFixtures {
  /** The example model's name and its head's name. */
  public static final String MODEL = "mnist-wa";

  public static final String HEAD = "digits";

  /** γ of steps 1 and 2 in the fixture README. */
  public static final double GAMMA_1 = 0.75817;

  public static final double GAMMA_2 = 0.70734;

  private WaFixtures() {}

  public static Path wa(String file) {
    return Fixtures.repoRoot().resolve("fixtures").resolve("wa").resolve(file);
  }

  /** {@code head-task<t>.safetensors}: the head after step t, before alignment. */
  public static ClassifierHead head(int task) {
    return ClassifierHead.read(wa("head-task" + task + ".safetensors"));
  }

  public static byte[] headBytes(int task) {
    try {
      return Files.readAllBytes(wa("head-task" + task + ".safetensors"));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The folder {@code model-store/mnist-wa}. */
  public static Path exampleModelFolder() {
    return Fixtures.repoRoot().resolve("model-store").resolve(MODEL);
  }

  /** Copies {@code model-store/mnist-wa} to {@code store/<folder>}. */
  public static Path copyExampleModel(Path store, String folder) throws IOException {
    Path target = Files.createDirectories(store.resolve(folder));
    try (Stream<Path> files = Files.list(exampleModelFolder())) {
      for (Path f : files.toList()) {
        Files.copy(f, target.resolve(f.getFileName()));
      }
    }
    return target;
  }
}
