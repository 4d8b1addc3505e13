package dev.graft.plugin.testing;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import dev.graft.plugin.GraftRequestHandler;
import dev.graft.plugin.config.GraftConfig;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A Graft handler on its own model store behind a {@link TestServer}, with a small HTTP client: one
 * "server" for tests that start, stop and restart several.
 */
public final class LocalGraft implements AutoCloseable {
  private final GraftRequestHandler handler;
  private final TestServer server;
  private final HttpClient client = HttpClient.newHttpClient();

  private LocalGraft(GraftRequestHandler handler, TestServer server) {
    this.handler = handler;
    this.server = server;
  }

  /** Serves {@code store} ({@code load_models=ALL}) with extra configuration entries. */
  public static LocalGraft start(Path store, Path workDir, Map<String, String> extra)
      throws InterruptedException {
    Map<String, String> config = new HashMap<>();
    config.put("model_store", store.toString());
    config.put("load_models", "ALL");
    config.put("graft.executor.threads", "2");
    config.put("graft.state.poll_ms", "200");
    config.putAll(extra);
    GraftRequestHandler handler = new GraftRequestHandler(GraftConfig.of(config, workDir));
    try {
      return new LocalGraft(handler, new TestServer(handler, 64 * 1024 * 1024));
    } catch (InterruptedException | RuntimeException e) {
      handler.close();
      throw e;
    }
  }

  public GraftRequestHandler handler() {
    return handler;
  }

  public HttpResponse<String> get(String path, String... headers) throws Exception {
    return send(HttpRequest.newBuilder(server.uri(path)).GET(), headers);
  }

  public HttpResponse<String> post(String path, byte[] body, String... headers) throws Exception {
    return send(
        HttpRequest.newBuilder(server.uri(path))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .header("Content-Type", "application/octet-stream"),
        headers);
  }

  public HttpResponse<String> delete(String path, String... headers) throws Exception {
    return send(HttpRequest.newBuilder(server.uri(path)).DELETE(), headers);
  }

  private HttpResponse<String> send(HttpRequest.Builder builder, String... headers)
      throws Exception {
    if (headers.length > 0) {
      builder.headers(headers);
    }
    return client.send(builder.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The body as JSON. */
  public static JsonElement json(HttpResponse<String> r) {
    return JsonParser.parseString(r.body());
  }

  @Override
  public void close() {
    server.close();
    handler.close();
  }
}
