package dev.graft.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The harness itself: a server that cannot start fails loudly, and close() really stops it. */
class GraftServerTest {

  @Test
  void serverThatCannotStartFailsWithItsOutput() {
    GraftServer.Builder builder =
        GraftServer.builder(getClass().getSimpleName() + "-bad").property("max_request_size", "-1");
    assertThatThrownBy(builder::start)
        .as("a host refusing its config must fail start() with the host's own message")
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("max_request_size");
  }

  @Test
  void closeStopsTheProcessAndFreesThePort() {
    GraftServer server = GraftServer.builder(getClass().getSimpleName()).start();
    GraftClient client = server.client();
    assertThat(client.get("/models").status()).as("GET /models on a running host").isEqualTo(200);
    server.close();
    assertThat(server.isAlive()).as("process alive after close()").isFalse();
    assertThat(Files.exists(server.modelStore())).as("scratch store after close()").isFalse();
    assertThat(server.output()).as("output kept after close()").contains("bind to");
    assertThatThrownBy(() -> client.get("/models"))
        .as("requests after close() cannot connect")
        .isInstanceOf(UncheckedIOException.class);
  }
}
