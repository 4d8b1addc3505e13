package dev.graft.durable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The repository's built jars and fixtures, found by walking up from the working directory. */
final class Repo {
  private Repo() {}

  static Path root() {
    Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("fixtures/rws")) && Files.isDirectory(p.resolve("host"))) {
        return p;
      }
    }
    throw new IllegalStateException("no repository (fixtures/rws, host/) above " + dir);
  }

  static Path hostJar() {
    return built(root().resolve("host/target/graft-host.jar"));
  }

  static Path pluginJar() {
    return built(root().resolve("plugin/target/graft-plugin.jar"));
  }

  static Path fixture(String relative) {
    return root().resolve("fixtures").resolve(relative);
  }

  /** A fresh model store holding a copy of {@code model-store/mnist-vgg}. */
  static Path newStore(Path parent) {
    return newStore(parent, "mnist-vgg");
  }

  /** A fresh model store holding copies of the example models {@code model-store/<model>}. */
  static Path newStore(Path parent, String... models) {
    try {
      Path store = Files.createDirectories(parent.resolve("store"));
      for (String model : models) {
        Path target = Files.createDirectories(store.resolve(model));
        try (Stream<Path> files = Files.list(root().resolve("model-store").resolve(model))) {
          for (Path f : files.toList()) {
            Files.copy(f, target.resolve(f.getFileName()));
          }
        }
      }
      return store;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path built(Path jar) {
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          jar + " is missing: build it first (mvn -B -pl host,plugin -am package -DskipTests)");
    }
    return jar;
  }
}
