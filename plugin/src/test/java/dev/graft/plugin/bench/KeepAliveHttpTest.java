package dev.graft.plugin.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The load generator's HTTP client against the JDK's HTTP server on a free loopback port. */
class KeepAliveHttpTest {
  private HttpServer server;
  private URI base;
  private final Set<String> clients = ConcurrentHashMap.newKeySet();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/echo",
        exchange -> {
          clients.add(exchange.getRemoteAddress().toString());
          byte[] body = exchange.getRequestBody().readAllBytes();
          exchange
              .getResponseHeaders()
              .add("X-Type", exchange.getRequestHeaders().getFirst("X-Type"));
          exchange.sendResponseHeaders(201, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.createContext(
        "/short",
        exchange -> {
          exchange.sendResponseHeaders(200, 10); // promises 10 bytes, sends 3, closes
          exchange.getResponseBody().write(new byte[3]);
          exchange.close();
          exchange.getHttpContext().getServer().stop(0);
        });
    server.start();
    base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  @Test
  void postsTheBodyAndReadsStatusHeadersAndBodyOverOneConnection() throws Exception {
    try (KeepAliveHttp http = new KeepAliveHttp(base)) {
      for (int i = 0; i < 5; i++) {
        byte[] body = ("request " + i).getBytes(StandardCharsets.UTF_8);
        KeepAliveHttp.Response r = http.post("/echo", Map.of("X-Type", "t" + i), body);
        assertThat(r.status()).as("status of request %d", i).isEqualTo(201);
        assertThat(r.body()).as("echoed body of request %d", i).isEqualTo(body);
        assertThat(r.headers()).as("header names are lower case").containsEntry("x-type", "t" + i);
      }
    }
    assertThat(clients).as("one keep-alive connection for the calling thread").hasSize(1);
  }

  @Test
  void aResponseCutShortIsAnErrorNotAShortBody() {
    try (KeepAliveHttp http = new KeepAliveHttp(base)) {
      assertThatThrownBy(() -> http.post("/short", Map.of(), new byte[0]))
          .as("Content-Length 10 with 3 bytes sent")
          .isInstanceOf(EOFException.class);
    }
  }
}
