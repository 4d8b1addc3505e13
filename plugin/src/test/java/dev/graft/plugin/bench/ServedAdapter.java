package dev.graft.plugin.bench;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/**
 * The benchmark's RWS adapter on one served model, changed over the REST management API: the first
 * {@link #set} registers it with the {@code .rws} file as the body ({@code POST
 * /models/{m}/adapters?name=&attach=}), later ones flip it with {@code POST
 * /models/{m}/adapters/{a}/update?attach=}. Each call returns once the server answered, i.e. once
 * the new weights are live. Thread safe (calls are serialised).
 */
final class ServedAdapter {
  private final HttpClient http;
  private final URI base;
  private final String model;
  private final String name;
  private final byte[] rws;
  private boolean registered; // guarded by this

  ServedAdapter(HttpClient http, URI base, String model, String name, byte[] rws) {
    this.http = http;
    this.base = base;
    this.model = model;
    this.name = name;
    this.rws = rws.clone();
  }

  /** {@code adapter}, or an exception for a load made without one. */
  static ServedAdapter require(ServedAdapter adapter) {
    if (adapter == null) {
      throw new IllegalStateException("this load was made without an adapter");
    }
    return adapter;
  }

  synchronized void set(boolean attach) throws IOException, InterruptedException {
    String m = URLEncoder.encode(model, StandardCharsets.UTF_8);
    String a = URLEncoder.encode(name, StandardCharsets.UTF_8);
    HttpRequest request;
    if (!registered) {
      request =
          HttpRequest.newBuilder(
                  base.resolve("/models/" + m + "/adapters?name=" + a + "&attach=" + attach))
              .header("Content-Type", "application/octet-stream")
              .POST(HttpRequest.BodyPublishers.ofByteArray(rws))
              .build();
    } else {
      request =
          HttpRequest.newBuilder(
                  base.resolve("/models/" + m + "/adapters/" + a + "/update?attach=" + attach))
              .POST(HttpRequest.BodyPublishers.noBody())
              .build();
    }
    HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException(
          "adapter " + name + " attach=" + attach + ": HTTP " + r.statusCode() + " " + r.body());
    }
    registered = true;
  }
}
