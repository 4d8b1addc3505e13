package dev.graft.durable;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host exposed with a management token ({@code SERVING_MANAGEMENT_TOKEN}) and a 1 MiB request
 * limit: who may change models, where references may point, how large a body may be.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecurityTest {
  private static final String TOKEN = "correct-horse-battery-staple";
  private static final String M = "/models/" + StoreState.MODEL;
  private static final int LIMIT = 1 << 20;

  @TempDir static Path tmp;
  private HostProcess host;
  private Http admin;
  private Http anonymous;

  @BeforeAll
  void start() throws Exception {
    Path store = Repo.newStore(tmp);
    Files.write(store.resolve("noise.rws"), Oracle.signature("gaussian_noise").toByteArray());
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.write(outside.resolve("secret.rws"), Oracle.signature("gaussian_blur").toByteArray());
    Files.createSymbolicLink(store.resolve("link.rws"), outside.resolve("secret.rws"));
    Files.createSymbolicLink(store.resolve("linkdir"), outside);
    host =
        HostProcess.start(
            "security",
            store,
            Map.of("max_request_size", Integer.toString(LIMIT)),
            Map.of("SERVING_MANAGEMENT_TOKEN", TOKEN),
            TOKEN);
    admin = host.http();
    anonymous = new Http(admin.uri("/"), null);
    Poll.until(
        Duration.ofSeconds(60),
        Duration.ofMillis(50),
        "model ready",
        () -> anonymous.get("/v2/models/mnist-vgg/ready").status() == 200 ? true : null);
  }

  @AfterAll
  void stop() {
    host.close();
  }

  @Test
  void managementNeedsTheTokenAndInferenceDoesNot() {
    Http.Response none = anonymous.get("/models");
    Http.Response wrong =
        anonymous.send(
            anonymous.builder("/models").header("Authorization", "Bearer " + TOKEN + "!"));
    Http.Response right = admin.get("/models");

    assertThat(none.status()).isEqualTo(401);
    assertThat(none.raw().headers().firstValue("WWW-Authenticate"))
        .hasValue("Bearer realm=\"graft\"");
    assertThat(none.body()).contains("UnauthorizedException").doesNotContain(TOKEN);
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.raw().headers().firstValue("WWW-Authenticate").orElseThrow())
        .contains("invalid_token");
    assertThat(right.status()).isEqualTo(200);
    assertThat(anonymous.get("/v2/models/mnist-vgg").status())
        .as("inference metadata")
        .isEqualTo(200);
    assertThat(anonymous.postJson("/v2/models/mnist-vgg/infer", Oracle.inferRequest()).status())
        .as("inference")
        .isEqualTo(200);
    assertThat(anonymous.get("/ping").status()).as("health").isEqualTo(200);
  }

  @Test
  void aRefusedChangeChangesNothing() {
    Http.Response attach = anonymous.post(M + "/adapters?name=evil&src=noise.rws", new byte[0]);
    Http.Response unload = anonymous.delete(M);

    assertThat(attach.status()).isEqualTo(401);
    assertThat(unload.status()).isEqualTo(401);
    assertThat(admin.get(M + "/adapters").json().getAsJsonObject().getAsJsonArray("adapters"))
        .as("no adapter registered")
        .isEmpty();
    assertThat(admin.get(M).status()).as("model still there").isEqualTo(200);
  }

  @Test
  void referencesOutsideTheStoreAreRefused() {
    List<String> attempts =
        List.of(
            "..%2Foutside%2Fsecret.rws",
            "%2e%2e%2Foutside%2Fsecret.rws",
            "mnist-vgg%2F..%2F..%2Foutside%2Fsecret.rws",
            Path.of(tmp.toString(), "outside", "secret.rws").toString(),
            "file:" + tmp + "/outside/secret.rws",
            "file:" + tmp + "/store/%252e%252e/outside/secret.rws",
            "link.rws",
            "linkdir%2Fsecret.rws",
            "http%3A%2F%2F127.0.0.1%3A1%2Fx.rws",
            "%2Fetc%2Fpasswd");
    for (String src : attempts) {
      Http.Response r = admin.post(M + "/adapters?name=x&src=" + src, new byte[0]);
      assertThat(r.status()).as("src=%s -> %s", src, r.body()).isIn(400, 404);
      assertThat(r.body()).as("src=%s", src).doesNotContain("\"name\":\"x\"");
    }
    Http.Response model = admin.post("/models?url=..%2Foutside&model_name=escaped", new byte[0]);
    assertThat(model.status()).as(model.body()).isEqualTo(400);
    assertThat(admin.get(M + "/adapters").json().getAsJsonObject().getAsJsonArray("adapters"))
        .isEmpty();
  }

  @Test
  void bodiesOverMaxRequestSizeAre413() {
    Http.Response upload = admin.post(M + "/adapters?name=big", new byte[LIMIT + 1]);
    Http.Response infer =
        anonymous.send(
            anonymous
                .builder("/v2/models/mnist-vgg/infer")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[2 * LIMIT])));
    Http.Response atLimit = admin.post(M + "/adapters?name=big", new byte[LIMIT]);

    assertThat(upload.status()).isEqualTo(413);
    assertThat(infer.status()).isEqualTo(413);
    assertThat(atLimit.status())
        .as("exactly the limit is read, then refused as not RWS")
        .isEqualTo(400);
    assertThat(host.isAlive()).isTrue();
  }
}
