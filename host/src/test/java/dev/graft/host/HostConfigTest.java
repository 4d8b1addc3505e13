package dev.graft.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostConfigTest {

  @TempDir Path workDir;

  private Path configFile(String text) throws IOException {
    Path file = workDir.resolve("config.properties");
    Files.writeString(file, text);
    return file;
  }

  @Test
  void defaultsApplyWithoutFileOrEnvironment() throws Exception {
    HostConfig config = HostConfig.load(null, Map.of(), workDir);

    assertThat(config.configFile()).isEmpty();
    assertThat(config.inferenceAddress()).isEqualTo(new BindAddress("127.0.0.1", 8080));
    assertThat(config.managementAddress()).isEqualTo(config.inferenceAddress());
    assertThat(config.sharedConnector()).isTrue();
    assertThat(config.modelStore()).isEqualTo(workDir.resolve("model-store"));
    assertThat(config.pluginFolder()).isEqualTo(workDir.resolve("plugins"));
    assertThat(config.maxRequestSize()).isEqualTo(67108864);
    assertThat(config.get(HostConfig.GRPC_ADDRESS)).contains("127.0.0.1:8082");
    assertThat(config.get(HostConfig.LOAD_MODELS)).as("load_models has no default").isEmpty();
  }

  @Test
  void fileValuesOverrideDefaultsAndUnknownKeysAreKeptVerbatim() throws Exception {
    Path file =
        configFile(
            "inference_address=http://0.0.0.0:9000\n"
                + "load_models = ALL\n"
                + "model_url_pattern=.*\n"
                + "job_queue_size=7\n"
                + "max_request_size=1024\n");

    HostConfig config = HostConfig.load(file, Map.of(), workDir);

    assertThat(config.configFile()).contains(file);
    assertThat(config.inferenceAddress()).isEqualTo(new BindAddress("0.0.0.0", 9000));
    assertThat(config.managementAddress())
        .as("management_address defaults to inference_address")
        .isEqualTo(new BindAddress("0.0.0.0", 9000));
    assertThat(config.maxRequestSize()).isEqualTo(1024);
    assertThat(config.get("load_models")).contains("ALL");
    assertThat(config.get("model_url_pattern")).contains(".*");
    assertThat(config.get("job_queue_size")).contains("7");
  }

  @Test
  void environmentOverridesFileAndAddsKeys() throws Exception {
    Path file = configFile("inference_address=http://127.0.0.1:9000\nmodel_store=from-file\n");
    Map<String, String> env =
        Map.of(
            "SERVING_INFERENCE_ADDRESS", "http://127.0.0.1:9100",
            "SERVING_MODEL_STORE", "from-env",
            "SERVING_JOB_QUEUE_SIZE", "42",
            "UNRELATED", "x",
            "SERVING_", "ignored");

    HostConfig config = HostConfig.load(file, env, workDir);

    assertThat(config.inferenceAddress().port()).isEqualTo(9100);
    assertThat(config.modelStore()).isEqualTo(workDir.resolve("from-env"));
    assertThat(config.get("job_queue_size")).contains("42");
    assertThat(config.properties()).doesNotContainKeys("unrelated", "");
  }

  @Test
  void relativePathsResolveAgainstWorkingDirectoryAndAbsoluteOnesAreKept() throws Exception {
    Path elsewhere = workDir.resolve("elsewhere").toAbsolutePath();
    Path file = configFile("model_store=models/../store\nplugin_folder=" + elsewhere + "\n");

    HostConfig config = HostConfig.load(file, Map.of(), workDir);

    assertThat(config.modelStore()).isEqualTo(workDir.resolve("store"));
    assertThat(config.pluginFolder()).isEqualTo(elsewhere);
    assertThat(config.properties().get("model_store"))
        .isEqualTo(workDir.resolve("store").toString());
  }

  @Test
  void relativeConfigFileResolvesAgainstWorkingDirectory() throws Exception {
    configFile("max_request_size=5\n");

    HostConfig config = HostConfig.load(Path.of("config.properties"), Map.of(), workDir);

    assertThat(config.configFile()).contains(workDir.resolve("config.properties"));
    assertThat(config.maxRequestSize()).isEqualTo(5);
  }

  @Test
  void differentManagementAddressMeansSeparateConnectors() throws Exception {
    HostConfig config =
        HostConfig.load(
            null, Map.of("SERVING_MANAGEMENT_ADDRESS", "http://127.0.0.1:8081"), workDir);

    assertThat(config.sharedConnector()).isFalse();
    assertThat(config.managementAddress().port()).isEqualTo(8081);
  }

  @Test
  void unparseableAddressIsRejectedNamingTheKey() throws Exception {
    Path file = configFile("inference_address=127.0.0.1:8080\n");

    assertThatThrownBy(() -> HostConfig.load(file, Map.of(), workDir))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("inference_address")
        .hasMessageContaining("127.0.0.1:8080");
  }

  @Test
  void portOutOfRangeIsRejected() {
    assertThatThrownBy(
            () ->
                HostConfig.load(
                    null, Map.of("SERVING_MANAGEMENT_ADDRESS", "http://127.0.0.1:70000"), workDir))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("management_address");
  }

  @Test
  void nonPositiveOrNonNumericMaxRequestSizeIsRejected() {
    for (String bad : new String[] {"0", "-1", "64MB", "99999999999"}) {
      assertThatThrownBy(
              () -> HostConfig.load(null, Map.of("SERVING_MAX_REQUEST_SIZE", bad), workDir))
          .as("max_request_size=%s", bad)
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("max_request_size");
    }
  }

  @Test
  void missingConfigFileIsRejected() {
    Path missing = workDir.resolve("nope.properties");

    assertThatThrownBy(() -> HostConfig.load(missing, Map.of(), workDir))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("nope.properties");
  }

  @Test
  void bindAddressParsesHostPortAndDefaultPort() {
    assertThat(BindAddress.parse("http://LOCALHOST:0")).isEqualTo(new BindAddress("localhost", 0));
    assertThat(BindAddress.parse("http://example.org"))
        .isEqualTo(new BindAddress("example.org", 80));
    assertThat(BindAddress.parse("http://[::1]:8080/").url()).isEqualTo("http://[::1]:8080");
    assertThat(
            BindAddress.parse("http://[::1]:8080").toSocketAddress().getAddress().getHostAddress())
        .isEqualTo("0:0:0:0:0:0:0:1");
  }

  @Test
  void bindAddressRejectsOtherSchemesAndPaths() {
    for (String bad :
        new String[] {"https://127.0.0.1:8443", "http://127.0.0.1:8080/x", "unix:/s"}) {
      assertThatThrownBy(() -> BindAddress.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
