package dev.graft.host;

import static dev.graft.host.PluginJars.definition;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.graft.host.testplugin.AsyncHandler;
import dev.graft.host.testplugin.ConfigProbeHandler;
import dev.graft.host.testplugin.EchoHandler;
import dev.graft.host.testplugin.PathMatch;
import dev.graft.host.testplugin.RawHandler;
import dev.graft.host.testplugin.ThrowingHandler;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One host with the test plugins on an ephemeral port, exercised over real sockets. */
class HostServerTest {

  private static final int MAX_REQUEST_SIZE = 1024;

  @TempDir static Path workDir;

  private static GraftHost host;
  private static Path configFile;
  private static String stdout;
  private static final HttpClient CLIENT =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  @BeforeAll
  static void startHost() throws Exception {
    Path plugins = workDir.resolve("plugins");
    PluginJars.write(
        plugins,
        "graft-test-plugins.jar",
        definition(
            "test-plugins",
            EchoHandler.class,
            AsyncHandler.class,
            ThrowingHandler.class,
            RawHandler.class,
            ConfigProbeHandler.class),
        EchoHandler.class,
        AsyncHandler.class,
        ThrowingHandler.class,
        RawHandler.class,
        ConfigProbeHandler.class,
        PathMatch.class);
    configFile = workDir.resolve("config.properties");
    Files.writeString(
        configFile,
        "inference_address=http://127.0.0.1:0\n"
            + "plugin_folder=plugins\n"
            + "max_request_size="
            + MAX_REQUEST_SIZE
            + "\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    host =
        GraftHost.start(
            HostConfig.load(configFile, Map.of(), workDir),
            PluginJars.isolatedLoader(),
            new PrintStream(out, true, StandardCharsets.UTF_8));
    stdout = out.toString(StandardCharsets.UTF_8);
  }

  @AfterAll
  static void stopHost() {
    if (host != null) {
      host.close();
    }
  }

  private static URI uri(String pathAndQuery) {
    return URI.create(host.inferenceAddress().url() + pathAndQuery);
  }

  /** A request builder with a timeout, so a server that never answers fails the test. */
  private static HttpRequest.Builder request(URI uri) {
    return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10));
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return CLIENT.send(request(uri(path)).GET().build(), BodyHandlers.ofString());
  }

  private static JsonObject json(HttpResponse<String> response) {
    assertThat(response.headers().firstValue("content-type"))
        .as("content type of %s", response.body())
        .contains("application/json");
    return JsonParser.parseString(response.body()).getAsJsonObject();
  }

  @Test
  void startupPrintsBindLinesWithTheEphemeralPortAndStartedLine() {
    int port = host.inferenceAddress().port();
    assertThat(port).as("port 0 must be replaced by the bound port").isPositive();
    assertThat(stdout.lines())
        .containsExactly(
            "Inference API bind to: http://127.0.0.1:" + port,
            "Management API bind to: http://127.0.0.1:" + port,
            "Graft host started.");
  }

  @Test
  void pingAnswersHealthy() throws Exception {
    HttpResponse<String> response = get("/ping");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response).get("status").getAsString()).isEqualTo("Healthy");
  }

  @Test
  void unknownPathGets404InDjlErrorShape() throws Exception {
    HttpResponse<String> response = get("/no/such/thing");

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.body())
        .isEqualTo(
            "{\"code\":404,\"type\":\"ResourceNotFoundException\",\"message\":\"Requested resource"
                + " is not found, please refer to API document.\"}");
  }

  @Test
  void pingWithAnotherMethodIsNotFound() throws Exception {
    HttpResponse<String> response =
        CLIENT.send(request(uri("/ping")).DELETE().build(), BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(404);
  }

  @Test
  void pluginReceivesRequestsItAcceptsWithBodyQueryAndSegments() throws Exception {
    HttpResponse<String> response =
        CLIENT.send(
            request(uri("/echo/models/m1?x=1")).POST(BodyPublishers.ofString("hello")).build(),
            BodyHandlers.ofString());

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonObject seen = json(response);
    assertThat(seen.get("method").getAsString()).isEqualTo("POST");
    assertThat(seen.get("path").getAsString()).isEqualTo("/echo/models/m1");
    assertThat(seen.get("segments").toString()).isEqualTo("[\"\",\"echo\",\"models\",\"m1\"]");
    assertThat(seen.get("query").toString()).isEqualTo("{\"x\":[\"1\"]}");
    assertThat(seen.get("body").getAsString()).isEqualTo("hello");
  }

  @Test
  void bodyOfExactlyMaxRequestSizeIsAccepted() throws Exception {
    String body = "a".repeat(MAX_REQUEST_SIZE);
    HttpResponse<String> response =
        CLIENT.send(
            request(uri("/echo")).POST(BodyPublishers.ofString(body)).build(),
            BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response).get("body").getAsString()).hasSize(MAX_REQUEST_SIZE);
  }

  @Test
  void pluginIsNotConsultedForPathsItRefuses() throws Exception {
    // "/echoes" shares a prefix with the plugin's "/echo" but the plugin refuses it.
    HttpResponse<String> refused = get("/echoes");
    HttpResponse<String> ping = get("/ping");

    assertThat(refused.statusCode()).isEqualTo(404);
    assertThat(json(refused).get("type").getAsString()).isEqualTo("ResourceNotFoundException");
    assertThat(json(ping).has("handler")).as("built-in ping, not the echo plugin").isFalse();
  }

  @Test
  void futureResultIsSentAs200JsonWhenItCompletes() throws Exception {
    HttpResponse<String> response = get("/async");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response).get("completedOn").getAsString()).isEqualTo("worker");
  }

  @Test
  void failedFutureIsSentAsMappedError() throws Exception {
    HttpResponse<String> response = get("/async/fail");

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body())
        .isEqualTo(
            "{\"code\":400,\"type\":\"IllegalArgumentException\",\"message\":\"bad input\"}");
  }

  @Test
  void exceptionThrownByPluginGives500Json() throws Exception {
    HttpResponse<String> response = get("/boom");

    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(response.body())
        .isEqualTo("{\"code\":500,\"type\":\"IllegalStateException\",\"message\":\"kaboom\"}");
  }

  @Test
  void responseWrittenByPluginPassesThroughWithRequestId() throws Exception {
    HttpResponse<String> response = get("/raw");

    assertThat(response.statusCode()).isEqualTo(201);
    assertThat(response.body()).isEqualTo("written by the plugin");
    assertThat(response.headers().firstValue("x-request-id")).isPresent();
  }

  @Test
  void clientRequestIdIsEchoedAndVisibleToPlugin() throws Exception {
    HttpResponse<String> response =
        CLIENT.send(
            request(uri("/echo")).header("x-request-id", "trace-42").GET().build(),
            BodyHandlers.ofString());

    assertThat(response.headers().firstValue("x-request-id")).contains("trace-42");
    assertThat(json(response).get("requestId").getAsString()).isEqualTo("trace-42");
  }

  @Test
  void requestIdIsGeneratedWhenAbsentAndSharedWithPlugin() throws Exception {
    HttpResponse<String> response = get("/echo");

    String id = response.headers().firstValue("x-request-id").orElseThrow();
    assertThat(UUID.fromString(id)).as("a random UUID").isNotNull();
    assertThat(json(response).get("requestId").getAsString()).isEqualTo(id);
  }

  @Test
  void errorResponsesCarryRequestIds() throws Exception {
    assertThat(get("/missing").headers().firstValue("x-request-id")).isPresent();
    assertThat(get("/boom").headers().firstValue("x-request-id")).isPresent();
    assertThat(get("/async/fail").headers().firstValue("x-request-id")).isPresent();
  }

  @Test
  void oversizedBodyGets413JsonWithRequestId() throws Exception {
    byte[] body = new byte[4 * 1024 * 1024];
    HttpResponse<String> response =
        CLIENT.send(
            request(uri("/echo"))
                .header("x-request-id", "big-1")
                .POST(BodyPublishers.ofByteArray(body))
                .build(),
            BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(413);
    JsonObject error = json(response);
    assertThat(error.get("code").getAsInt()).isEqualTo(413);
    assertThat(error.get("type").getAsString()).isEqualTo("TooLongHttpContentException");
    assertThat(error.get("message").getAsString()).contains(Integer.toString(MAX_REQUEST_SIZE));
    assertThat(response.headers().firstValue("x-request-id")).contains("big-1");
  }

  @Test
  void oversizedChunkedBodyGets413Json() throws Exception {
    byte[] body = new byte[64 * 1024];
    HttpResponse<String> response =
        CLIENT.send(
            request(uri("/echo"))
                .POST(BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)))
                .build(),
            BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(json(response).get("code").getAsInt()).isEqualTo(413);
  }

  @Test
  void oversizedBodyAnnouncedWithExpectContinueGets413JsonBeforeItIsSent() throws Exception {
    // Raw socket: the JDK 17 HttpClient never completes an expect-continue exchange that is
    // answered with a final status, whatever the server.
    try (Socket socket = connect()) {
      socket
          .getOutputStream()
          .write(
              ("POST /echo HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: "
                      + (MAX_REQUEST_SIZE + 1)
                      + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      RawHttp.Response response = RawHttp.read(in);

      assertThat(response.status()).as("no 100 Continue first").isEqualTo(413);
      assertThat(response.body()).contains("\"type\":\"TooLongHttpContentException\"");
      assertThat(response.headers()).containsKey("x-request-id");
      assertThat(response.headers()).containsEntry("connection", "close");
      assertThat(in.read()).as("connection closed after the refusal").isEqualTo(-1);
    }
  }

  @Test
  void bodyWithinLimitAnnouncedWithExpectContinueIsServed() throws Exception {
    HttpResponse<String> response =
        CLIENT.send(
            request(uri("/echo"))
                .expectContinue(true)
                .POST(BodyPublishers.ofString("small"))
                .build(),
            BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response).get("body").getAsString()).isEqualTo("small");
  }

  @Test
  void connectionStaysUsableAfter413() throws Exception {
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      byte[] body = new byte[MAX_REQUEST_SIZE * 8];
      out.write(
          ("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: " + body.length + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      RawHttp.Response rejected = RawHttp.read(in);

      out.write("GET /ping HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      RawHttp.Response ping = RawHttp.read(in);

      assertThat(rejected.status()).isEqualTo(413);
      assertThat(ping.status()).as("same connection answers the next request").isEqualTo(200);
      assertThat(ping.body()).isEqualTo("{\"status\":\"Healthy\"}");
    }
  }

  @Test
  void keepAliveServesSeveralRequestsOnOneConnection() throws Exception {
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      for (String path : new String[] {"/ping", "/echo", "/async", "/raw", "/nowhere"}) {
        out.write(
            ("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        RawHttp.Response response = RawHttp.read(in);
        assertThat(response.headers()).as(path).doesNotContainEntry("connection", "close");
        assertThat(response.headers()).as(path).containsKey("x-request-id");
      }
    }
  }

  @Test
  void connectionCloseIsHonoured() throws Exception {
    try (Socket socket = connect()) {
      socket
          .getOutputStream()
          .write(
              "GET /ping HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      RawHttp.Response response = RawHttp.read(in);

      assertThat(response.status()).isEqualTo(200);
      assertThat(response.headers()).containsEntry("connection", "close");
      assertThat(in.read()).as("server closed the connection").isEqualTo(-1);
    }
  }

  @Test
  void malformedRequestGets400AndClose() throws Exception {
    try (Socket socket = connect()) {
      socket
          .getOutputStream()
          .write(
              "GET /ping HTTP/1.1\r\nContent-Length: x\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      RawHttp.Response response = RawHttp.read(in);

      assertThat(response.status()).isEqualTo(400);
      assertThat(response.body()).contains("\"code\":400");
      assertThat(in.read()).isEqualTo(-1);
    }
  }

  @Test
  void pluginsSeeTheConfigFileTheHostRead() throws Exception {
    JsonObject seen = json(get("/probe"));

    assertThat(seen.get("configFile").getAsString()).isEqualTo(configFile.toString());
    assertThat(seen.get("inferenceAddress").getAsString()).isEqualTo("http://127.0.0.1:0");
  }

  private static Socket connect() throws Exception {
    Socket socket = new Socket("127.0.0.1", host.inferenceAddress().port());
    socket.setSoTimeout(10_000);
    return socket;
  }
}
