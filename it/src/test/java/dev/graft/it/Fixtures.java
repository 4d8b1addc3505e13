package dev.graft.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where things are in the repository: the fixtures, the example model store, the built host jar and
 * the plugin folder. The root is the nearest folder above {@code user.dir} that holds {@code
 * fixtures/}, so the tests run from the repository root and from the {@code it} module alike.
 */
public final class Fixtures {
  /** The clean MNIST VGG's accuracy on the clean test set (fixtures/README.md). */
  public static final double CLEAN_ACCURACY = 0.9645;

  /** Keep 4, 256 levels, with pretrained, α=1, on the gaussian_noise set (fixtures/README.md). */
  public static final double GAUSSIAN_NOISE_PATCHED_ACCURACY = 0.9285;

  /** The name the example model store gives the clean VGG. */
  public static final String VGG = "mnist-vgg";

  private static final Path ROOT = findRoot();

  private Fixtures() {}

  private static Path findRoot() {
    Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("fixtures")) && Files.isRegularFile(p.resolve("pom.xml"))) {
        return p;
      }
    }
    throw new IllegalStateException("no folder with fixtures/ and pom.xml above " + dir);
  }

  public static Path root() {
    return ROOT;
  }

  /** A file under {@code fixtures/}, which must exist. */
  public static Path fixture(String relative) {
    Path p = ROOT.resolve("fixtures").resolve(relative);
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException("missing fixture " + p);
    }
    return p;
  }

  /**
   * {@code fixtures/rws/mnist-vgg-<variant>.onnx}, e.g. {@code clean} or {@code
   * robust-gaussian_noise}.
   */
  public static Path vgg(String variant) {
    return fixture("rws/mnist-vgg-" + variant + ".onnx");
  }

  /** A test set of {@code fixtures/rws/data}: {@code null} or empty for the clean one. */
  public static Path testImages(String corruption) {
    String suffix = corruption == null || corruption.isEmpty() ? "" : "-" + corruption;
    return fixture("rws/data/test-images" + suffix + ".idx3-ubyte.gz");
  }

  public static Path testLabels() {
    return fixture("rws/data/test-labels.idx1-ubyte.gz");
  }

  /** A model folder of the repository's example store, e.g. {@code mnist-vgg}. */
  public static Path exampleModel(String name) {
    Path p = ROOT.resolve("model-store").resolve(name);
    if (!Files.isDirectory(p)) {
      throw new IllegalStateException("missing example model folder " + p);
    }
    return p;
  }

  /** The packaged host, built by {@code mvn package} of the host module. */
  public static Path hostJar() {
    return ROOT.resolve("host").resolve("target").resolve("graft-host.jar");
  }

  /** Where the plugin build copies {@code graft-plugin.jar}. */
  public static Path pluginFolder() {
    return ROOT.resolve("plugins");
  }

  /** A scratch folder under {@code it/target}, removed by {@code mvn clean}. */
  public static Path scratch(String prefix) {
    try {
      Path base = ROOT.resolve("it").resolve("target").resolve("it-tmp");
      Files.createDirectories(base);
      return Files.createTempDirectory(base, prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies a folder tree (files and sub-folders) to {@code target}. */
  public static void copyTree(Path source, Path target) {
    try (Stream<Path> files = Files.walk(source)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path dest = target.resolve(source.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(dest);
        } else {
          Files.copy(p, dest, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Deletes a folder tree, best effort. */
  public static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a leftover scratch folder under target/ is harmless
    }
  }
}
