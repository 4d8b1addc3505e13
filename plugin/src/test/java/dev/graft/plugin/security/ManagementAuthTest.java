package dev.graft.plugin.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.plugin.config.GraftConfig;
import dev.graft.plugin.http.HttpReply;
import dev.graft.plugin.testing.Fixtures;
import dev.graft.plugin.testing.LocalGraft;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManagementAuthTest {
  private static final String TOKEN = "s3cret-token";

  @TempDir Path tmp;

  private final ManagementAuth auth =
      ManagementAuth.of(GraftConfig.of(Map.of("management_token", TOKEN), Path.of(".")));

  @Test
  void managementPathsNeedTheToken() {
    for (String path :
        List.of("/models", "/models/m", "/models/m/adapters/a/update", "/models/m/heads")) {
      assertThat(auth.refusal(path, headers(null))).as(path).isPresent();
      assertThat(auth.refusal(path, headers("Bearer " + TOKEN))).as(path).isEmpty();
    }
  }

  @Test
  void inferenceAndOtherPathsNeverNeedIt() {
    for (String path :
        List.of("/predictions/m", "/v2/models/m/infer", "/v2/models/m/ready", "/ping")) {
      assertThat(auth.refusal(path, headers(null))).as(path).isEmpty();
    }
  }

  @Test
  void aWrongOrMalformedTokenIsRefused() {
    for (String header :
        new String[] {
          "Bearer wrong",
          "Bearer " + TOKEN + "x",
          "Bearer " + TOKEN.substring(1),
          "Basic " + TOKEN,
          TOKEN,
          "Bearer",
          "Bearer "
        }) {
      assertThat(auth.refusal("/models", headers(header))).as(header).isPresent();
    }
    assertThat(auth.refusal("/models", headers("bearer  " + TOKEN + " ")))
        .as("scheme is case-insensitive, blanks around the token are not part of it")
        .isEmpty();
  }

  @Test
  void theRefusalIs401WithABearerChallenge() {
    HttpReply missing = auth.refusal("/models", headers(null)).orElseThrow();
    HttpReply wrong = auth.refusal("/models", headers("Bearer nope")).orElseThrow();

    assertThat(missing.status().code()).isEqualTo(401);
    assertThat(missing.headers()).containsEntry("www-authenticate", "Bearer realm=\"graft\"");
    assertThat(wrong.headers().get("www-authenticate")).contains("error=\"invalid_token\"");
    assertThat(missing.text()).contains("\"type\":\"UnauthorizedException\"").doesNotContain(TOKEN);
  }

  @Test
  void noTokenMeansOpen() {
    ManagementAuth open = ManagementAuth.of(GraftConfig.of(Map.of(), Path.of(".")));
    assertThat(open.required()).isFalse();
    assertThat(open.refusal("/models", headers(null))).isEmpty();
  }

  @Test
  void theEnvironmentVariableSetsTheToken() {
    GraftConfig config =
        GraftConfig.load(null, Map.of("SERVING_MANAGEMENT_TOKEN", TOKEN), Path.of("."));
    ManagementAuth fromEnv = ManagementAuth.of(config);

    assertThat(fromEnv.required()).isTrue();
    assertThat(fromEnv.refusal("/models", headers("Bearer " + TOKEN))).isEmpty();
    assertThat(config.toString()).as("the token is never printed").doesNotContain(TOKEN);
  }

  @Test
  void loopbackAddressesAreRecognised() {
    assertThat(ManagementAuth.isLoopback("http://127.0.0.1:8080")).isTrue();
    assertThat(ManagementAuth.isLoopback("http://localhost:8080")).isTrue();
    assertThat(ManagementAuth.isLoopback("http://[::1]:8080")).isTrue();
    assertThat(ManagementAuth.isLoopback("127.0.0.1:8082")).isTrue();
    assertThat(ManagementAuth.isLoopback("http://0.0.0.0:8080")).isFalse();
    assertThat(ManagementAuth.isLoopback("http://10.1.2.3:8080")).isFalse();
  }

  @Test
  void startupWarnsWhenManagementIsExposedWithoutAToken() {
    List<String> warnings = captureWarnings();
    ManagementAuth.of(GraftConfig.of(Map.of(), Path.of(".")))
        .warnIfExposed(
            GraftConfig.of(Map.of("inference_address", "http://0.0.0.0:8080"), Path.of(".")));
    assertThat(warnings).singleElement().asString().contains("management_token");

    warnings.clear();
    auth.warnIfExposed(
        GraftConfig.of(
            Map.of("management_address", "http://0.0.0.0:8080", "management_token", TOKEN),
            Path.of(".")));
    ManagementAuth.of(GraftConfig.of(Map.of(), Path.of(".")))
        .warnIfExposed(GraftConfig.of(Map.of(), Path.of(".")));
    assertThat(warnings).as("token set, or loopback: no warning").isEmpty();
  }

  @Test
  void overHttpTheTokenIsRequiredAcceptedAndRefused() throws Exception {
    Path store = Files.createDirectories(tmp.resolve("store"));
    Fixtures.copyExampleModel(store);
    try (LocalGraft g = LocalGraft.start(store, tmp, Map.of("management_token", TOKEN))) {
      HttpResponse<String> none = g.get("/models");
      HttpResponse<String> wrong = g.get("/models", "Authorization", "Bearer nope");
      HttpResponse<String> right = g.get("/models", "Authorization", "Bearer " + TOKEN);
      HttpResponse<String> delete = g.delete("/models/mnist-vgg", "Authorization", "Bearer x");
      HttpResponse<String> ready = g.get("/v2/models/mnist-vgg/ready");

      assertThat(none.statusCode()).isEqualTo(401);
      assertThat(none.headers().firstValue("www-authenticate")).hasValue("Bearer realm=\"graft\"");
      assertThat(none.headers().firstValue("x-request-id"))
          .as("every response has one")
          .isPresent();
      assertThat(wrong.statusCode()).isEqualTo(401);
      assertThat(right.statusCode()).isEqualTo(200);
      assertThat(delete.statusCode()).isEqualTo(401);
      assertThat(g.get("/models/mnist-vgg", "Authorization", "Bearer " + TOKEN).statusCode())
          .as("a refused DELETE removed nothing")
          .isEqualTo(200);
      assertThat(ready.statusCode()).as("inference needs no token").isEqualTo(200);
    }
  }

  private static List<String> captureWarnings() {
    List<String> messages = new CopyOnWriteArrayList<>();
    Logger logger = Logger.getLogger(ManagementAuth.class.getName());
    logger.addHandler(
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            messages.add(r.getMessage());
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        });
    return messages;
  }

  private static HttpHeaders headers(String authorization) {
    HttpHeaders h = new DefaultHttpHeaders();
    if (authorization != null) {
      h.set("Authorization", authorization);
    }
    return h;
  }
}
