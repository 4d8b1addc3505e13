package dev.graft.durable;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** A small HTTP client of one host; adds the bearer token to management calls when given. */
final class Http {
  private final URI base;
  private final String token;
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  Http(URI base, String token) {
    this.base = base;
    this.token = token;
  }

  /** A response: status, body, the {@code X-Graft-Weights} header (or null). */
  record Response(int status, String body, String weights, HttpResponse<String> raw) {
    JsonElement json() {
      return JsonParser.parseString(body);
    }
  }

  URI uri(String pathAndQuery) {
    return base.resolve(pathAndQuery);
  }

  Response get(String path) {
    return send(builder(path).GET());
  }

  Response post(String path, byte[] body) {
    return send(
        builder(path)
            .header("Content-Type", "application/octet-stream")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  Response postJson(String path, String json) {
    return send(
        builder(path)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  Response delete(String path) {
    return send(builder(path).DELETE());
  }

  /** Sends without waiting (e.g. a change the test kills the server during). */
  CompletableFuture<HttpResponse<String>> sendAsync(HttpRequest.Builder request) {
    return client.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Sends {@code request} as built by the caller (headers exactly as given). */
  Response send(HttpRequest.Builder request) {
    try {
      HttpResponse<String> r =
          client.send(
              request.timeout(Duration.ofSeconds(60)).build(),
              HttpResponse.BodyHandlers.ofString());
      return new Response(
          r.statusCode(), r.body(), r.headers().firstValue("X-Graft-Weights").orElse(null), r);
    } catch (IOException e) {
      throw new IllegalStateException(request.build().uri() + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  HttpRequest.Builder builder(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path));
    if (token != null && (path.equals("/models") || path.startsWith("/models"))) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }
}
