package dev.graft.plugin.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.GraftException;
import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.config.ModelStore;
import dev.graft.plugin.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRegistryTest {
  @TempDir Path tmp;

  private Path store;

  @BeforeEach
  void layout() throws Exception {
    store = Files.createDirectories(tmp.resolve("store"));
    Fixtures.copyExampleModel(store);
  }

  @Test
  void loadAllServesOnnxFoldersAndSkipsOtherEngines() throws Exception {
    Path torch = Files.createDirectories(store.resolve("torch"));
    Files.writeString(torch.resolve("serving.properties"), "engine=PyTorch\n");
    Files.copy(Fixtures.vgg("clean"), torch.resolve("torch.onnx"));
    Files.createDirectories(store.resolve("empty"));
    Files.copy(Fixtures.vgg("clean-v2"), store.resolve("bare.onnx"));

    try (ModelRegistry registry = new ModelRegistry()) {
      StartupModels.load(config("ALL"), new ModelStore(store, Optional.empty()), registry);

      assertThat(registry.list())
          .extracting(ServedModel::name)
          .containsExactly("bare", "mnist-vgg");
      assertThat(registry.get("mnist-vgg").labels()).hasSize(10);
      assertThat(registry.get("bare").settings().classifiesImages()).isFalse();
    }
  }

  @Test
  void explicitEntriesMayRenameAndMustLoad() {
    try (ModelRegistry registry = new ModelRegistry()) {
      StartupModels.load(
          config("vgg=mnist-vgg"), new ModelStore(store, Optional.empty()), registry);
      assertThat(registry.get("vgg").url()).isEqualTo("mnist-vgg");
    }
    try (ModelRegistry registry = new ModelRegistry()) {
      assertThatThrownBy(
              () ->
                  StartupModels.load(
                      config("missing"), new ModelStore(store, Optional.empty()), registry))
          .isInstanceOfSatisfying(
              GraftException.class,
              e -> assertThat(e.code()).isEqualTo(GraftException.Code.NOT_FOUND));
    }
  }

  @Test
  void aNameBeingLoadedIsTakenAndAFailedLoadFreesIt() throws Exception {
    try (ModelRegistry registry = new ModelRegistry()) {
      CountDownLatch loading = new CountDownLatch(1);
      CountDownLatch finish = new CountDownLatch(1);
      AtomicReference<Throwable> slowFailure = new AtomicReference<>();
      Thread slow =
          new Thread(
              () -> {
                try {
                  registry.register(
                      "m",
                      () -> {
                        loading.countDown();
                        await(finish);
                        throw GraftException.invalid("simulated bad model");
                      });
                } catch (Throwable t) {
                  slowFailure.set(t);
                }
              });
      slow.start();
      loading.await();

      assertThatThrownBy(() -> registry.register("m", () -> load("m")))
          .isInstanceOfSatisfying(
              GraftException.class,
              e -> assertThat(e.code()).isEqualTo(GraftException.Code.ALREADY_EXISTS));
      finish.countDown();
      slow.join();
      assertThat(slowFailure.get()).hasMessageContaining("simulated bad model");

      assertThat(registry.register("m", () -> load("m")).name()).isEqualTo("m");
    }
  }

  @Test
  void unregisteringClosesTheModel() {
    try (ModelRegistry registry = new ModelRegistry()) {
      ServedModel m = registry.register("m", () -> load("m"));
      registry.unregister("m");
      assertThat(m.runtime().weightsLabel()).isEqualTo("closed");
      assertThatThrownBy(() -> registry.get("m")).isInstanceOf(GraftException.class);
    }
  }

  @Test
  void closingTheRegistryClosesEveryModelAndRefusesNewOnes() {
    ModelRegistry registry = new ModelRegistry();
    ServedModel m = registry.register("m", () -> load("m"));
    registry.close();
    assertThat(m.runtime().weightsLabel()).isEqualTo("closed");
    assertThatThrownBy(() -> registry.register("n", () -> load("n")))
        .isInstanceOfSatisfying(
            GraftException.class,
            e -> assertThat(e.code()).isEqualTo(GraftException.Code.UNAVAILABLE));
  }

  private ServedModel load(String name) {
    return new ModelLoader().load(name, store.resolve("mnist-vgg"), "mnist-vgg");
  }

  private GraftConfig config(String loadModels) {
    return GraftConfig.of(Map.of("model_store", store.toString(), "load_models", loadModels), tmp);
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
