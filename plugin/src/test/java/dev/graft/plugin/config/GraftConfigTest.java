package dev.graft.plugin.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.onnx.GraftException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GraftConfigTest {
  @TempDir Path tmp;

  @Test
  void defaults() {
    GraftConfig c = GraftConfig.load(null, Map.of(), tmp);
    assertThat(c.modelStore()).isEqualTo(tmp.resolve("model-store"));
    assertThat(c.loadModels()).isEmpty();
    assertThat(c.loadAllModels()).isFalse();
    assertThat(c.maxRequestSize()).isEqualTo(64L * 1024 * 1024);
    assertThat(c.modelUrlPattern()).isEmpty();
    assertThat(c.executorThreads()).isEqualTo(4);
    assertThat(c.executorQueue()).isEqualTo(256);
  }

  @Test
  void fileValuesAreOverriddenByServingEnvironmentVariables() throws Exception {
    Path file = tmp.resolve("config.properties");
    Files.writeString(
        file,
        "model_store=store\nload_models=a, b\nmax_request_size=1000\n"
            + "graft.executor.threads=2\nmodel_url_pattern=file:.*\n");
    GraftConfig c =
        GraftConfig.load(
            file, Map.of("SERVING_MAX_REQUEST_SIZE", "2000", "SERVING_LOAD_MODELS", "ALL"), tmp);

    assertThat(c.modelStore()).isEqualTo(tmp.resolve("store"));
    assertThat(c.maxRequestSize()).isEqualTo(2000);
    assertThat(c.loadAllModels()).isTrue();
    assertThat(c.executorThreads()).isEqualTo(2);
    assertThat(c.modelUrlPattern())
        .hasValueSatisfying(p -> assertThat(p.pattern()).isEqualTo("file:.*"));
  }

  @Test
  void listOfModels() {
    GraftConfig c = GraftConfig.of(Map.of("load_models", "mnist-vgg, other=folder"), tmp);
    assertThat(c.loadModels()).isEqualTo(List.of("mnist-vgg", "other=folder"));
  }

  @Test
  void badValuesAreRefused() {
    assertThatThrownBy(() -> GraftConfig.of(Map.of("max_request_size", "-1"), tmp))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("max_request_size");
    assertThatThrownBy(() -> GraftConfig.of(Map.of("model_url_pattern", "(("), tmp))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("model_url_pattern");
  }

  @Test
  void grpcServesOnTheDefaultPortWhenReadFromAFileAndOnlyWhenAskedFromValues() throws Exception {
    assertThat(GraftConfig.load(null, Map.of(), tmp).grpcAddress())
        .as("as the host runs it")
        .hasValue("127.0.0.1:8082");
    assertThat(
            GraftConfig.load(null, Map.of("SERVING_GRPC_ADDRESS", "0.0.0.0:9000"), tmp)
                .grpcAddress())
        .hasValue("0.0.0.0:9000");
    assertThat(GraftConfig.load(null, Map.of("SERVING_GRPC_ADDRESS", ""), tmp).grpcAddress())
        .as("an empty address turns gRPC off")
        .isEmpty();
    assertThat(GraftConfig.of(Map.of(), tmp).grpcAddress())
        .as("tests and embedders opt in, so handlers can run side by side")
        .isEmpty();
  }

  @Test
  void variantsMaxDefaultsToFour() {
    assertThat(GraftConfig.of(Map.of(), tmp).variantsMax()).isEqualTo(4);
    assertThat(GraftConfig.of(Map.of("graft.variants.max", "2"), tmp).variantsMax()).isEqualTo(2);
    assertThatThrownBy(() -> GraftConfig.of(Map.of("graft.variants.max", "0"), tmp))
        .isInstanceOf(GraftException.class)
        .hasMessageContaining("graft.variants.max");
  }
}
